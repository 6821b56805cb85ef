import Foundation

/// SecMaster endpoints (project-scoped, flat error bodies, `X-Language` required on subscription APIs).
enum SecMasterHandlers {
    static func handle(_ request: APIRequest, state: inout CloudState, account a: Int, now: Date) throws(CloudError) -> APIResult {
        let project = request.parameter("project_id")
        switch request.api {
        case .secmasterListSubscriptionOrders:
            try requireLanguage(request)
            state.advance(account: a, to: now)
            let pageKind = (request.queryValue("page") ?? "DEFAULT").uppercased()
            guard ["DEFAULT", "PURCHASE", "RESOURCE_LIST", "USAGE", "SMN"].contains(pageKind) else {
                throw request.parameterError("page must be DEFAULT, PURCHASE, RESOURCE_LIST, USAGE or SMN")
            }
            let offset = try request.queryCount("offset") ?? 0
            let limit = try request.queryCount("limit") ?? 1000
            let account = state.accounts[a]
            // DEFAULT lists the opened resources without the value-added packages; the other pages include them.
            let resources = account.secmasterResources.filter { $0.projectID == project && (pageKind != "DEFAULT" || $0.kind == .quota) }
            var body: [(String, JSON)] = [
                ("csb_version", .string(state.edition(account: a, project: project))),
                ("resources", .array(page(resources, offset: offset, limit: limit).map { resourceJSON($0, withUsage: pageKind == "USAGE") })),
            ]
            if pageKind == "PURCHASE" || pageKind == "RESOURCE_LIST" {
                body.append(("ecs_count", .int(Int64(resources.filter { $0.kind == .quota }.reduce(0) { $0 + $1.size }))))
            }
            if pageKind == "SMN" { body += [("subscription_count", 0), ("subscriptions", [])] }
            return APIResult(status: 200, body: .object(body))

        case .secmasterDeleteSubscriptionOrder:
            try requireLanguage(request)
            let ids = try request.bodyStrings("resource_ids", required: false)
            // Omitted means every pay-per-use resource of the project; an empty list names none, which is a mistake.
            if ids?.isEmpty == true { throw request.parameterError("resource_ids must not be empty (omit it to cancel every pay-per-use resource of the project)") }
            let mutation = try state.deleteSecMasterResources(account: a, projectID: project, resourceIDs: ids, now: now)
            return APIResult(status: 204, body: nil, mutation: mutation)

        case .secmasterListWorkspaces:
            state.advance(account: a, to: now)
            let offset = try request.queryCount("offset") ?? 0
            let limit = try request.queryCount("limit") ?? 10
            try request.refuseUnmodelled(["view_bind_id", "view_bind_name", "normal_project_id", "create_time_start", "create_time_end"])
            let name = request.queryFilter("name")
            let ids = request.queryFilter("ids").map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
            let isView = try request.queryBool("is_view")
            let description = request.queryFilter("description")
            let region = request.queryFilter("region_id")
            let account = state.accounts[a]
            let matching = account.workspaces.filter { workspace in
                guard workspace.projectID == project else { return false }
                if let name, !workspace.name.contains(name) { return false }
                if let ids, !ids.contains(workspace.id) { return false }
                if isView == true { return false }  // no workspace here is a view
                if description != nil { return false }  // workspaces here have an empty description
                if let region, region != account.region { return false }
                return true
            }
            return APIResult(status: 200, body: [
                "count": .int(Int64(matching.count)),
                "workspaces": .array(page(matching, offset: offset, limit: limit).map { workspace in
                    [
                        "id": .string(workspace.id), "name": .string(workspace.name), "description": "",
                        "create_time": .string(ISOTime.format(workspace.createdAt)), "update_time": .string(ISOTime.format(workspace.createdAt)),
                        "project_id": .string(workspace.projectID), "domain_id": .string(account.domainID), "domain_name": .string(account.domainName),
                        "region_id": .string(account.region), "is_view": false, "enterprise_project_id": "0",
                    ]
                }),
            ])

        case .secmasterListNodes:
            state.advance(account: a, to: now)
            let workspace = try findWorkspace(request, state: state, account: a)
            let offset = try request.queryCount("offset") ?? 0
            let limit = try request.queryCount("limit") ?? 10
            let nodeID = request.queryFilter("node_id")
            let nodeName = request.queryFilter("node_name")
            // Sorting: the SDK passes sort_key/sort_dir through; the simulator's choice of keys (not documented).
            // The SDKs type `sort_key` as an integer (Python `int`, Go `*int64`) with no documented meaning: a number
            // sorts by creation time, the default.
            let requestedKey = request.queryFilter("sort_key") ?? "create_time"
            let sortKey = requestedKey.allSatisfy(\.isNumber) ? "create_time" : requestedKey
            let sortKeys = ["create_time", "node_name", "node_id", "private_ip_address"]
            guard sortKeys.contains(sortKey) else { throw request.parameterError("sort_key must be one of \(sortKeys.joined(separator: ", "))") }
            let sortDirection = request.queryValue("sort_dir")?.lowercased() ?? "desc"
            guard ["asc", "desc"].contains(sortDirection) else { throw request.parameterError("sort_dir must be asc or desc") }
            var matching = workspace.nodes.filter { node in
                if let nodeID, node.nodeID != nodeID { return false }
                if let nodeName, !node.nodeName.contains(nodeName) { return false }
                return true
            }
            func key(_ node: CollectionNode) -> String {
                switch sortKey {
                case "node_name": node.nodeName
                case "node_id": node.nodeID
                case "private_ip_address": node.privateIP
                default: ISOTime.format(node.createdAt)
                }
            }
            // Ties are broken by node id, so the order is total and pages never overlap.
            matching.sort { first, second in
                let (a, b) = (key(first), key(second))
                if a == b { return first.nodeID < second.nodeID }
                return sortDirection == "asc" ? a < b : a > b
            }
            return APIResult(status: 200, body: [
                "count": .int(Int64(matching.count)),
                "records": .array(page(matching, offset: offset, limit: limit).map(nodeJSON)),
            ])

        case .secmasterDeleteNodes:
            _ = try findWorkspace(request, state: state, account: a)
            guard let ids = try request.bodyStrings("delete_ids", required: true), !ids.isEmpty else {
                throw request.parameterError("delete_ids must not be empty")
            }
            let (mutation, deleted, failed) = try state.deleteNodes(account: a, projectID: project, workspaceID: request.parameter("workspace_id"), nodeIDs: ids, now: now)
            return APIResult(status: 200, body: [
                "delete_success_list": .array(deleted.map(nodeJSON)),
                "delete_fail_list": .array(failed.map { ["node_id": .string($0)] }),
            ], mutation: mutation)

        default:
            throw CloudError.apiNotFound(method: request.api.method, path: request.api.template)
        }
    }

    private static func requireLanguage(_ request: APIRequest) throws(CloudError) {
        guard let language = request.header("X-Language"), ["zh-cn", "en-us"].contains(language.lowercased()) else {
            throw request.parameterError("header X-Language is required and must be zh-cn or en-us, got '\(request.header("X-Language") ?? "")'")
        }
    }

    private static func findWorkspace(_ request: APIRequest, state: CloudState, account a: Int) throws(CloudError) -> Workspace {
        let id = request.parameter("workspace_id")
        guard let workspace = state.accounts[a].workspaces.first(where: { $0.id == id && $0.projectID == request.parameter("project_id") }) else {
            throw CloudError(status: 404, code: state.settings.secmasterNotFoundCode, message: "Workspace \(id) was not found.")
        }
        return workspace
    }

    static func resourceJSON(_ resource: SecMasterResource, withUsage: Bool) -> JSON {
        var fields: [(String, JSON)] = [
            ("resource_id", .string(resource.resourceID)),
            ("resource_type_name", .string(resource.resourceTypeName)),
            ("resource_size", .int(Int64(resource.size))),
            ("cloud_service", "hws.service.type.secmaster"),
            ("resource_type", .string(resource.resourceType)),
            ("resource_spec_code", .string(resource.specCode)),
            ("to_period", false),
            ("create_time", .int(ISOTime.milliseconds(resource.createdAt))),
            ("update_time", .int(ISOTime.milliseconds(resource.createdAt))),
            ("resource_status", 0),
            ("charging_mode", .string(resource.chargingMode.rawValue)),
            ("tag_list", []),
        ]
        if resource.chargingMode == .prepaid {
            fields.append(("expire_time", resource.expireAt.map { .int(ISOTime.milliseconds($0)) } ?? .null))
            fields.append(("order_id", .optional(resource.orderID)))
        }
        if withUsage {
            fields.append(("usages", [["unit": "OPS", "used": 0, "free": .double(Double(resource.size)), "quota": .double(Double(resource.size)), "used_percent": 0]]))
        }
        return .object(fields)
    }

    static func nodeJSON(_ node: CollectionNode) -> JSON {
        [
            "node_id": .string(node.nodeID), "node_name": .string(node.nodeName), "ip_address": .string(node.privateIP),
            "private_ip_address": .string(node.privateIP), "vpc_id": .string(node.vpcID), "subnet_id": .string(node.subnetID),
            "vpc_endpoint_id": .string(node.vpcEndpointID), "vpc_endpoint_address": .string(node.vpcEndpointAddress),
            "vpcep_service_ip": .string(node.vpcEndpointAddress), "os_type": "Linux", "specification": "4C8G",
            "region": .string(node.region), "create_time": .int(ISOTime.milliseconds(node.createdAt)),
            "update_time": .int(ISOTime.milliseconds(node.createdAt)),
        ]
    }
}
