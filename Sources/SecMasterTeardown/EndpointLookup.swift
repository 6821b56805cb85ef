import HuaweiCloud
import UnwindCore

/// Reads the live state of a set of VPC endpoints in as few calls as VPCEP allows: one `ListEndpoints` per VPC
/// (with `confirmAbsence`, only per VPC holding two or more of them), one `ShowEndpoint` for the others. A collection account usually has several
/// endpoints in one VPC, and every check of a deletion read each one: a third of a fleet's VPCEP calls, and
/// calls count against the account's rate limit.
struct EndpointLookup {
    let client: HuaweiCloudClient
    let projectID: String

    /// VPCEP's largest page. An endpoint missing from a list that needed more than one page is read on its own:
    /// offset paging over a list that changes between pages (endpoints finishing their deletion) can skip one.
    static let pageSize = 1000
    /// From this many endpoints to read on their own, one list of the project's endpoints is cheaper.
    static let listProjectFrom = 4

    /// The endpoints among `wanted` that VPCEP still shows (including those still `deleting`), by id. An id
    /// absent from the result is gone.
    /// - Parameter confirmAbsence: read on its own every endpoint a list did not show. For VPC ids that did not
    ///   come from VPCEP itself (a collection node's VPC, say), where a mismatch must not make an endpoint vanish.
    func live(_ wanted: [(id: String, vpcID: String?)], confirmAbsence: Bool = false) async throws(StepFailure) -> [String: VPCEndpoint] {
        var found: [String: VPCEndpoint] = [:]
        var readAlone: [String] = []
        var byVPC: [String: [String]] = [:]
        for endpoint in wanted {
            if let vpc = endpoint.vpcID { byVPC[vpc, default: []].append(endpoint.id) } else { readAlone.append(endpoint.id) }
        }
        for (vpc, ids) in byVPC.sorted(by: { $0.key < $1.key }) {
            // One endpoint: a list costs the same one call as a read, but its absence from a list only proves it
            // gone when the VPC id came from VPCEP (not `confirmAbsence`). Listing then keeps a deletion's checks
            // the same shape whether its endpoints finish together or one by one.
            guard ids.count > 1 || !confirmAbsence else {
                readAlone += ids
                continue
            }
            let project = projectID
            // `nil` would mean VPCEP answered "not found" for a list: no evidence either way, so read each one.
            guard let listed = try await cloud({ () async throws(CloudError) in
                try await client.listEndpoints(projectID: project, vpcID: vpc, limit: Self.pageSize)
            }) else {
                readAlone += ids
                continue
            }
            let wantedHere = Set(ids)
            for endpoint in listed where wantedHere.contains(endpoint.id) { found[endpoint.id] = endpoint }
            if confirmAbsence || listed.count >= Self.pageSize { readAlone += ids.filter { found[$0] == nil } }
        }
        if readAlone.count >= Self.listProjectFrom {
            // Many to read one by one (endpoints in VPCs of their own, or nodes that name no VPC): one list of the
            // project's endpoints answers them all. Without a VPC filter no VPC id can be wrong, so an endpoint
            // missing from a list of one page is gone; a longer list can skip one while it changes, so those are
            // still read on their own.
            let project = projectID
            if let listed = try await cloud({ () async throws(CloudError) in
                try await client.listEndpoints(projectID: project, vpcID: nil, limit: Self.pageSize)
            }) {
                let wanted = Set(readAlone)
                for endpoint in listed where wanted.contains(endpoint.id) { found[endpoint.id] = endpoint }
                readAlone = listed.count < Self.pageSize ? [] : readAlone.filter { found[$0] == nil }
            }
        }
        for id in readAlone {
            let project = projectID
            if let endpoint = try await cloud({ () async throws(CloudError) in try await client.showEndpoint(projectID: project, endpointID: id) }) ?? nil {
                found[id] = endpoint
            }
        }
        return found
    }
}
