/// ECS: delete pay-per-use collection-node servers and watch the job and the servers (nested error bodies).
extension HuaweiCloudClient {
    public static let maxDeleteServers = 1000

    /// `POST /v1/{project_id}/cloudservers/delete`; returns the job id. Asynchronous: poll `showJob`, then `showServer`
    /// until the server is gone ("the instance may still exist after the job succeeded").
    ///
    /// Only pay-per-use servers can be deleted this way; yearly/monthly ones go through BSS `unsubscribeResources`.
    public func deleteServers(projectID: String, serverIDs: [String], deletePublicIP: Bool, deleteVolume: Bool) async throws(CloudError) -> String {
        let operation = "ecs.delete_servers"
        guard !serverIDs.isEmpty, serverIDs.count <= Self.maxDeleteServers else {
            throw CloudError(service: .ecs, operation: operation,
                             message: "\(serverIDs.count) server ids given; ECS accepts 1 to \(Self.maxDeleteServers) per call",
                             classification: .permanent, hint: "split the ids into batches (a workflow bug)")
        }
        struct ServerID: Encodable { var id: String }
        struct Body: Encodable {
            var servers: [ServerID]
            var delete_publicip: Bool
            var delete_volume: Bool
        }
        let request = CloudRequest(service: .ecs, operation: operation, kind: .delete, method: "POST",
                                   path: CloudRequest.path("v1", projectID, "cloudservers", "delete"), scope: .project(projectID),
                                   body: Self.json(Body(servers: serverIDs.map(ServerID.init), delete_publicip: deletePublicIP, delete_volume: deleteVolume)))
        struct Answer: Decodable { var job_id: String }
        let response = try await send(request)
        let answer = try decode(Answer.self, response, request: request)
        guard !answer.job_id.isEmpty else {
            throw malformed("field 'job_id' is empty", response: response, request: request)
        }
        return answer.job_id
    }

    /// `GET /v1/{project_id}/jobs/{job_id}`; `nil` when the job is unknown or purged (404: finished jobs are deleted
    /// a day later) — a 404 with ECS's own error body only: one from a proxy or load balancer says nothing about the job.
    public func showJob(projectID: String, jobID: String) async throws(CloudError) -> ECSJob? {
        let request = CloudRequest(service: .ecs, operation: "ecs.show_job", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "jobs", jobID), scope: .project(projectID))
        do {
            return try await fetch(WireJob.self, request).model
        } catch where error.httpStatus == 404 && Self.isServiceErrorCode(error.code) {
            return nil
        }
    }

    /// `GET /v1/{project_id}/cloudservers/{server_id}`; `nil` on `Ecs.0114` (the server no longer exists). Any other
    /// 404 (a proxy's or a load balancer's HTML page, a gateway's) is an error: taken for "gone", it left pay-per-use
    /// servers running while the teardown reported them removed.
    public func showServer(projectID: String, serverID: String) async throws(CloudError) -> ECSServer? {
        let request = CloudRequest(service: .ecs, operation: "ecs.show_server", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "cloudservers", serverID), scope: .project(projectID))
        struct Answer: Decodable { var server: WireServer }
        do {
            return try await fetch(Answer.self, request).server.model
        } catch where error.code == "Ecs.0114" {
            return nil
        }
    }

    /// Servers per page of ``listServers(projectID:)``.
    public static let serverPageSize = 100

    /// `GET /v1/{project_id}/cloudservers/detail`, all pages (ECS paging: `offset` is a 1-based page number).
    public func listServers(projectID: String) async throws(CloudError) -> [ECSServer] {
        let pageSize = Self.serverPageSize
        var request = CloudRequest(service: .ecs, operation: "ecs.list_servers", kind: .read, method: "GET",
                                   path: CloudRequest.path("v1", projectID, "cloudservers", "detail"), scope: .project(projectID))
        struct Page: Decodable {
            var count: Int?
            var servers: [WireServer]?
        }
        return try await paginate(request, pageSize: pageSize, key: \.id) { (pageIndex, _) async throws(CloudError) -> (items: [ECSServer], total: Int?) in
            request.query = [("offset", String(pageIndex + 1)), ("limit", String(pageSize))]
            let page = try await fetch(Page.self, request)
            return ((page.servers ?? []).map(\.model), page.count)
        }
    }

    static func isGatewayCode(_ code: String?) -> Bool {
        guard let code else { return false }
        return code.hasPrefix("APIGW.") || code.hasPrefix("APIG.")
    }

    /// An error code of the service itself: the answer carried a Huawei Cloud error body, not a gateway's (`APIGW.`).
    static func isServiceErrorCode(_ code: String?) -> Bool {
        guard let code, !code.isEmpty else { return false }
        return !isGatewayCode(code)
    }
}

// MARK: Wire format

struct WireJob: Decodable {
    var job_id: String?
    var job_type: String?
    var status: String
    var error_code: String?
    var fail_reason: String?
    var entities: Entities?

    struct Entities: Decodable {
        var sub_jobs: [SubJob]?
    }

    struct SubJob: Decodable {
        var job_id: String?
        var status: String
        var error_code: String?
        var fail_reason: String?
        var entities: SubEntities?
    }

    struct SubEntities: Decodable {
        var server_id: String?
        var errorcode_message: String?
    }

    var model: ECSJob {
        ECSJob(
            jobID: job_id ?? "", jobType: job_type, status: ECSJob.Status(rawValue: status),
            subJobs: (entities?.sub_jobs ?? []).map {
                ECSJob.SubJob(jobID: $0.job_id, serverID: $0.entities?.server_id, status: ECSJob.Status(rawValue: $0.status),
                              errorCode: $0.error_code, failReason: $0.fail_reason ?? $0.entities?.errorcode_message)
            },
            errorCode: error_code, failReason: fail_reason)
    }
}

struct WireServer: Decodable {
    var id: String
    var name: String?
    var status: String
    var metadata: [String: String]?
    var addresses: [String: [Address]]?
    var taskState: String?

    enum CodingKeys: String, CodingKey {
        case id, name, status, metadata, addresses
        case taskState = "OS-EXT-STS:task_state"
    }

    struct Address: Decodable {
        var addr: String?
        var type: String?

        enum CodingKeys: String, CodingKey {
            case addr
            case type = "OS-EXT-IPS:type"
        }
    }

    var model: ECSServer {
        let all = (addresses ?? [:]).sorted { $0.key < $1.key }
        let entries = all.flatMap(\.value)
        return ECSServer(
            id: id, name: name ?? "", status: status,
            chargingMode: metadata?["charging_mode"].map { ChargingMode(ecsMetadata: $0) },
            vpcID: metadata?["vpc_id"] ?? all.first?.key,
            privateIPs: entries.filter { $0.type != "floating" }.compactMap(\.addr),
            publicIPs: entries.filter { $0.type == "floating" }.compactMap(\.addr), taskState: taskState)
    }
}
