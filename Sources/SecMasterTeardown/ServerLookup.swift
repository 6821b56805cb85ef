import HuaweiCloud
import UnwindCore

/// Reads the live state of a set of ECS servers in as few calls as ECS allows: each on its own when there are a
/// few, else the project's server list (one call per 100 servers). An account with a hundred collection servers
/// read them one by one in every check: under ECS's per-account rate limit that alone outlasted a step's timeout.
struct ServerLookup {
    let client: HuaweiCloudClient
    let projectID: String

    /// From this many servers on, the list is cheaper than reading each.
    static let listFrom = 4

    /// The servers among `ids` that ECS still shows (deleted ones included, with their status), by id. An id
    /// absent from the result is gone.
    func live(_ ids: [String]) async throws(StepFailure) -> [String: ECSServer] {
        let project = projectID
        guard ids.count >= Self.listFrom else {
            var found: [String: ECSServer] = [:]
            for id in ids {
                if let server = try await cloud({ () async throws(CloudError) in try await client.showServer(projectID: project, serverID: id) }) ?? nil {
                    found[id] = server
                }
            }
            return found
        }
        let wanted = Set(ids)
        func listed() async throws(StepFailure) -> (servers: [String: ECSServer], pages: Int) {
            let all = try await cloud({ () async throws(CloudError) in try await client.listServers(projectID: project) }) ?? []
            var found: [String: ECSServer] = [:]
            for server in all where wanted.contains(server.id) { found[server.id] = server }
            let perPage = HuaweiCloudClient.serverPageSize
            return (found, max(1, (all.count + perPage - 1) / perPage))
        }
        var (found, pages) = try await listed()
        // Offset paging over a list that changes between pages (another server created or removed) can skip one:
        // a server missing from a list of several pages counts as gone only when a second listing agrees.
        if pages > 1, found.count < wanted.count {
            let again = try await listed().servers
            for (id, server) in again where found[id] == nil { found[id] = server }
        }
        return found
    }
}
