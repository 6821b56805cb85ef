import Foundation

/// VPCEP endpoints (project-scoped, flat error bodies).
enum VPCEPHandlers {
    static func handle(_ request: APIRequest, state: inout CloudState, account a: Int, now: Date) throws(CloudError) -> APIResult {
        let project = request.parameter("project_id")
        switch request.api {
        case .vpcepDeleteEndpoint:
            let mutation = try state.deleteEndpoint(account: a, projectID: project, endpointID: request.parameter("vpc_endpoint_id"), now: now)
            let status = state.settings.vpcepDeleteStatus
            return APIResult(status: status, body: status == 204 ? nil : .object([]), mutation: mutation)

        case .vpcepShowEndpoint:
            let id = request.parameter("vpc_endpoint_id")
            guard let endpoint = state.visibleEndpoints(account: a, projectID: project, now: now).first(where: { $0.id == id }) else {
                throw CloudState.endpointNotFound(id)
            }
            return APIResult(status: 200, body: endpointJSON(endpoint))

        case .vpcepListEndpoints:
            let limit = try request.queryInt("limit") ?? 10
            guard (0...1000).contains(limit) else {
                throw CloudError(status: 400, code: "EndPoint.0006", message: "Invalid limit \(limit): must be between 0 and 1000.")
            }
            let offset = try request.queryInt("offset") ?? 0
            guard offset >= 0 else { throw request.parameterError("offset must not be negative") }
            let name = request.queryFilter("endpoint_service_name")?.lowercased()
            let vpcID = request.queryFilter("vpc_id")
            let id = request.queryFilter("id")
            let sortKey = request.queryFilter("sort_key") ?? "create_at"
            guard ["create_at", "update_at"].contains(sortKey) else { throw request.parameterError("sort_key must be create_at or update_at") }
            let sortDirection = request.queryFilter("sort_dir")?.lowercased() ?? "desc"
            guard ["asc", "desc"].contains(sortDirection) else { throw request.parameterError("sort_dir must be asc or desc") }
            let ascending = sortDirection == "asc"
            let matching = state.visibleEndpoints(account: a, projectID: project, now: now).filter { endpoint in
                if let name, !endpoint.serviceName.lowercased().contains(name) { return false }
                if let vpcID, endpoint.vpcID != vpcID { return false }
                if let id, endpoint.id != id { return false }
                return true
            }
            .sorted { lhs, rhs in
                let l = sortKey == "update_at" ? lhs.updatedAt : lhs.createdAt
                let r = sortKey == "update_at" ? rhs.updatedAt : rhs.createdAt
                return ascending ? (l, lhs.id) < (r, rhs.id) : (l, lhs.id) > (r, rhs.id)
            }
            return APIResult(status: 200, body: [
                "endpoints": .array(page(matching, offset: offset, limit: limit).map(endpointJSON)),
                "total_count": .int(Int64(matching.count)),
            ])

        default:
            throw CloudError.apiNotFound(method: request.api.method, path: request.api.template)
        }
    }

    static func endpointJSON(_ endpoint: Endpoint) -> JSON {
        [
            "id": .string(endpoint.id),
            "service_type": "interface",
            "status": .string(endpoint.deletingSince == nil ? endpoint.status : "deleting"),
            "active_status": ["active"],
            "endpoint_service_name": .string(endpoint.serviceName),
            "marker_id": .int(endpoint.markerID),
            "endpoint_service_id": .string(endpoint.serviceID),
            "enable_dns": false,
            "dns_names": [],
            "ip": .string(endpoint.ip),
            "vpc_id": .string(endpoint.vpcID),
            "subnet_id": .string(endpoint.subnetID),
            "created_at": .string(ISOTime.format(endpoint.createdAt)),
            "updated_at": .string(ISOTime.format(endpoint.updatedAt)),
            "project_id": .string(endpoint.projectID),
            "tags": [],
            "whitelist": [],
            "enable_whitelist": false,
            "description": "",
        ]
    }
}
