import Foundation
import Testing
import HuaweiCloud
@testable import SecMasterTeardown
import UnwindEngine
import UnwindCore

@Suite("Refund and fee estimates")
struct RefundEstimatorTests {
    let estimator = RefundEstimator()
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    func days(_ value: Double) -> TimeInterval { value * 86_400 }

    @Test func withinFiveDaysWithRefundsLeftEverythingIsRefunded() {
        let estimate = estimator.estimate(paid: 1200, effectiveAt: now - days(2), expireAt: now + days(363), termMonths: 12, now: now, fullRefundsUsed: 9)
        #expect(estimate == .init(paid: 1200, refund: 1200, consumed: 0, fee: 0, fullRefund: true, feePercent: 0))
    }

    @Test func withinFiveDaysWithNoRefundsLeftAFeeIsCharged() {
        let estimate = estimator.estimate(paid: 1200, effectiveAt: now - days(2), expireAt: now + days(363), termMonths: 12, now: now, fullRefundsUsed: 10)
        #expect(!estimate.fullRefund)
        // 48 of 8760 hours used: consumed 6.58; fee 10% of the remaining 1193.42 = 119.34; refund 1074.08.
        #expect(estimate.consumed == 6.58)
        #expect(estimate.fee == 119.34)
        #expect(estimate.refund == 1074.08)
    }

    /// Amounts and dates from the cloud that no real bill has never trap: an amount of 1e13 CNY overflowed the
    /// consumption's integer product and crashed every worker that planned the account.
    @Test func absurdAmountsAndTermsGiveAnEstimateInsteadOfATrap() {
        for paid in [1e13, 9.3e16, .infinity, .nan, -5] {
            let estimate = estimator.estimate(paid: paid, effectiveAt: now - days(700), expireAt: now + days(3_000_000), termMonths: 36, now: now, fullRefundsUsed: 10)
            #expect(estimate.refund >= 0 && estimate.fee >= 0, "\(paid)")
        }
        #expect(RefundEstimator.divideRounded(Int64.max, 2) == Int64.max / 2 + 1)
        #expect(RefundEstimator.divideRounded(5, 2) == 3 && RefundEstimator.divideRounded(4, 3) == 1)
    }

    @Test func afterTheWindowConsumptionAndAFeeAreDeducted() {
        let estimate = estimator.estimate(paid: 1200, effectiveAt: now - days(40), expireAt: now + days(325), termMonths: 12, now: now, fullRefundsUsed: 0)
        // 960 of 8760 hours: consumed 131.51; fee 10% of 1068.49 = 106.85; refund 961.64.
        #expect(estimate.consumed == 131.51)
        #expect(estimate.fee == 106.85)
        #expect(estimate.refund == 961.64)
        #expect(estimate.feePercent == 10)
    }

    @Test(arguments: [(36, 200.0, 15), (36, 500.0, 10), (36, 900.0, 5), (24, 200.0, 15), (24, 500.0, 10), (12, 100.0, 10), (1, 10.0, 10)])
    func feeRatesFollowTheTermAndTimeUsed(termMonths: Int, usedDays: Double, percent: Int) {
        let estimate = estimator.estimate(
            paid: 3600, effectiveAt: now - days(usedDays), expireAt: now - days(usedDays) + days(Double(termMonths) * 30.4),
            termMonths: termMonths, now: now, fullRefundsUsed: 10)
        #expect(estimate.feePercent == percent)
    }

    @Test func aPeriodNotYetInEffectCostsNothing() {
        let estimate = estimator.estimate(paid: 100, effectiveAt: now + days(3), expireAt: now + days(33), termMonths: 1, now: now, fullRefundsUsed: 10)
        #expect(estimate.refund == 100)
        #expect(estimate.fee == 0)
    }

    @Test func theFeeBaseIsConfigurable() {
        let onPaid = RefundEstimator(feeBase: .paid)
        let estimate = onPaid.estimate(paid: 1200, effectiveAt: now - days(40), expireAt: now + days(325), termMonths: 12, now: now, fullRefundsUsed: 0)
        #expect(estimate.fee == 120)
        #expect(estimate.refund == 948.49)
    }
}

@Suite("Full refunds in a past order")
struct PastFullRefundTests {
    func lines(_ amounts: [Decimal]) -> [RefundInfo] { amounts.map { RefundInfo(amount: $0, baseOrderID: nil) } }

    @Test func everyResourceOfAnOrderThatRefundedEverythingCounts() {
        #expect(InventoryReader.fullRefunds(inOrderWith: lines([-500, -9000]), refundedEverything: true) == 2)
        // A history order whose breakdown cannot be read still used one.
        #expect(InventoryReader.fullRefunds(inOrderWith: [], refundedEverything: true) == 1)
    }

    @Test func aMixedOrderCountsItsFullRefundsAndErrsTowardsMore() {
        // One full refund; one resource with consumption and a fee.
        #expect(InventoryReader.fullRefunds(inOrderWith: lines([-9000, -800, 300, 100]), refundedEverything: false) == 1)
        // One full refund; one resource whose consumption and fee took everything (a refund line of zero).
        #expect(InventoryReader.fullRefunds(inOrderWith: lines([-9000, 0, 1100, 100]), refundedEverything: false) == 1)
        // No full refund, each charged resource with one charge line: counted as one (more used, never fewer).
        #expect(InventoryReader.fullRefunds(inOrderWith: lines([-800, 300, -700, 200]), refundedEverything: false) == 1)
        #expect(InventoryReader.fullRefunds(inOrderWith: lines([-800, 300, 100]), refundedEverything: false) == 0)
    }
}

@Suite("Teardown plan")
struct TeardownPlannerTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func inventory(fullRefundsUsed: Int = 0, quotaAgeDays: Double = 40) -> TeardownInventory {
        TeardownInventory(
            takenAt: now, account: .init(domainID: "d", projectID: "p", region: "cn-north-4"), edition: "STANDARD",
            quotas: [.init(resourceID: "q1", name: "standard_quota", kind: .quota, chargingMode: .prepaid, orderID: "o1",
                           billing: .init(effectiveAt: now - quotaAgeDays * 86_400, expireAt: now - quotaAgeDays * 86_400 + 365 * 86_400, autoRenew: true, paidAmount: 1200))],
            packages: [.init(resourceID: "p1", name: "log_analysis", kind: .package, chargingMode: .prepaid, orderID: "o2",
                             billing: .init(effectiveAt: now - 2 * 86_400, expireAt: now + 363 * 86_400, autoRenew: false, paidAmount: 360))],
            nodes: [.init(nodeID: "n1", name: "collector", workspaceID: "w", privateIP: "10.0.0.1", vpcID: "v", endpointID: "e1", serverID: "s1")],
            servers: [.init(id: "s1", name: "collector", chargingMode: .postpaid, status: "ACTIVE")],
            endpoints: [.init(id: "e1", vpcID: "v", status: "accepted")],
            fullRefundsUsed: fullRefundsUsed)
    }

    @Test func feesNeedAcknowledgingAndFullRefundsAreUsedInOrder() {
        let planner = TeardownPlanner()
        let assessment = planner.assess(inventory(fullRefundsUsed: 9), scope: .full, now: now)
        #expect(assessment.resources.map(\.resourceID) == ["q1", "p1"])
        #expect(assessment.resources[0].estimate?.fullRefund == false, "40 days old: fee")
        #expect(assessment.resources[1].estimate?.fullRefund == true, "2 days old, the tenth full refund")
        #expect(assessment.totalFee == 106.85)
        #expect(assessment.requiredAcknowledgements.map(\.flag) == ["handling-fee"])
        #expect(assessment.fullRefundsLeftBefore == 1)
    }

    /// Orders in progress on the account, and a yearly/monthly server whose attachments the options ask to keep,
    /// each need acknowledging before anything changes.
    @Test func openOrdersAndKeptAttachmentsOfAPrepaidServerNeedAcknowledging() {
        var account = inventory(quotaAgeDays: 1)
        let open = [OpenOrder(orderID: "CS-1", status: 6)]
        let withOrders = TeardownPlanner().assess(account, scope: .full, openOrders: open, now: now)
        #expect(withOrders.requiredAcknowledgements.map(\.flag) == ["open-orders"])
        #expect(withOrders.warnings.contains { $0.contains("CS-1") && $0.contains("pending payment") })
        account.servers = [.init(id: "s1", name: "collector", chargingMode: .prepaid, status: "ACTIVE",
                                 billing: .init(effectiveAt: now - 86_400, expireAt: now + 30 * 86_400, autoRenew: false, paidAmount: 100),
                                 publicIPs: ["1.2.3.4"])]
        let keepIPs = TeardownOptions(deletePublicIP: false)
        #expect(TeardownPlanner().assess(account, scope: .releaseCollection, options: keepIPs, now: now).requiredAcknowledgements.map(\.flag) == ["release-attachments"])
        #expect(TeardownPlanner().assess(account, scope: .releaseCollection, now: now).requiredAcknowledgements.isEmpty, "deleting them anyway needs nothing")
        #expect(TeardownPlanner().assess(account, scope: .packages, options: keepIPs, now: now).requiredAcknowledgements.isEmpty, "servers are not in scope")
        account.servers[0].publicIPs = []
        #expect(TeardownPlanner().assess(account, scope: .releaseCollection, options: keepIPs, now: now).requiredAcknowledgements.isEmpty, "no EIP to keep")
        let keepDisks = TeardownOptions(deleteVolume: false)
        #expect(TeardownPlanner().assess(account, scope: .full, options: keepDisks, now: now).requiredAcknowledgements.map(\.flag) == ["release-attachments"])
    }

    @Test func thePackagesWorkflowStopsAtPreflightWhileQuotasRemain() {
        let plan = TeardownPlanner().plan(inventory(quotaAgeDays: 1), scope: .packages, options: TeardownOptions(), now: now)
        #expect(plan.blockers.contains { $0.hasPrefix("the teardown will stop at preflight, before any change: asset quotas q1 remain") }, "\(plan.blockers)")
    }

    /// Preflight found the quota inside its five-day window; by the time the unsubscription is ordered the window
    /// has closed. Without `--accept handling-fee` the order is refused then, not charged.
    @Test func aWindowThatClosesBeforeTheOrderIsRefusedWithoutTheAcknowledgement() throws {
        let account = inventory(quotaAgeDays: 5 - 1_200.0 / 86_400)  // twenty minutes of the window left at `now`, five more than the clock margin
        #expect(TeardownPlanner().assess(account, scope: .full, now: now).requiredAcknowledgements.isEmpty, "preflight: nothing to acknowledge")
        let base: [String: JSONValue] = ["domain_id": "d", "project_id": "p", "region": "cn-north-4"]
        let unacknowledged = try TeardownInput(base)
        let atPreflight = TeardownActions.feeGate(account, unacknowledged, planner: TeardownPlanner(), scope: .full, now: { self.now })
        #expect(atPreflight(["q1"]) == nil)
        let later = TeardownActions.feeGate(account, unacknowledged, planner: TeardownPlanner(), scope: .full, now: { self.now + 600 })
        let refusal = try #require(later(["q1"]))
        #expect(refusal.contains("q1") && refusal.contains("--accept handling-fee") && refusal.contains("nothing was ordered"), "\(refusal)")
        #expect(later(["p1"]) == nil, "the package, two days old, is still inside its window")
        var accepted = base
        accepted["accept"] = ["handling-fee"]
        #expect(TeardownActions.feeGate(account, try TeardownInput(accepted), planner: TeardownPlanner(), scope: .full, now: { self.now + 600 })(["q1"]) == nil)
    }

    /// A yearly/monthly server: BSS does not show what was paid for it. Inside its five-day window it is still a full
    /// refund (no acknowledgement needed, one of the year's ten used, and it goes after the quota and the package);
    /// outside it, or once the window closed before the order, its fee is unknown and must be acknowledged.
    @Test func aServerWithoutItsAmountIsJudgedByItsDates() throws {
        var account = inventory(fullRefundsUsed: 7, quotaAgeDays: 1)
        func server(ageDays: Double) -> ServerItem {
            .init(id: "s1", name: "collector", chargingMode: .prepaid, status: "ACTIVE",
                  billing: .init(effectiveAt: now - ageDays * 86_400, expireAt: now - ageDays * 86_400 + 30 * 86_400, autoRenew: false))
        }
        account.servers = [server(ageDays: 2)]
        let inside = TeardownPlanner().assess(account, scope: .full, now: now)
        #expect(inside.requiredAcknowledgements.isEmpty, "\(inside.requiredAcknowledgements)")
        #expect(inside.resources.last?.termsWithoutAmount == .fullRefund)
        let plan = TeardownPlanner().plan(account, scope: .full, options: TeardownOptions(), now: now)
        let item = try #require(plan.steps.first { $0.step == "release-collection-ecs" }?.items.first)
        #expect(item.detail?.contains("five-day full refund") == true, "\(item.detail ?? "")")
        // The quota and the package took the eighth and ninth full refunds, the server the tenth: an eleventh is a fee.
        account.fullRefundsUsed = 8
        let usedUp = TeardownPlanner().assess(account, scope: .full, now: now)
        #expect(usedUp.resources.last?.termsWithoutAmount == .handlingFee)
        #expect(usedUp.requiredAcknowledgements.map(\.flag) == ["handling-fee"])
        account.fullRefundsUsed = 0
        account.servers = [server(ageDays: 6)]
        #expect(TeardownPlanner().assess(account, scope: .releaseCollection, now: now).requiredAcknowledgements.map(\.flag) == ["handling-fee"])
        // Preflight inside the window, the order after it closed: refused, not charged.
        account.servers = [server(ageDays: 5 - 1_200.0 / 86_400)]
        let input = try TeardownInput(["domain_id": "d", "project_id": "p", "region": "cn-north-4"])
        #expect(TeardownActions.feeGate(account, input, planner: TeardownPlanner(), scope: .releaseCollection, now: { self.now })(["s1"]) == nil)
        let refusal = try #require(TeardownActions.feeGate(account, input, planner: TeardownPlanner(), scope: .releaseCollection, now: { self.now + 600 })(["s1"]))
        #expect(refusal.contains("s1") && refusal.contains("a handling fee that BSS computes"), "\(refusal)")
    }

    /// Ten minutes before the window closes by this machine's clock: BSS's clock may be ahead (a host 15 minutes
    /// behind still signs requests BSS accepts), so the quota is planned with its fee, and needs acknowledging. A
    /// probe's teardown without `--accept` was charged 295.89 CNY when the cloud's clock ran ahead.
    @Test func theWindowsLastMinutesArePlannedWithTheFee() throws {
        let account = inventory(quotaAgeDays: 5 - 600.0 / 86_400)
        let assessment = TeardownPlanner().assess(account, scope: .full, now: now)
        #expect(assessment.resources.first?.estimate?.fullRefund == false)
        #expect(assessment.requiredAcknowledgements.map(\.flag) == ["handling-fee"])
        let plan = TeardownPlanner().plan(account, scope: .full, options: TeardownOptions(), now: now)
        let quota = try #require(plan.steps.first { $0.step == "unsubscribe-asset-quotas" }?.items.first)
        #expect(quota.detail?.contains("closes within 15 minutes") == true, "\(quota.detail ?? "")")
    }

    /// One full refund left; the quota's window closes within the clock margin (either side), the package is two days
    /// old. The quota goes first, and BSS, judging by its own clock, may give it the last full refund: the package
    /// is then charged. It used to be planned free (and the quota's 10 % fee acknowledged), and BSS charged the
    /// package's fee, ten times as much, without its acknowledgement.
    @Test(arguments: [-14.0, 5.0])
    func aResourceAtTheWindowsEdgeIsCountedAsUsingAFullRefund(minutesSinceTheWindowClosed: Double) throws {
        let account = inventory(fullRefundsUsed: 9, quotaAgeDays: 5 + minutesSinceTheWindowClosed * 60 / 86_400)
        let assessment = TeardownPlanner().assess(account, scope: .full, now: now)
        #expect(assessment.resources.first?.estimate?.fullRefund == false, "the quota itself is planned with its fee")
        let package = try #require(assessment.resources.first { $0.resourceID == "p1" })
        #expect(package.estimate?.fullRefund == false && (package.estimate?.fee ?? 0) > 0, "and the package too: the quota may take the last full refund")
        #expect(assessment.requiredAcknowledgements.map(\.flag) == ["handling-fee"])
        #expect(assessment.warnings.contains { $0.contains("q1") && $0.contains("within 15 minutes") }, "\(assessment.warnings)")
        // At order time, after the quota went, the package's unsubscription is refused without the acknowledgement.
        let input = try TeardownInput(["domain_id": "d", "project_id": "p", "region": "cn-north-4"])
        let gate = TeardownActions.feeGate(account, input, planner: TeardownPlanner(), scope: .full, now: { self.now + 1_800 })
        #expect(gate(["p1"]) != nil, "half an hour on, the quota's window is well closed, but it may have taken the refund when it went")
        // With refunds to spare, the package keeps its full refund.
        let plenty = TeardownPlanner().assess(inventory(fullRefundsUsed: 3, quotaAgeDays: 5 + minutesSinceTheWindowClosed * 60 / 86_400), scope: .full, now: now)
        #expect(plenty.resources.first { $0.resourceID == "p1" }?.estimate?.fullRefund == true)
    }

    @Test func noFeeNoAcknowledgement() {
        let assessment = TeardownPlanner().assess(inventory(quotaAgeDays: 1), scope: .full, now: now)
        #expect(assessment.totalFee == 0)
        #expect(assessment.requiredAcknowledgements.isEmpty)
    }

    @Test func thePlanListsEveryResourceInOrderWithAlternatives() {
        let plan = TeardownPlanner().plan(inventory(), scope: .full, options: TeardownOptions(deletePublicIP: false), now: now)
        #expect(plan.steps.map(\.step) == ["disable-auto-renew", "unsubscribe-asset-quotas", "unsubscribe-value-added-packages", "release-collection-ecs", "delete-vpc-endpoints", "verify"])
        #expect(plan.steps[0].items.map(\.resource) == ["standard_quota q1"])
        let quota = plan.steps[1].items[0]
        #expect(quota.amounts?["fee"] == 106.85)
        #expect(quota.detail?.contains("alternative: turn auto-renew off and let it expire") == true)
        #expect(plan.steps[3].items[0].detail == "unbind (keep) its EIPs; delete its data disks")
        #expect(plan.totals?["fee"] == 106.85)
        #expect(plan.acknowledgements.first?.flag == "handling-fee")
    }

    @Test func releaseCollectionOnlyTouchesServersAndEndpoints() {
        let plan = TeardownPlanner().plan(inventory(), scope: .releaseCollection, options: TeardownOptions(), now: now)
        #expect(plan.steps.map(\.step) == ["release-collection-ecs", "delete-vpc-endpoints", "verify"])
        #expect(plan.acknowledgements.isEmpty)
    }
}

@Suite("Inventory cache")
struct InventoryCacheTests {
    @Test func anEntryIsUsedOnlyForTheOutputItWasDecodedFromAndTheCacheStaysBounded() throws {
        let planner = TeardownPlannerTests()
        let first = planner.inventory(fullRefundsUsed: 1), second = planner.inventory(fullRefundsUsed: 2)
        let cache = InventoryCache(capacity: 2)
        let workflow = UUID()
        #expect(cache.inventory(of: workflow, from: .encoding(first)) == first)
        #expect(cache.inventory(of: workflow, from: .encoding(first)) == first)
        // The same workflow with another inventory output (say, a re-run inventory step): decoded again.
        #expect(cache.inventory(of: workflow, from: .encoding(second)) == second)
        #expect(cache.inventory(of: workflow, from: ["not": "an inventory"]) == nil)
        for _ in 0..<5 { _ = cache.inventory(of: UUID(), from: .encoding(first)) }
        #expect(cache.count <= 2)
    }
}
