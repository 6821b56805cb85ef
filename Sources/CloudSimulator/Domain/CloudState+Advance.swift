import Foundation

extension CloudState {
    /// Applies every time-driven transition due by `now`, in time order within each account.
    public mutating func advance(to now: Date) {
        for index in accounts.indices {
            advance(account: index, to: now)
        }
    }

    /// The same for one account. Accounts never affect each other, so an API call advances only its caller's:
    /// advancing every account on every call made the cost of a call grow with the number of accounts.
    public mutating func advance(account index: Int, to now: Date) {
        let settings = self.settings
        // Orders and jobs may interact (a server deleted by BSS, another by ECS); applying them in order of their
        // due time keeps the result independent of how often `advance` is called.
        var due: [(Date, Bool, Int)] = []
        for (i, order) in accounts[index].orders.enumerated() where order.kind == .unsubscribe && !order.completionApplied {
            let at = order.completesAt(settings: settings)
            if at <= now { due.append((at, true, i)) }
        }
        for (i, job) in accounts[index].jobs.enumerated() where !job.effectsApplied && job.endsAt <= now {
            due.append((job.endsAt, false, i))
        }
        for (at, isOrder, i) in due.sorted(by: { $0.0 < $1.0 }) {
            if isOrder { completeOrder(account: index, order: i, at: at) } else { finishJob(account: index, job: i, at: at) }
        }
        accounts[index].jobs.removeAll { $0.effectsApplied && now.timeIntervalSince($0.endsAt) >= settings.jobPurgeSeconds }
        endTerms(account: index, at: now)
        releaseExpired(account: index, at: now, retention: settings.expiredRetentionDays * 86_400)
    }

    /// Expired resources whose retention period is over are released, as BSS does: closed (status 3), the server
    /// deleted with its EIPs and disks, the SecMaster quota or package dropped. Without this an expired resource
    /// would stay in ECS and SecMaster for ever while BSS answers that it "has expired and been deleted".
    private mutating func releaseExpired(account a: Int, at now: Date, retention: TimeInterval) {
        var released: Set<String> = []
        for r in accounts[a].prepaidResources.indices {
            let resource = accounts[a].prepaidResources[r]
            guard resource.isMain, resource.status == .expired, resource.unsubscribeOrderID == nil else { continue }
            let at = resource.expireAt.addingTimeInterval(retention)
            guard at <= now else { continue }
            released.insert(resource.resourceID)
            for other in accounts[a].prepaidResources.indices
            where other == r || accounts[a].prepaidResources[other].parentResourceID == resource.resourceID {
                accounts[a].prepaidResources[other].status = .closed
                accounts[a].prepaidResources[other].autoRenew = false
            }
            for s in accounts[a].servers.indices where accounts[a].servers[s].id == resource.resourceID && accounts[a].servers[s].deletedAt == nil {
                deleteServer(account: a, server: s, at: at, deletePublicIP: true, deleteVolume: true)
            }
        }
        if !released.isEmpty { removeSecMasterResources(account: a, ids: released, at: now) }
    }

    /// Yearly/monthly terms that ran out since the last look: BSS renews a resource with auto-renew on (a renewal
    /// order for the same amount, a new period) and otherwise lets it expire (status 5; unsubscribing it is then
    /// refused with `CBC.30050009`). Attached resources follow their primary. A resource whose unsubscription is
    /// under way is left to its order.
    private mutating func endTerms(account a: Int, at now: Date) {
        for r in accounts[a].prepaidResources.indices {
            let resource = accounts[a].prepaidResources[r]
            guard resource.isMain, resource.status == .inUse, resource.expireAt <= now, resource.unsubscribeOrderID == nil else { continue }
            var renewed = resource
            if resource.autoRenew && resource.unpaidOrderID == nil {
                let period = SeedTerm(months: resource.termMonths).seconds
                while renewed.expireAt <= now {
                    let orderID = newOrderID(at: renewed.expireAt)
                    accounts[a].orders.append(Order(
                        orderID: orderID, kind: .renew, serviceTypeCode: resource.serviceTypeCode, createdAt: renewed.expireAt,
                        fixedStatus: .completed, amountCents: resource.paidCents, resourceIDs: [resource.resourceID], refundLines: [],
                        commissionCents: 0, consumedCents: 0, completionApplied: true))
                    renewed.effectiveAt = renewed.expireAt
                    renewed.expireAt = renewed.expireAt.addingTimeInterval(period)
                    renewed.baseOrderID = orderID
                }
            } else {
                renewed.status = .expired
            }
            for other in accounts[a].prepaidResources.indices
            where other == r || accounts[a].prepaidResources[other].parentResourceID == resource.resourceID {
                accounts[a].prepaidResources[other].status = renewed.status
                accounts[a].prepaidResources[other].effectiveAt = renewed.effectiveAt
                accounts[a].prepaidResources[other].expireAt = renewed.expireAt
                if other == r { accounts[a].prepaidResources[other].baseOrderID = renewed.baseOrderID }
            }
            for s in accounts[a].secmasterResources.indices where accounts[a].secmasterResources[s].resourceID == resource.resourceID {
                accounts[a].secmasterResources[s].expireAt = renewed.expireAt
            }
        }
    }

    /// An unsubscription order reached status 5: close its resources and delete what they stand for.
    private mutating func completeOrder(account a: Int, order o: Int, at: Date) {
        accounts[a].orders[o].completionApplied = true
        let ids = Set(accounts[a].orders[o].resourceIDs)
        for r in accounts[a].prepaidResources.indices where ids.contains(accounts[a].prepaidResources[r].resourceID) {
            accounts[a].prepaidResources[r].status = .closed
            accounts[a].prepaidResources[r].autoRenew = false
        }
        for s in accounts[a].servers.indices where ids.contains(accounts[a].servers[s].id) && accounts[a].servers[s].deletedAt == nil {
            // A prepaid server's EIPs and data disks are attached BSS resources and leave with it.
            deleteServer(account: a, server: s, at: at, deletePublicIP: true, deleteVolume: true)
        }
        removeSecMasterResources(account: a, ids: ids, at: at)
    }

    /// A job reached SUCCESS/FAIL: delete the servers of its successful sub-jobs.
    private mutating func finishJob(account a: Int, job j: Int, at: Date) {
        accounts[a].jobs[j].effectsApplied = true
        let job = accounts[a].jobs[j]
        for sub in job.subJobs {
            guard let s = accounts[a].servers.firstIndex(where: { $0.id == sub.serverID }),
                  accounts[a].servers[s].deletingJobID == job.jobID
            else { continue }
            accounts[a].servers[s].deletingJobID = nil
            if sub.failure == nil {
                deleteServer(account: a, server: s, at: at, deletePublicIP: job.deletePublicIP, deleteVolume: job.deleteVolume)
            }
        }
    }

    mutating func deleteServer(account a: Int, server s: Int, at: Date, deletePublicIP: Bool?, deleteVolume: Bool) {
        accounts[a].servers[s].deletedAt = at
        let server = accounts[a].servers[s]
        for ip in server.publicIPs {
            let release = deletePublicIP ?? ip.deleteOnTermination
            accounts[a].releasedAttachments.append(ReleasedAttachment(id: ip.id, kind: .publicIP, fate: release ? .released : .detached, serverID: server.id, at: at))
        }
        for volume in server.dataVolumeIDs {
            accounts[a].releasedAttachments.append(ReleasedAttachment(id: volume, kind: .volume, fate: deleteVolume ? .released : .detached, serverID: server.id, at: at))
        }
    }

    /// Removes SecMaster quotas/packages and recomputes the edition: once no asset quota remains the account is
    /// BASIC (it never falls back to NA, which means "never subscribed").
    mutating func removeSecMasterResources(account a: Int, ids: Set<String>, at: Date) {
        let removed = accounts[a].secmasterResources.filter { ids.contains($0.resourceID) }.map(\.resourceID)
        accounts[a].removedSecMasterResourceIDs.append(contentsOf: removed)
        accounts[a].secmasterResources.removeAll { ids.contains($0.resourceID) }
        recomputeEdition(account: a)
    }

    /// SecMaster's `csb_version` as a project sees it (the API that reports it is project-scoped, and the package
    /// rule looks at the package's own project): that project's asset quotas decide; a project without any is
    /// BASIC while another project has quotas. With no quota anywhere, the account's edition (seed or recomputed).
    func edition(account a: Int, project: String) -> String {
        let quotas = accounts[a].secmasterResources.filter { $0.kind == .quota }
        guard !quotas.isEmpty else { return accounts[a].edition }
        let specs = quotas.filter { $0.projectID == project }.map { $0.spec.uppercased() }
        if specs.contains("PROFESSIONAL") { return "PROFESSIONAL" }
        if specs.contains("STANDARD") { return "STANDARD" }
        return "BASIC"
    }

    mutating func recomputeEdition(account a: Int) {
        let quotas = accounts[a].secmasterResources.filter { $0.kind == .quota }.map { $0.spec.uppercased() }
        if quotas.contains("PROFESSIONAL") {
            accounts[a].edition = "PROFESSIONAL"
        } else if quotas.contains("STANDARD") {
            accounts[a].edition = "STANDARD"
        } else if accounts[a].edition != "NA" {
            accounts[a].edition = "BASIC"
        }
    }
}
