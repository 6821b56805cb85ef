import Foundation

extension CloudState {
    static func endpointNotFound(_ id: String, isRepeat: Bool = false) -> CloudError {
        CloudError(status: 404, code: "EndPoint.0005", message: "The requested resource does not exist: \(id)", isRepeat: isRepeat)
    }

    /// VPCEP `DeleteEndpoint`: the endpoint turns `deleting`, then disappears after `vpcepDeletingSeconds`.
    /// Deleting an endpoint already `deleting` succeeds again without changing anything.
    public mutating func deleteEndpoint(account a: Int, projectID: String, endpointID: String, now: Date) throws(CloudError) -> Mutation {
        advance(account: a, to: now)
        guard let e = accounts[a].endpoints.firstIndex(where: { $0.id == endpointID && $0.projectID == projectID }) else {
            throw Self.endpointNotFound(endpointID).with(effects: [LedgerEffect(resourceID: endpointID, action: "not_found", changed: false)])
        }
        var mutation = Mutation()
        if let since = accounts[a].endpoints[e].deletingSince {
            if now.timeIntervalSince(since) >= settings.vpcepDeletingSeconds {
                throw Self.endpointNotFound(endpointID, isRepeat: true).with(effects: [LedgerEffect(resourceID: endpointID, action: "already_deleted", changed: false)])
            }
            mutation.effects = [LedgerEffect(resourceID: endpointID, action: "delete_in_progress", changed: false)]
            return mutation
        }
        accounts[a].endpoints[e].deletingSince = now
        accounts[a].endpoints[e].updatedAt = now
        mutation.effects = [LedgerEffect(resourceID: endpointID, action: "delete_started", changed: true)]
        return mutation
    }

    /// Endpoints visible at `now` (deleted ones vanish once their `deleting` phase is over).
    public mutating func visibleEndpoints(account a: Int, projectID: String, now: Date) -> [Endpoint] {
        advance(account: a, to: now)
        let window = settings.vpcepDeletingSeconds
        return accounts[a].endpoints.filter { endpoint in
            guard endpoint.projectID == projectID else { return false }
            guard let since = endpoint.deletingSince else { return true }
            return now.timeIntervalSince(since) < window
        }
    }
}

extension CloudError {
    func with(effects: [LedgerEffect]) -> CloudError {
        var copy = self
        copy.effects = effects
        return copy
    }
}
