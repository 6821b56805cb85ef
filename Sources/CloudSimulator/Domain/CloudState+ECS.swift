import Foundation

extension CloudState {
    static func ecsError(_ status: Int, _ code: String, _ message: String, isRepeat: Bool = false) -> CloudError {
        CloudError(status: status, code: code, message: message, shape: .nested, isRepeat: isRepeat)
    }

    static func serverNotFound(_ id: String) -> CloudError {
        ecsError(404, "Ecs.0114", "Instance[\(id)] could not be found.")
    }

    /// ECS `DeleteServers`: accepted servers get a job; the job later deletes them (see `advance(to:)`).
    ///
    /// - Parameter failJob: an injected `job_fail` fault: every sub-job of the new job fails and nothing is deleted.
    public mutating func deleteServers(
        account a: Int, projectID: String, serverIDs: [String], deletePublicIP: Bool?, deleteVolume: Bool,
        failJob: Bool, now: Date
    ) throws(CloudError) -> Mutation {
        advance(account: a, to: now)
        guard !serverIDs.isEmpty else { throw Self.ecsError(400, "Ecs.0005", "Request parameter error: servers must not be empty.") }
        guard serverIDs.count <= 1000 else {
            throw Self.ecsError(400, "Ecs.0005", "Request parameter error: at most 1000 servers per request (got \(serverIDs.count)).")
        }
        if settings.ecsPrepaidDelete == .reject {
            let prepaid = serverIDs.filter { id in accounts[a].servers.contains { $0.id == id && $0.projectID == projectID && $0.deletedAt == nil && $0.chargingMode == .prepaid } }
            if !prepaid.isEmpty {
                throw Self.ecsError(400, settings.ecsPrepaidCode, "Only ECSs billed in the pay-per-use mode can be deleted; unsubscribe yearly/monthly servers \(prepaid.joined(separator: ", ")) through BSS.")
            }
        }
        let jobID = newHexID()
        let runSeconds = settings.ecsJobRunSecondsMin + (settings.ecsJobRunSecondsMax - settings.ecsJobRunSecondsMin) * rng.unit()
        var mutation = Mutation()
        var subJobs: [Job.SubJob] = []
        for id in serverIDs {
            let subID = newHexID()
            guard let s = accounts[a].servers.firstIndex(where: { $0.id == id && $0.projectID == projectID }),
                  accounts[a].servers[s].deletedAt == nil
            else {
                let existed = accounts[a].servers.contains { $0.id == id }
                subJobs.append(.init(jobID: subID, serverID: id, failure: ("Ecs.0114", "Instance[\(id)] could not be found.")))
                mutation.effects.append(LedgerEffect(resourceID: id, action: existed ? "already_deleted" : "not_found", changed: false))
                continue
            }
            let server = accounts[a].servers[s]
            if server.chargingMode == .prepaid {
                subJobs.append(.init(jobID: subID, serverID: id, failure: (settings.ecsPrepaidCode, "Only ECSs billed in the pay-per-use mode can be deleted.")))
                mutation.effects.append(LedgerEffect(resourceID: id, action: "refused_prepaid", changed: false))
            } else if failJob {
                subJobs.append(.init(jobID: subID, serverID: id, failure: ("Ecs.0002", "System exception: failed to delete the server (injected job_fail fault).")))
                mutation.effects.append(LedgerEffect(resourceID: id, action: "delete_failed", changed: false))
            } else if let running = server.deletingJobID {
                // Already being deleted by another job: this sub-job reports success without doing anything.
                subJobs.append(.init(jobID: subID, serverID: id, failure: nil))
                mutation.effects.append(LedgerEffect(resourceID: id, action: "delete_in_progress:\(running)", changed: false))
            } else {
                accounts[a].servers[s].deletingJobID = jobID
                subJobs.append(.init(jobID: subID, serverID: id, failure: nil))
                mutation.effects.append(LedgerEffect(resourceID: id, action: "delete_started", changed: true))
            }
        }
        let running = now.addingTimeInterval(settings.ecsJobInitSeconds)
        accounts[a].jobs.append(Job(
            jobID: jobID, projectID: projectID, createdAt: now, runningAt: running, endsAt: running.addingTimeInterval(runSeconds),
            subJobs: subJobs, deletePublicIP: deletePublicIP, deleteVolume: deleteVolume, effectsApplied: false
        ))
        mutation.references = [jobID]
        return mutation
    }

    /// A job as ShowJob sees it; 404 once purged.
    public mutating func job(account a: Int, projectID: String, jobID: String, now: Date) throws(CloudError) -> Job {
        advance(account: a, to: now)
        guard let job = accounts[a].jobs.first(where: { $0.jobID == jobID && $0.projectID == projectID }) else {
            throw Self.ecsError(404, "Ecs.0000", "Job \(jobID) does not exist or has been purged.")
        }
        return job
    }

    /// Servers visible at `now`: existing ones, and deleted ones for `serverLingerSeconds` after deletion.
    public mutating func visibleServers(account a: Int, projectID: String, now: Date) -> [Server] {
        advance(account: a, to: now)
        let linger = settings.serverLingerSeconds
        return accounts[a].servers.filter { server in
            guard server.projectID == projectID else { return false }
            guard let deleted = server.deletedAt else { return true }
            return now.timeIntervalSince(deleted) < linger
        }
    }

    public mutating func server(account a: Int, projectID: String, serverID: String, now: Date) throws(CloudError) -> Server {
        guard let server = visibleServers(account: a, projectID: projectID, now: now).first(where: { $0.id == serverID }) else {
            throw Self.serverNotFound(serverID)
        }
        return server
    }
}
