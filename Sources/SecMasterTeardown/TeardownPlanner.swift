import Foundation
import UnwindEngine

/// The parts of the teardown a workflow runs.
public enum TeardownScope: String, Sendable, Codable, CaseIterable {
    /// `secmaster-full-teardown`: quotas, packages, collection ECS, VPC endpoints.
    case full
    /// `secmaster-release-collection`: collection ECS and VPC endpoints only (SecMaster itself stays).
    case releaseCollection = "release-collection"
    /// `secmaster-unsubscribe-packages`: value-added packages only.
    case packages

    var touchesQuotas: Bool { self == .full }
    var touchesPackages: Bool { self == .full || self == .packages }
    var touchesCollection: Bool { self == .full || self == .releaseCollection }
}

/// Options a teardown is submitted with.
public struct TeardownOptions: Sendable, Codable, Equatable {
    /// Release the EIPs bound to collection servers (else they are only unbound).
    public var deletePublicIP: Bool
    /// Delete the servers' data disks.
    public var deleteVolume: Bool
    public var unsubscribeReason: String
    /// `--accept` values given with the submission.
    public var accepted: Set<String>

    public init(deletePublicIP: Bool = true, deleteVolume: Bool = true, unsubscribeReason: String = "Decommissioned with Unwind", accepted: Set<String> = []) {
        self.deletePublicIP = deletePublicIP
        self.deleteVolume = deleteVolume
        self.unsubscribeReason = unsubscribeReason
        self.accepted = accepted
    }
}

/// Money per yearly/monthly resource, in teardown order, with the account's full refunds used up one by one.
public struct PreflightAssessment: Sendable, Codable, Equatable {
    public struct Resource: Sendable, Codable, Equatable {
        public var resourceID: String
        public var name: String
        public var expireAt: Date
        public var autoRenew: Bool
        /// nil when BSS does not show what was paid (the refund is then only known once booked).
        public var estimate: RefundEstimator.Estimate?
        /// Without an estimate: what the resource's dates tell (a five-day full refund or a renewal not yet in
        /// effect costs no fee whatever was paid). nil with an estimate.
        public var termsWithoutAmount: RefundEstimator.Terms?

        /// Whether unsubscribing it now costs a handling fee (`estimate` nil: one only BSS can compute).
        public var costsAFee: Bool {
            if let estimate { return estimate.fee > 0 }
            return termsWithoutAmount == .handlingFee
        }
    }

    public var resources: [Resource]
    public var fullRefundsLeftBefore: Int
    public var totalFee: Double
    public var totalRefund: Double
    /// `--accept` values the submission must carry.
    public var requiredAcknowledgements: [WorkflowPlan.Acknowledgement]
    public var warnings: [String]

    public static let handlingFeeFlag = "handling-fee"
    /// Orders in progress on the account: BSS refuses to unsubscribe a resource one of them involves, and which
    /// resources an order involves cannot be read, so the teardown could stop past its point of no return.
    public static let openOrdersFlag = "open-orders"
    /// A yearly/monthly server's EIPs and data disks go with it in BSS, whatever `delete_publicip`/`delete_volume` say.
    public static let releaseAttachmentsFlag = "release-attachments"
}

/// Builds the preflight assessment and the operator-facing plan from an inventory. Pure: no cloud calls.
public struct TeardownPlanner: Sendable {
    public var estimator: RefundEstimator

    public init(estimator: RefundEstimator = RefundEstimator()) {
        self.estimator = estimator
    }

    /// - Parameters:
    ///   - options: the submission's options (what to keep of the servers).
    ///   - openOrders: the account's orders still in progress (pending payment, processing).
    public func assess(
        _ inventory: TeardownInventory, scope: TeardownScope, options: TeardownOptions = TeardownOptions(), openOrders: [OpenOrder] = [], now: Date
    ) -> PreflightAssessment {
        var used = inventory.fullRefundsUsed
        var resources: [PreflightAssessment.Resource] = []
        var warnings: [String] = []
        var candidates: [(String, String, PrepaidBilling)] = []
        if scope.touchesQuotas { candidates += inventory.quotas.compactMap { item in item.billing.map { (item.resourceID, item.name, $0) } } }
        if scope.touchesPackages { candidates += inventory.packages.compactMap { item in item.billing.map { (item.resourceID, item.name, $0) } } }
        if scope.touchesCollection { candidates += inventory.servers.compactMap { server in server.billing.map { (server.id, server.name, $0) } } }
        // Resources whose window closes about now may take one of the year's full refunds whenever BSS gets to them
        // (possibly before a resource the plan would give it to): counted as using one from the start.
        let nearClose = candidates.filter { !$0.2.isExpired && estimator.isNearWindowClose(effectiveAt: $0.2.effectiveAt, since: inventory.takenAt, now: now) }
        used += nearClose.count
        if !nearClose.isEmpty {
            warnings.append("\(nearClose.map { "\($0.1) (\($0.0))" }.joined(separator: ", ")): the \(estimator.windowName) window closes within \(Int(estimator.clockMargin / 60)) minutes of now, by BSS's clock either way; the plan counts the handling fee, and one of the year's full refunds as used (BSS may still refund in full)")
        }
        for (id, name, billing) in candidates {
            if billing.isExpired {
                // Not unsubscribed, so no refund, no fee and no acknowledgement.
                warnings.append("\(name) (\(id)) has expired; it is released by BSS itself and needs no unsubscription")
                continue
            }
            var estimate: RefundEstimator.Estimate?
            var termsWithoutAmount: RefundEstimator.Terms?
            if let paid = billing.paidAmount {
                let value = estimator.estimate(
                    paid: paid, effectiveAt: billing.effectiveAt, expireAt: billing.expireAt, termMonths: billing.termMonths,
                    now: now, fullRefundsUsed: used)
                if value.fullRefund { used += 1 }
                estimate = value
            } else {
                // Yearly/monthly servers: neither ECS nor BSS's resource query names their purchase order. Their dates
                // still tell whether a fee applies, and a full refund counts against the year's ten all the same.
                let terms = estimator.terms(effectiveAt: billing.effectiveAt, now: now, fullRefundsUsed: used)
                if terms == .fullRefund { used += 1 }
                if terms == .handlingFee {
                    warnings.append("\(name) (\(id)): BSS does not show what was paid, so its refund and fee are only known once booked")
                }
                termsWithoutAmount = terms
            }
            if billing.status == 4 { warnings.append("\(name) (\(id)) is frozen; BSS refuses to unsubscribe frozen resources until they are unfrozen") }
            resources.append(.init(
                resourceID: id, name: name, expireAt: billing.expireAt, autoRenew: billing.autoRenew, estimate: estimate,
                termsWithoutAmount: termsWithoutAmount))
        }
        let fee = resources.compactMap(\.estimate?.fee).reduce(0, +)
        let refund = resources.compactMap(\.estimate?.refund).reduce(0, +)
        var acknowledgements: [WorkflowPlan.Acknowledgement] = []
        let charged = resources.filter { ($0.estimate?.fee ?? 0) > 0 }
        let unknown = resources.filter { $0.estimate == nil && $0.costsAFee }
        if !charged.isEmpty || !unknown.isEmpty {
            var reason = charged.isEmpty ? "" : String(format: "unsubscribing %d yearly/monthly resource(s) after their \(estimator.windowName) window costs handling fees of %.2f CNY", charged.count, fee)
            if !unknown.isEmpty {
                reason += (reason.isEmpty ? "" : "; ") + "\(unknown.count) resource(s) may cost a fee BSS computes at unsubscription"
            }
            acknowledgements.append(.init(flag: PreflightAssessment.handlingFeeFlag, reason: reason))
        }
        warnings += openOrders.map(\.warning)
        // Only BSS unsubscriptions can be refused because of an order in progress.
        if !openOrders.isEmpty && !candidates.isEmpty {
            acknowledgements.append(.init(
                flag: PreflightAssessment.openOrdersFlag,
                reason: "\(openOrders.count) order(s) in progress on the account (\(openOrders.map(\.orderID).joined(separator: ", "))): BSS refuses to unsubscribe a resource such an order involves, and which ones it involves cannot be read, so the teardown could stop half-way past its point of no return. Pay or cancel them in the Billing Center first"))
        }
        if scope.touchesCollection && (!options.deletePublicIP || !options.deleteVolume) {
            let kept = inventory.servers.filter { server in
                guard let billing = server.billing, !billing.isExpired else { return false }
                return !options.deleteVolume || !(server.publicIPs ?? []).isEmpty
            }
            if !kept.isEmpty {
                let what = [!options.deletePublicIP ? "EIPs" : nil, !options.deleteVolume ? "data disks" : nil].compactMap { $0 }.joined(separator: " and ")
                acknowledgements.append(.init(
                    flag: PreflightAssessment.releaseAttachmentsFlag,
                    reason: "BSS releases a yearly/monthly server together with its attached \(what), although delete_publicip/delete_volume ask to keep them: \(kept.map { "\($0.name) (\($0.id))" }.joined(separator: ", ")). Detach what must be kept first"))
            }
        }
        let left = max(0, estimator.fullRefundsPerYear - inventory.fullRefundsUsed)
        if left == 0 && !candidates.isEmpty {
            warnings.append("this account has used all \(estimator.fullRefundsPerYear) \(estimator.windowName) full refunds of the last 365 days")
        }
        return PreflightAssessment(
            resources: resources, fullRefundsLeftBefore: left, totalFee: round(fee * 100) / 100,
            totalRefund: round(refund * 100) / 100, requiredAcknowledgements: acknowledgements, warnings: warnings + (scope.touchesCollection ? Self.unmatchedNodeWarnings(inventory) : []))
    }

    /// The plan `unwind plan` prints: what happens to each resource, in order, with the amounts.
    public func plan(_ inventory: TeardownInventory, scope: TeardownScope, options: TeardownOptions, openOrders: [OpenOrder] = [], now: Date) -> WorkflowPlan {
        let assessment = assess(inventory, scope: scope, options: options, openOrders: openOrders, now: now)
        let money = Dictionary(assessment.resources.map { ($0.resourceID, $0) }, uniquingKeysWith: { first, _ in first })
        let date = Date.ISO8601FormatStyle().year().month().day()
        func prepaidItem(_ id: String, _ name: String, _ billing: PrepaidBilling, action: String) -> WorkflowPlan.Item {
            if billing.isExpired {
                return WorkflowPlan.Item(
                    resource: "\(name) \(id)", action: "none (expired)",
                    detail: "expired \(billing.expireAt.formatted(date)); BSS releases it at the end of its retention period, not billed meanwhile", amounts: nil)
            }
            var amounts: [String: Double] = [:]
            var detail = "expires \(billing.expireAt.formatted(date))"
            if let estimate = money[id]?.estimate {
                amounts = ["paid": estimate.paid, "refund": estimate.refund, "fee": estimate.fee]
                let days = Int(now.timeIntervalSince(billing.effectiveAt) / 86_400)
                if estimate.fullRefund {
                    detail += "; \(estimator.windowName) full refund"
                } else if estimator.terms(effectiveAt: billing.effectiveAt, now: now, fullRefundsUsed: 0) != .handlingFee {
                    detail += "; handling fee \(estimate.feePercent)% after \(days) days of use: inside its \(estimator.windowName) window, but the account's \(estimator.fullRefundsPerYear) full refunds of the year are used up (by earlier unsubscriptions or the resources before it here)"
                } else if now.timeIntervalSince(billing.effectiveAt) < estimator.windowDays * 86_400 {
                    detail += "; handling fee \(estimate.feePercent)%: its \(estimator.windowName) window closes within \(Int(estimator.clockMargin / 60)) minutes, and BSS's clock may be ahead of this machine's, so it is planned with the fee"
                } else {
                    detail += "; handling fee \(estimate.feePercent)% after \(days) days of use"
                }
            } else if money[id]?.termsWithoutAmount == .fullRefund {
                detail += "; \(estimator.windowName) full refund of what was paid (BSS does not show the amount)"
            } else if money[id]?.termsWithoutAmount == .notYetEffective {
                detail += "; renewal not yet in effect: refunded without a fee (BSS does not show the amount)"
            } else {
                detail += "; refund and fee computed by BSS"
            }
            detail += "; alternative: turn auto-renew off and let it expire on \(billing.expireAt.formatted(date)) (no fee, no refund, billed until then: schedule with --not-before)"
            return WorkflowPlan.Item(resource: "\(name) \(id)", action: action, detail: detail, amounts: amounts.isEmpty ? nil : amounts)
        }

        var steps: [WorkflowPlan.StepPlan] = []
        let prepaid = inventory.prepaidInOrder.filter { entry in
            (scope.touchesQuotas && inventory.quotas.contains { $0.resourceID == entry.id })
                || (scope.touchesPackages && inventory.packages.contains { $0.resourceID == entry.id })
                || (scope.touchesCollection && inventory.servers.contains { $0.id == entry.id })
        }
        // As the step does: an expired resource is not renewed any more, so there is nothing to turn off.
        let renewing = prepaid.filter { $0.billing.autoRenew && !$0.billing.isExpired }
        if scope != .releaseCollection || !renewing.isEmpty {
            steps.append(.init(step: "disable-auto-renew", items: renewing.map {
                .init(resource: "\($0.name) \($0.id)", action: "turn auto-renew off", detail: "restored if the teardown is compensated", amounts: nil)
            }))
        }
        if scope.touchesQuotas {
            steps.append(.init(step: "unsubscribe-asset-quotas", items: inventory.quotas.map { quota in
                if let billing = quota.billing {
                    return prepaidItem(quota.resourceID, quota.name, billing, action: "unsubscribe (yearly/monthly, BSS)")
                }
                return .init(resource: "\(quota.name) \(quota.resourceID)", action: "cancel (pay-per-use, SecMaster)",
                             detail: inventory.edition.uppercased() == "PROFESSIONAL" ? "also cancels the professional edition's pay-per-use packages" : nil,
                             amounts: nil)
            }))
        }
        if scope.touchesPackages {
            let cascades = scope.touchesQuotas && inventory.quotas.contains { $0.chargingMode == .postpaid } && inventory.edition.uppercased() == "PROFESSIONAL"
            steps.append(.init(step: "unsubscribe-value-added-packages", items: inventory.packages.map { package in
                if let billing = package.billing {
                    return prepaidItem(package.resourceID, package.name, billing, action: "unsubscribe (yearly/monthly, BSS)")
                }
                if cascades {
                    return .init(resource: "\(package.name) \(package.resourceID)", action: "none", detail: "removed together with the pay-per-use professional quota", amounts: nil)
                }
                return .init(resource: "\(package.name) \(package.resourceID)", action: "cancel (pay-per-use, SecMaster)", detail: "once no asset quota remains and the edition is basic", amounts: nil)
            }))
        }
        if scope.touchesCollection {
            steps.append(.init(step: "release-collection-ecs", items: inventory.servers.map { server in
                if let billing = server.billing {
                    var item = prepaidItem(server.id, server.name, billing, action: "unsubscribe server (yearly/monthly, BSS)")
                    if !billing.isExpired { item.detail = "BSS releases its EIPs and data disks with it; " + (item.detail ?? "") }
                    return item
                }
                let eip = options.deletePublicIP ? "release its EIPs" : "unbind (keep) its EIPs"
                let disks = options.deleteVolume ? "delete its data disks" : "keep its data disks"
                return .init(resource: "\(server.name) \(server.id)", action: "delete server (pay-per-use, ECS)", detail: "\(eip); \(disks)", amounts: nil)
            }))
            steps.append(.init(step: "delete-vpc-endpoints", items: inventory.endpoints.map {
                .init(resource: "endpoint \($0.id)", action: "delete VPC endpoint", detail: $0.vpcID.map { "in \($0)" }, amounts: nil)
            }))
        }
        steps.append(.init(step: "verify", items: [
            .init(resource: "account \(inventory.account.domainID) project \(inventory.account.projectID)", action: "check nothing billable remains", detail: nil, amounts: nil),
        ]))
        let blockers = inventory.preflightStop(scope: scope).map { ["the teardown will stop at preflight, before any change: " + $0.reason] } ?? []
        let summary = "\(inventory.edition) edition in \(inventory.account.region), project \(inventory.account.projectID): \(inventory.quotas.count) quota(s), \(inventory.packages.count) package(s), \(inventory.servers.count) collection server(s), \(inventory.endpoints.count) VPC endpoint(s); \(assessment.fullRefundsLeftBefore) of \(estimator.fullRefundsPerYear) \(estimator.windowName) full refunds left this year"
        return WorkflowPlan(
            summary: summary, steps: steps, acknowledgements: assessment.requiredAcknowledgements, warnings: assessment.warnings, blockers: blockers,
            totals: ["refund": assessment.totalRefund, "fee": assessment.totalFee], currency: "CNY")
    }

    /// Collection nodes whose ECS server the inventory could not find: the teardown cannot release what it cannot
    /// name, so the plan, the preflight's output and the final report all say so.
    static func unmatchedNodeWarnings(_ inventory: TeardownInventory) -> [String] {
        inventory.nodes.filter { $0.serverID == nil }.map { node in
            "collection node \(node.name) (\(node.nodeID)): no ECS server found at \(node.privateIP ?? "?") in \(node.vpcID ?? "?"); release it by hand if it exists"
        }
    }
}
