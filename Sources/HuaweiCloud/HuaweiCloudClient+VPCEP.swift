/// VPCEP: the VPC endpoints collection nodes use (flat error bodies; delete is asynchronous, ~1–2 minutes).
extension HuaweiCloudClient {
    /// `DELETE /v1/{project_id}/vpc-endpoints/{id}`: 200/202/204 are success; 404 `EndPoint.0005` is `.alreadyDone`.
    /// Poll `showEndpoint` until it returns `nil` to see the deletion finish.
    public func deleteEndpoint(projectID: String, endpointID: String) async throws(CloudError) {
        let request = CloudRequest(service: .vpcep, operation: "vpcep.delete_endpoint", kind: .delete, method: "DELETE",
                                   path: CloudRequest.path("v1", projectID, "vpc-endpoints", endpointID), scope: .project(projectID))
        try expectNoContentOrJSON(try await send(request), request: request)
    }

    /// `GET /v1/{project_id}/vpc-endpoints/{id}`; `nil` on `EndPoint.0005` (gone). Any other 404 (a proxy's page, a
    /// gateway's) is an error, not "gone".
    public func showEndpoint(projectID: String, endpointID: String) async throws(CloudError) -> VPCEndpoint? {
        let request = CloudRequest(service: .vpcep, operation: "vpcep.show_endpoint", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "vpc-endpoints", endpointID), scope: .project(projectID))
        do {
            return try await fetch(WireEndpoint.self, request).model
        } catch where error.code == "EndPoint.0005" {
            return nil
        }
    }

    /// `GET /v1/{project_id}/vpc-endpoints`, all pages of `limit` (1–1000), optionally in one VPC.
    public func listEndpoints(projectID: String, vpcID: String?, limit: Int) async throws(CloudError) -> [VPCEndpoint] {
        var request = CloudRequest(service: .vpcep, operation: "vpcep.list_endpoints", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "vpc-endpoints"), scope: .project(projectID))
        guard (1...1000).contains(limit) else {
            throw CloudError(service: .vpcep, operation: request.operation, message: "limit \(limit) is outside 1...1000",
                             classification: .permanent, hint: "pass a page size between 1 and 1000")
        }
        struct Page: Decodable {
            var total_count: Int?
            var endpoints: [WireEndpoint]?
        }
        return try await paginate(request, pageSize: limit, key: \.id) { (_, offset) async throws(CloudError) -> (items: [VPCEndpoint], total: Int?) in
            var query: [(String, String)] = [("limit", String(limit)), ("offset", String(offset))]
            if let vpcID { query.append(("vpc_id", vpcID)) }
            request.query = query
            let page = try await fetch(Page.self, request)
            return ((page.endpoints ?? []).map(\.model), page.total_count)
        }
    }
}

struct WireEndpoint: Decodable {
    var id: String
    var status: String
    var vpc_id: String?
    var endpoint_service_name: String?
    var ip: String?

    var model: VPCEndpoint { VPCEndpoint(id: id, status: status, vpcID: vpc_id, endpointServiceName: endpoint_service_name, ip: ip) }
}
