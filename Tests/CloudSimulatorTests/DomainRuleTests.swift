import CloudSimulator
import Foundation
import Testing

/// Each domain rule exercised directly on `CloudState` (no HTTP, explicit time).
@Suite("Domain rules")
struct DomainRuleTests {
    let t0 = TestSeed.start

    @Test("prepaid unsubscribe: order moves 3 → 2 → 5 over simulated time, then resource closed and edition basic")
    func orderLifecycle() throws {
        var state = try TestSeed.state()
        let a = TestSeed.index(state, "standard")
        let mutation = try state.unsubscribe(account: a, resourceIDs: ["q-old", "q-fresh", "q-unpaid"], type: .resourceAndRenewals, now: t0)
        let orderID = try #require(mutation.references.first)
        #expect(mutation.partialFailures.map(\.resourceID) == ["q-unpaid"])
        #expect(mutation.partialFailures.first?.error.code == "CBC.30050010")
        let order = try #require(state.accounts[a].orders.first { $0.orderID == orderID })
        let settings = state.settings
        #expect(order.status(at: t0, settings: settings) == .processing)
        #expect(order.status(at: t0.addingTimeInterval(2.5), settings: settings) == .pendingRefund)
        #expect(order.status(at: t0.addingTimeInterval(3), settings: settings) == .completed)
        #expect(state.accounts[a].edition == "STANDARD")
        state.advance(to: t0.addingTimeInterval(3))
        #expect(state.accounts[a].prepaidResources.first { $0.resourceID == "q-old" }?.status == .closed)
        // q-unpaid still there: the account keeps a quota, so the edition stays STANDARD.
        #expect(state.accounts[a].edition == "STANDARD")
        #expect(!state.accounts[a].secmasterResources.contains { $0.resourceID == "q-old" })
    }

    @Test("second unsubscribe: retryable while in flight, already-unsubscribed (repeat) once done")
    func repeats() throws {
        var state = try TestSeed.state()
        let a = TestSeed.index(state, "standard")
        _ = try state.unsubscribe(account: a, resourceIDs: ["q-old"], type: .resourceAndRenewals, now: t0)
        let inFlight = #expect(throws: CloudError.self) {
            try state.unsubscribe(account: a, resourceIDs: ["q-old"], type: .resourceAndRenewals, now: t0.addingTimeInterval(1))
        }
        #expect(inFlight?.code == "CBC.30050011")
        #expect(inFlight?.isRepeat == true)
        let done = #expect(throws: CloudError.self) {
            try state.unsubscribe(account: a, resourceIDs: ["q-old"], type: .resourceAndRenewals, now: t0.addingTimeInterval(10))
        }
        #expect(done?.code == "CBC.30000067")
        #expect(done?.status == 400)
        #expect(done?.effects == [LedgerEffect(resourceID: "q-old", action: "already_unsubscribed", changed: false)])
    }

    @Test("value-added package refused while a quota remains, allowed once the edition is basic")
    func packageRule() throws {
        var state = try TestSeed.state()
        let a = TestSeed.index(state, "standard")
        let refused = #expect(throws: CloudError.self) {
            try state.unsubscribe(account: a, resourceIDs: ["pkg-old"], type: .resourceAndRenewals, now: t0)
        }
        #expect(refused?.code == "SIM.SecMaster.0001")
        // Remove every quota (q-unpaid's unpaid order is settled first: clear it as an operator would by paying).
        let u = state.accounts[a].prepaidResources.firstIndex { $0.resourceID == "q-unpaid" }!
        state.accounts[a].prepaidResources[u].unpaidOrderID = nil
        _ = try state.unsubscribe(account: a, resourceIDs: ["q-old", "q-fresh", "q-unpaid"], type: .resourceAndRenewals, now: t0)
        state.advance(to: t0.addingTimeInterval(5))
        #expect(state.accounts[a].edition == "BASIC")
        let ok = try state.unsubscribe(account: a, resourceIDs: ["pkg-old"], type: .resourceAndRenewals, now: t0.addingTimeInterval(5))
        #expect(ok.effects.first?.changed == true)
    }

    @Test("five-day full refund is counted per account; with the count used up a fee applies")
    func fullRefundCount() throws {
        var state = try TestSeed.state()
        let s = TestSeed.index(state, "standard")
        let fresh = try state.unsubscribe(account: s, resourceIDs: ["q-fresh"], type: .resourceAndRenewals, now: t0)
        #expect(fresh.money == LedgerMoney(refundCents: 100_000, feeCents: 0, consumedCents: 0, fullRefunds: 1))
        #expect(state.accounts[s].fullRefundTimes.count == 1)
        let p = TestSeed.index(state, "pro")
        let usedUp = try state.unsubscribe(account: p, resourceIDs: ["pro-prepaid-fresh"], type: .resourceAndRenewals, now: t0)
        #expect(usedUp.money.fullRefunds == 0)
        #expect(usedUp.money.feeCents > 0)
    }

    @Test("BSS parameter errors: more than 10 ids, attached resource, pay-per-use resource, renewal-only type")
    func bssParameters() throws {
        var state = try TestSeed.state()
        let n = TestSeed.index(state, "nodes")
        let tooMany = #expect(throws: CloudError.self) {
            try state.unsubscribe(account: n, resourceIDs: (1...11).map { "id-\($0)" }, type: .resourceAndRenewals, now: t0)
        }
        #expect(tooMany?.code == "CBC.0100")
        let attached = #expect(throws: CloudError.self) {
            try state.unsubscribe(account: n, resourceIDs: ["eip-m"], type: .resourceAndRenewals, now: t0)
        }
        #expect(attached?.message.contains("attached") == true)
        let payPerUse = #expect(throws: CloudError.self) {
            try state.unsubscribe(account: n, resourceIDs: ["srv-payg-1"], type: .resourceAndRenewals, now: t0)
        }
        #expect(payPerUse?.message.contains("pay-per-use") == true)
        #expect(throws: CloudError.self) {
            try state.unsubscribe(account: n, resourceIDs: ["srv-monthly"], type: .renewalsOnly, now: t0)
        }
        let unknown = #expect(throws: CloudError.self) {
            try state.unsubscribe(account: n, resourceIDs: ["nope"], type: .resourceAndRenewals, now: t0)
        }
        #expect(unknown?.code == "CBC.30050009")
    }

    @Test("attached resources go with their primary; the prepaid server is deleted when the order completes")
    func attachedGoWithPrimary() throws {
        var state = try TestSeed.state()
        let n = TestSeed.index(state, "nodes")
        let mutation = try state.unsubscribe(account: n, resourceIDs: ["srv-monthly"], type: .resourceAndRenewals, now: t0)
        #expect(Set(mutation.effects.map(\.resourceID)) == ["srv-monthly", "eip-m", "vol-m"])
        state.advance(to: t0.addingTimeInterval(3))
        #expect(state.accounts[n].servers.first { $0.id == "srv-monthly" }?.deletedAt != nil)
        #expect(state.accounts[n].releasedAttachments.map(\.id).sorted() == ["eip-m", "vol-m"])
        #expect(state.accounts[n].prepaidResources.filter { $0.status == .closed }.count == 3)
    }

    @Test("ECS: prepaid servers refused; pay-per-use deleted by a job; EIP and disk fate follows the flags")
    func ecsDelete() throws {
        var state = try TestSeed.state()
        let n = TestSeed.index(state, "nodes")
        let refused = #expect(throws: CloudError.self) {
            try state.deleteServers(account: n, projectID: TestSeed.nodesProject, serverIDs: ["srv-payg-1", "srv-monthly"], deletePublicIP: nil, deleteVolume: false, failJob: false, now: t0)
        }
        #expect(refused?.code == "Ecs.0000")
        #expect(refused?.shape == .nested)
        let mutation = try state.deleteServers(account: n, projectID: TestSeed.nodesProject, serverIDs: ["srv-payg-1", "ghost"], deletePublicIP: nil, deleteVolume: true, failJob: false, now: t0)
        let jobID = try #require(mutation.references.first)
        #expect(try state.job(account: n, projectID: TestSeed.nodesProject, jobID: jobID, now: t0).status(at: t0) == .initial)
        #expect(try state.job(account: n, projectID: TestSeed.nodesProject, jobID: jobID, now: t0).status(at: t0.addingTimeInterval(0.6)) == .running)
        let end = try state.job(account: n, projectID: TestSeed.nodesProject, jobID: jobID, now: t0).endsAt
        // One sub-job (the unknown server) fails, so the job as a whole fails; the real server is still deleted.
        #expect(try state.job(account: n, projectID: TestSeed.nodesProject, jobID: jobID, now: end).status(at: end) == .fail)
        #expect(try state.server(account: n, projectID: TestSeed.nodesProject, serverID: "srv-payg-1", now: end).deletedAt == end)
        let gone = #expect(throws: CloudError.self) {
            try state.server(account: n, projectID: TestSeed.nodesProject, serverID: "srv-payg-1", now: end.addingTimeInterval(1))
        }
        #expect(gone?.code == "Ecs.0114")
        let fates = Dictionary(uniqueKeysWithValues: state.accounts[n].releasedAttachments.map { ($0.id, $0.fate) })
        #expect(fates == ["eip-1": .detached, "vol-1": .released])
        let purged = #expect(throws: CloudError.self) {
            try state.job(account: n, projectID: TestSeed.nodesProject, jobID: jobID, now: end.addingTimeInterval(86_400))
        }
        #expect(purged?.status == 404)
    }

    @Test("ECS: a second delete of a server being deleted changes nothing")
    func ecsRepeat() throws {
        var state = try TestSeed.state()
        let n = TestSeed.index(state, "nodes")
        _ = try state.deleteServers(account: n, projectID: TestSeed.nodesProject, serverIDs: ["srv-payg-2"], deletePublicIP: nil, deleteVolume: false, failJob: false, now: t0)
        let again = try state.deleteServers(account: n, projectID: TestSeed.nodesProject, serverIDs: ["srv-payg-2"], deletePublicIP: nil, deleteVolume: false, failJob: false, now: t0)
        #expect(again.effects.allSatisfy { !$0.changed })
    }

    @Test("ECS: an injected job failure leaves the servers in place")
    func jobFail() throws {
        var state = try TestSeed.state()
        let n = TestSeed.index(state, "nodes")
        let mutation = try state.deleteServers(account: n, projectID: TestSeed.nodesProject, serverIDs: ["srv-payg-2"], deletePublicIP: nil, deleteVolume: false, failJob: true, now: t0)
        let later = t0.addingTimeInterval(10)
        #expect(try state.job(account: n, projectID: TestSeed.nodesProject, jobID: mutation.references[0], now: later).status(at: later) == .fail)
        #expect(try state.server(account: n, projectID: TestSeed.nodesProject, serverID: "srv-payg-2", now: later).deletedAt == nil)
    }

    @Test("VPCEP: deleting, then gone (404 EndPoint.0005); a delete while deleting changes nothing")
    func vpcep() throws {
        var state = try TestSeed.state()
        let n = TestSeed.index(state, "nodes")
        #expect(try state.deleteEndpoint(account: n, projectID: TestSeed.nodesProject, endpointID: "ep-1", now: t0).effects.first?.changed == true)
        #expect(try state.deleteEndpoint(account: n, projectID: TestSeed.nodesProject, endpointID: "ep-1", now: t0.addingTimeInterval(1)).effects.first?.changed == false)
        #expect(state.visibleEndpoints(account: n, projectID: TestSeed.nodesProject, now: t0.addingTimeInterval(1)).contains { $0.id == "ep-1" })
        #expect(!state.visibleEndpoints(account: n, projectID: TestSeed.nodesProject, now: t0.addingTimeInterval(2)).contains { $0.id == "ep-1" })
        let gone = #expect(throws: CloudError.self) {
            try state.deleteEndpoint(account: n, projectID: TestSeed.nodesProject, endpointID: "ep-1", now: t0.addingTimeInterval(3))
        }
        #expect(gone?.code == "EndPoint.0005")
        #expect(gone?.isRepeat == true)
    }

    @Test("SecMaster pay-per-use: package refused while quota remains; professional quota cascades; edition basic")
    func secmasterCascade() throws {
        var state = try TestSeed.state()
        let p = TestSeed.index(state, "pro")
        let refused = #expect(throws: CloudError.self) {
            try state.deleteSecMasterResources(account: p, projectID: TestSeed.proProject, resourceIDs: ["pro-soar"], now: t0)
        }
        #expect(refused?.code == "SIM.SecMaster.0001")
        let prepaid = #expect(throws: CloudError.self) {
            try state.deleteSecMasterResources(account: p, projectID: TestSeed.proProject, resourceIDs: ["pro-prepaid-fresh"], now: t0)
        }
        #expect(prepaid?.code == "SIM.SecMaster.0002")
        let mutation = try state.deleteSecMasterResources(account: p, projectID: TestSeed.proProject, resourceIDs: ["pro-quota"], now: t0)
        #expect(mutation.effects.map(\.action) == ["deleted", "cascade_deleted", "cascade_deleted"])
        // The prepaid standard quota remains, so the edition is STANDARD, not yet BASIC.
        #expect(state.accounts[p].edition == "STANDARD")
        let again = #expect(throws: CloudError.self) {
            try state.deleteSecMasterResources(account: p, projectID: TestSeed.proProject, resourceIDs: ["pro-quota"], now: t0)
        }
        #expect(again?.status == 404)
        #expect(again?.isRepeat == true)
    }

    @Test("SecMaster: a refused request changes nothing (all or nothing)")
    func secmasterAtomic() throws {
        var state = try TestSeed.state()
        let p = TestSeed.index(state, "pro")
        #expect(throws: CloudError.self) {
            try state.deleteSecMasterResources(account: p, projectID: TestSeed.proProject, resourceIDs: ["pro-quota", "missing"], now: t0)
        }
        #expect(state.accounts[p].secmasterResources.count == 4)
    }

    @Test("SecMaster: a package refused after a quota of the same request was deleted rolls the quota back")
    func secmasterRollsBackAfterPartialApply() throws {
        var state = try TestSeed.state()
        let p = TestSeed.index(state, "pro")
        // A STANDARD pay-per-use quota does not cascade to the packages, and the prepaid quota that remains makes
        // the package rule refuse `pro-soar` only after `pro-quota` has been removed (quotas go first).
        let q = try #require(state.accounts[p].secmasterResources.firstIndex { $0.resourceID == "pro-quota" })
        state.accounts[p].secmasterResources[q].spec = "standard"
        let before = state.accounts
        let refused = #expect(throws: CloudError.self) {
            try state.deleteSecMasterResources(account: p, projectID: TestSeed.proProject, resourceIDs: ["pro-quota", "pro-soar"], now: t0)
        }
        #expect(refused?.code == state.settings.packageRuleCode)
        #expect(refused?.effects.map(\.action) == ["refused_package_rule"])
        #expect(state.accounts == before)
        #expect(!state.accounts[p].removedSecMasterResourceIDs.contains("pro-quota"))
    }

    @Test("BSS: unsubscribing the last prepaid quota makes the edition basic once the order completes")
    func editionBecomesBasic() throws {
        var state = try TestSeed.state()
        let p = TestSeed.index(state, "pro")
        _ = try state.deleteSecMasterResources(account: p, projectID: TestSeed.proProject, resourceIDs: ["pro-quota"], now: t0)
        _ = try state.unsubscribe(account: p, resourceIDs: ["pro-prepaid-fresh"], type: .resourceAndRenewals, now: t0)
        state.advance(to: t0.addingTimeInterval(2))
        #expect(state.accounts[p].edition == "STANDARD")
        state.advance(to: t0.addingTimeInterval(3))
        #expect(state.accounts[p].edition == "BASIC")
    }

    @Test("auto-renew toggles only for yearly/monthly resources")
    func autoRenew() throws {
        var state = try TestSeed.state()
        let s = TestSeed.index(state, "standard")
        #expect(try state.setAutoRenew(account: s, resourceID: "q-old", enabled: true, now: t0).effects.first?.changed == true)
        #expect(try state.setAutoRenew(account: s, resourceID: "q-old", enabled: true, now: t0).effects.first?.changed == false)
        let p = TestSeed.index(state, "pro")
        #expect(throws: CloudError.self) { try state.setAutoRenew(account: p, resourceID: "pro-quota", enabled: true, now: t0) }
    }
}
