import Foundation

extension CloudState {
    /// SecMaster `DeleteSubscriptionOrder` (pay-per-use only). All-or-nothing: if any id is refused nothing changes.
    ///
    /// - Quotas are processed before packages, so a request naming a quota and its packages succeeds.
    /// - Deleting a pay-per-use PROFESSIONAL quota also deletes the pay-per-use packages of that project (guide).
    /// - A package is refused while an asset quota remains or the edition is not BASIC (guide; simulator code).
    /// - `resourceIDs == nil` (no body) deletes every pay-per-use resource of the project.
    public mutating func deleteSecMasterResources(account a: Int, projectID: String, resourceIDs: [String]?, now: Date) throws(CloudError) -> Mutation {
        advance(account: a, to: now)
        let ids = resourceIDs ?? accounts[a].secmasterResources.filter { $0.projectID == projectID && $0.chargingMode == .postpaid }.map(\.resourceID)
        guard !ids.isEmpty else {
            throw CloudError(status: 404, code: settings.secmasterNotFoundCode, message: "No pay-per-use SecMaster resources found in project \(projectID).")
        }
        var targets: [SecMasterResource] = []
        for id in ids {
            guard let resource = accounts[a].secmasterResources.first(where: { $0.resourceID == id && $0.projectID == projectID }) else {
                let existed = accounts[a].removedSecMasterResourceIDs.contains(id)
                throw CloudError(status: 404, code: settings.secmasterNotFoundCode, message: "Resource \(id) was not found.", isRepeat: existed,
                                 effects: [LedgerEffect(resourceID: id, action: existed ? "already_deleted" : "not_found", changed: false)])
            }
            guard resource.chargingMode == .postpaid else {
                throw CloudError(status: 400, code: settings.secmasterPrepaidCode,
                                 message: "Resource \(id) is billed yearly/monthly; unsubscribe it through BSS. Only pay-per-use resources can be cancelled here.")
            }
            targets.append(resource)
        }
        // Only this account changes, so only this account is saved for the roll-back. Copying the whole state
        // (`var working = self`) made the next write copy every account's storage: quadratic over a large fleet.
        let saved = accounts[a]
        var mutation = Mutation()
        for resource in targets.sorted(by: { ($0.kind == .quota ? 0 : 1) < ($1.kind == .quota ? 0 : 1) }) {
            guard accounts[a].secmasterResources.contains(where: { $0.resourceID == resource.resourceID }) else { continue }  // cascaded
            if resource.kind == .package, let refusal = packageRuleViolation(account: a, resourceID: resource.resourceID) {
                accounts[a] = saved
                throw refusal.with(effects: [LedgerEffect(resourceID: resource.resourceID, action: "refused_package_rule", changed: false)])
            }
            var removed: Set<String> = [resource.resourceID]
            mutation.effects.append(LedgerEffect(resourceID: resource.resourceID, action: "deleted", changed: true))
            if resource.kind == .quota, resource.spec.uppercased() == "PROFESSIONAL" {
                for package in accounts[a].secmasterResources where package.kind == .package && package.projectID == projectID && package.chargingMode == .postpaid {
                    removed.insert(package.resourceID)
                    mutation.effects.append(LedgerEffect(resourceID: package.resourceID, action: "cascade_deleted", changed: true))
                }
            }
            removeSecMasterResources(account: a, ids: removed, at: now)
        }
        return mutation
    }

    /// SecMaster `DeleteNode`: removes node records only; the ECS server and VPC endpoint stay (manual steps).
    public mutating func deleteNodes(account a: Int, projectID: String, workspaceID: String, nodeIDs: [String], now: Date) throws(CloudError) -> (Mutation, deleted: [CollectionNode], failed: [String]) {
        advance(account: a, to: now)
        guard let w = accounts[a].workspaces.firstIndex(where: { $0.id == workspaceID && $0.projectID == projectID }) else {
            throw CloudError(status: 404, code: settings.secmasterNotFoundCode, message: "Workspace \(workspaceID) was not found.")
        }
        var mutation = Mutation()
        var deleted: [CollectionNode] = []
        var failed: [String] = []
        for id in nodeIDs {
            if let n = accounts[a].workspaces[w].nodes.firstIndex(where: { $0.nodeID == id }) {
                deleted.append(accounts[a].workspaces[w].nodes.remove(at: n))
                mutation.effects.append(LedgerEffect(resourceID: id, action: "node_deleted", changed: true))
            } else {
                failed.append(id)
                mutation.effects.append(LedgerEffect(resourceID: id, action: "not_found", changed: false))
            }
        }
        return (mutation, deleted, failed)
    }
}
