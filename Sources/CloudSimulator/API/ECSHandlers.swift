import Foundation

/// ECS endpoints (project-scoped, nested error bodies).
enum ECSHandlers {
    static func handle(_ request: APIRequest, state: inout CloudState, account a: Int, now: Date, faults: HandlerFaults) throws(CloudError) -> APIResult {
        let project = request.parameter("project_id")
        switch request.api {
        case .ecsDeleteServers:
            guard let servers = try request.bodyObject()["servers"]?.arrayValue else { throw request.parameterError("servers is required") }
            var ids: [String] = []
            for item in servers {
                guard let id = item["id"]?.stringValue else { throw request.parameterError("each server needs an id") }
                if !ids.contains(id) { ids.append(id) }  // one sub-job per server, however often it is named
            }
            let mutation = try state.deleteServers(
                account: a, projectID: project, serverIDs: ids,
                deletePublicIP: try request.bodyBool("delete_publicip"), deleteVolume: try request.bodyBool("delete_volume") ?? false,
                failJob: faults.failJob, now: now
            )
            return APIResult(status: 200, body: ["job_id": .string(mutation.references.first ?? "")], mutation: mutation)

        case .ecsShowJob:
            let job = try state.job(account: a, projectID: project, jobID: request.parameter("job_id"), now: now)
            return APIResult(status: 200, body: jobJSON(job, now: now))

        case .ecsShowServer:
            let server = try state.server(account: a, projectID: project, serverID: request.parameter("server_id"), now: now)
            return APIResult(status: 200, body: ["server": serverJSON(server, account: state.accounts[a])])

        case .ecsListServers:
            // ECS paging: `offset` is a page number starting at 1, `limit` defaults to 25 (max 1000).
            let pageNumber = max(1, try request.queryCount("offset") ?? 1)
            let limit = try request.queryInt("limit") ?? 25
            guard (0...1000).contains(limit) else { throw request.parameterError("limit must be between 0 and 1000") }
            try request.refuseUnmodelled(["flavor", "tags", "not-tags", "reservation_id"])
            let name = request.queryFilter("name")
            let status = request.queryFilter("status")
            let ip = request.queryFilter("ip")
            let ipEqual = request.queryFilter("ip_eq")
            let serverID = request.queryFilter("server_id")
            var all = state.visibleServers(account: a, projectID: project, now: now).filter { server in
                // The real API: with `server_id`, the other filters are ignored.
                if let serverID { return serverID.split(separator: ",").contains(Substring(server.id)) }
                if let name, !server.name.contains(name) { return false }
                if let status, displayStatus(server) != status { return false }
                if let ip, !server.privateIP.hasPrefix(ip) { return false }
                if let ipEqual, server.privateIP != ipEqual { return false }
                return true
            }
            let account = state.accounts[a]
            let count = all.count
            // `marker` pages by the id of the last server of the previous page, instead of `offset`.
            var offset = (pageNumber - 1).multipliedReportingOverflow(by: limit).overflow ? Int.max : (pageNumber - 1) * limit
            if let marker = request.queryFilter("marker") {
                guard let position = all.firstIndex(where: { $0.id == marker }) else {
                    throw request.parameterError("marker '\(marker)' is not a server of this listing")
                }
                all = Array(all[(position + 1)...])
                offset = 0
            }
            return APIResult(status: 200, body: [
                "count": .int(Int64(count)),
                "servers": .array(page(all, offset: offset, limit: limit).map { serverJSON($0, account: account) }),
            ])

        default:
            throw CloudError.apiNotFound(method: request.api.method, path: request.api.template)
        }
    }

    static func displayStatus(_ server: Server) -> String { server.deletedAt == nil ? server.status : "DELETED" }

    /// An OpenStack-style MAC (`fa:16:3e:…`) derived from the server id: distinct per server, stable across calls.
    static func macAddress(of serverID: String) -> String {
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in serverID.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return "fa:16:3e:" + [hash >> 16, hash >> 8, hash].map { String(format: "%02x", $0 & 0xFF) }.joined(separator: ":")
    }

    static func jobJSON(_ job: Job, now: Date) -> JSON {
        let status = job.status(at: now)
        let finished = status == .success || status == .fail
        let failed = job.subJobs.first { $0.failure != nil }
        return [
            "status": .string(status.rawValue),
            "entities": [
                "sub_jobs_total": .int(Int64(job.subJobs.count)),
                "sub_jobs": .array(job.subJobs.map { sub in
                    let subStatus = job.subJobStatus(sub, at: now)
                    let subFailed = subStatus == .fail
                    return [
                        "status": .string(subStatus.rawValue),
                        "entities": subFailed
                            ? ["server_id": .string(sub.serverID), "errorcode_message": .optional(sub.failure?.reason)]
                            : ["server_id": .string(sub.serverID)],
                        "job_id": .string(sub.jobID), "job_type": "deleteVM",
                        "begin_time": .string(ISOTime.format(job.runningAt)),
                        "end_time": finished ? .string(ISOTime.format(job.endsAt)) : .null,
                        "error_code": subFailed ? .optional(sub.failure?.code) : .null,
                        "fail_reason": subFailed ? .optional(sub.failure?.reason) : .null,
                    ]
                }),
            ],
            "job_id": .string(job.jobID),
            "job_type": "deleteVMs",
            "begin_time": .string(ISOTime.format(job.createdAt)),
            "end_time": finished ? .string(ISOTime.format(job.endsAt)) : .null,
            "error_code": status == .fail ? .optional(failed?.failure?.code) : .null,
            "fail_reason": status == .fail ? .optional(failed?.failure?.reason) : .null,
        ]
    }

    static func serverJSON(_ server: Server, account: Account) -> JSON {
        let status = displayStatus(server)
        var addresses: [JSON] = [[
            "version": "4", "addr": .string(server.privateIP), "OS-EXT-IPS:type": "fixed",
            "OS-EXT-IPS-MAC:mac_addr": .string(macAddress(of: server.id)), "OS-EXT-IPS:port_id": .string(server.id + "-port"),
        ]]
        for ip in server.publicIPs {
            addresses.append(["version": "4", "addr": .string(ip.address), "OS-EXT-IPS:type": "floating"])
        }
        return [
            "id": .string(server.id),
            "name": .string(server.name),
            "status": .string(status),
            "created": .string(ISOTime.format(server.createdAt)),
            "updated": .string(ISOTime.format(server.deletedAt ?? server.createdAt)),
            "tenant_id": .string(server.projectID),
            "user_id": .string(account.domainID),
            "addresses": .object([(server.vpcID, .array(addresses))]),
            "metadata": ["charging_mode": .string(server.chargingMode.metadataValue), "vpc_id": .string(server.vpcID)],
            "flavor": ["id": "s6.large.2", "name": "s6.large.2", "disk": "0", "vcpus": "2", "ram": "4096"],
            "OS-EXT-STS:vm_state": .string(status == "DELETED" ? "deleted" : status == "SHUTOFF" ? "stopped" : "active"),
            "OS-EXT-STS:task_state": server.deletingJobID == nil ? .null : "deleting",
            "OS-EXT-AZ:availability_zone": .string(account.region + "a"),
            "os-extended-volumes:volumes_attached": .array(server.dataVolumeIDs.map { ["id": .string($0)] }),
            "locked": false,
            "tags": [],
        ]
    }
}
