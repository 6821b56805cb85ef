import Foundation

/// SecMaster: subscription resources (edition, quotas, packages), workspaces and collection nodes.
/// Every call carries `X-Language: en-us` (required by the subscription APIs) and `X-Project-Id`.
extension HuaweiCloudClient {
    /// `GET /v1/{project_id}/subscriptions/orders?page=RESOURCE_LIST`, all pages: the edition and every quota and
    /// value-added package, each with its charging mode.
    public func listSubscriptionResources(projectID: String) async throws(CloudError) -> SecMasterSubscription {
        let pageSize = 100
        var request = CloudRequest(service: .secmaster, operation: "secmaster.list_subscription_orders", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "subscriptions", "orders"), scope: .project(projectID))
        var version: String?
        let resources = try await paginate(request, pageSize: pageSize, key: \.resourceID) { (_, offset) async throws(CloudError) -> (items: [SecMasterResource], total: Int?) in
            request.query = [("page", "RESOURCE_LIST"), ("offset", String(offset)), ("limit", String(pageSize))]
            let page = try await fetch(WireSubscriptionPage.self, request)
            version = version ?? page.csb_version
            return ((page.resources ?? []).map(\.model), nil)
        }
        return SecMasterSubscription(csbVersion: version ?? "NA", resources: resources)
    }

    /// `DELETE /v1/{project_id}/subscriptions/orders` with `{"resource_ids": [...]}`: cancels pay-per-use resources.
    ///
    /// An empty list is refused before sending: the API treats a missing list as "every pay-per-use resource".
    /// A 404 means the resources are already gone: `CloudError` with `.alreadyDone`.
    public func deletePayPerUseSubscriptions(projectID: String, resourceIDs: [String]) async throws(CloudError) {
        let operation = "secmaster.delete_subscription_order"
        guard !resourceIDs.isEmpty else {
            throw CloudError(service: .secmaster, operation: operation, message: "no resource ids given",
                             classification: .permanent, hint: "pass the ids of the POSTPAID resources to cancel; an empty list would cancel every pay-per-use resource and is never sent")
        }
        struct Body: Encodable { var resource_ids: [String] }
        let request = CloudRequest(service: .secmaster, operation: operation, kind: .delete, method: "DELETE",
                                   path: CloudRequest.path("v1", projectID, "subscriptions", "orders"), scope: .project(projectID),
                                   body: Self.json(Body(resource_ids: resourceIDs)))
        try expectNoContentOrJSON(try await send(request), request: request)
    }

    /// `GET /v1/{project_id}/workspaces`, all pages.
    public func listWorkspaces(projectID: String) async throws(CloudError) -> [SecMasterWorkspace] {
        let pageSize = 100
        var request = CloudRequest(service: .secmaster, operation: "secmaster.list_workspaces", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "workspaces"), scope: .project(projectID))
        return try await paginate(request, pageSize: pageSize, key: \.id) { (_, offset) async throws(CloudError) -> (items: [SecMasterWorkspace], total: Int?) in
            request.query = [("offset", String(offset)), ("limit", String(pageSize))]
            let page = try await fetch(WireWorkspacePage.self, request)
            return ((page.workspaces ?? []).map(\.model), page.count)
        }
    }

    /// `GET /v1/{project_id}/workspaces/{workspace_id}/nodes`, all pages.
    public func listCollectionNodes(projectID: String, workspaceID: String) async throws(CloudError) -> [CollectionNode] {
        let pageSize = 100
        var request = CloudRequest(service: .secmaster, operation: "secmaster.list_nodes", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "workspaces", workspaceID, "nodes"), scope: .project(projectID))
        return try await paginate(request, pageSize: pageSize, key: \.nodeID) { (_, offset) async throws(CloudError) -> (items: [CollectionNode], total: Int?) in
            request.query = [("offset", String(offset)), ("limit", String(pageSize))]
            let page = try await fetch(WireNodePage.self, request)
            return ((page.records ?? []).map(\.model), page.count)
        }
    }
}

// MARK: Wire format (snake_case as sent; only what the models need)

struct WireSubscriptionPage: Decodable {
    var csb_version: String
    var resources: [WireSecMasterResource]?
}

struct WireSecMasterResource: Decodable {
    var resource_id: String
    var resource_type: String?
    var resource_type_name: String?
    var resource_spec_code: String?
    var charging_mode: String
    var order_id: String?
    var expire_time: Int64?
    var resource_size: FlexibleInt?
    var resource_status: FlexibleInt?
    var cloud_service: String?

    var model: SecMasterResource {
        SecMasterResource(
            resourceID: resource_id, resourceType: resource_type ?? "", resourceTypeName: resource_type_name ?? "",
            resourceSpecCode: resource_spec_code, chargingMode: ChargingMode(secmaster: charging_mode), orderID: order_id,
            expireTime: expire_time.map { Date(timeIntervalSince1970: Double($0) / 1000) }, resourceSize: resource_size?.value,
            resourceStatus: resource_status?.value, cloudService: cloud_service
        )
    }
}

struct WireWorkspacePage: Decodable {
    var count: Int?
    var workspaces: [WireWorkspace]?
}

struct WireWorkspace: Decodable {
    var id: String
    var name: String
    var project_id: String?
    var region_id: String?

    var model: SecMasterWorkspace { SecMasterWorkspace(id: id, name: name, projectID: project_id, regionID: region_id) }
}

struct WireNodePage: Decodable {
    var count: Int?
    var records: [WireNode]?
}

struct WireNode: Decodable {
    var node_id: String
    var node_name: String?
    var vpc_endpoint_id: String?
    var private_ip_address: String?
    var ip_address: String?
    var vpc_id: String?
    var subnet_id: String?
    var region: String?

    var model: CollectionNode {
        CollectionNode(nodeID: node_id, nodeName: node_name ?? "", vpcEndpointID: vpc_endpoint_id.flatMap { $0.isEmpty ? nil : $0 },
                       privateIP: private_ip_address, ipAddress: ip_address, vpcID: vpc_id, subnetID: subnet_id, region: region)
    }
}
