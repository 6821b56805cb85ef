import Foundation

extension CloudState {
    public enum UnsubscribeType: Int, Sendable {
        /// The resource and its renewed periods.
        case resourceAndRenewals = 1
        /// Only renewed periods that have not taken effect (the simulator models no renewals: refused).
        case renewalsOnly = 2
    }

    /// BSS `CancelResourcesSubscription`: validates every id, then places one unsubscription order covering the
    /// accepted primaries and their attached resources.
    ///
    /// Parameter problems reject the whole request. Business refusals are per resource: if every resource is
    /// refused the first refusal is the answer; otherwise the accepted ones are ordered and the refused ones are
    /// listed in `fail_resource_infos` (Mutation.partialFailures).
    public mutating func unsubscribe(account a: Int, resourceIDs: [String], type: UnsubscribeType, now: Date) throws(CloudError) -> Mutation {
        advance(account: a, to: now)
        let settings = self.settings
        guard !resourceIDs.isEmpty else { throw bssParameterError("resource_ids must not be empty") }
        guard resourceIDs.count <= 10 else {
            throw bssParameterError("at most 10 resource_ids per request (got \(resourceIDs.count))")
        }
        guard Set(resourceIDs).count == resourceIDs.count else { throw bssParameterError("resource_ids contains duplicates") }
        guard type == .resourceAndRenewals else {
            throw bssParameterError("unsubscribe_type 2 (renewal periods only) is not supported: no renewal periods exist in the simulator")
        }
        var accepted: [Int] = []
        var failures: [(resourceID: String, error: CloudError)] = []
        var findings: [LedgerEffect] = []
        for id in resourceIDs {
            guard let r = accounts[a].prepaidResources.firstIndex(where: { $0.resourceID == id }) else {
                if isPayPerUse(account: a, resourceID: id) {
                    throw bssParameterError("resource \(id) is billed pay-per-use; delete it through its own service")
                }
                failures.append((id, bssError("CBC.30050009", "The resource \(id) has expired and been deleted, or does not exist.")))
                findings.append(LedgerEffect(resourceID: id, action: "not_found", changed: false))
                continue
            }
            let resource = accounts[a].prepaidResources[r]
            guard resource.isMain else {
                throw bssParameterError("resource \(id) is attached to \(resource.parentResourceID ?? "?"); unsubscribe its primary resource")
            }
            if let orderID = resource.unsubscribeOrderID, let order = accounts[a].orders.first(where: { $0.orderID == orderID }) {
                if order.status(at: now, settings: settings) == .completed {
                    var error = bssError(settings.alreadyUnsubscribedCode, "Unsubscription not supported. The resource \(id) has already been unsubscribed (order \(orderID)).")
                    error.isRepeat = true
                    failures.append((id, error))
                    findings.append(LedgerEffect(resourceID: id, action: "already_unsubscribed", changed: false))
                } else {
                    var error = bssError(settings.inFlightCode, "The resource \(id) is being unsubscribed (order \(orderID) in progress); try again later.")
                    error.isRepeat = true
                    failures.append((id, error))
                    findings.append(LedgerEffect(resourceID: id, action: "unsubscribe_in_progress", changed: false))
                }
                continue
            }
            if let unpaid = resource.unpaidOrderID {
                failures.append((id, bssError("CBC.30050010", "The resource \(id) is part of the unpaid order \(unpaid); pay or cancel that order first.")))
                findings.append(LedgerEffect(resourceID: id, action: "blocked_by_unpaid_order", changed: false))
                continue
            }
            if resource.status == .expired || resource.status == .closed {
                failures.append((id, bssError("CBC.30050009", "The resource \(id) has expired and been deleted, or does not exist.")))
                findings.append(LedgerEffect(resourceID: id, action: "expired", changed: false))
                continue
            }
            if let refusal = packageRuleViolation(account: a, resourceID: id) {
                failures.append((id, refusal))
                findings.append(LedgerEffect(resourceID: id, action: "refused_package_rule", changed: false))
                continue
            }
            accepted.append(r)
        }
        guard !accepted.isEmpty else {
            var error = failures[0].error
            error.isRepeat = failures.allSatisfy(\.error.isRepeat)
            error.effects = findings
            throw error
        }
        var mutation = placeUnsubscribeOrder(account: a, primaries: accepted, now: now)
        mutation.effects += findings
        mutation.partialFailures = failures
        return mutation
    }

    private mutating func placeUnsubscribeOrder(account a: Int, primaries: [Int], now: Date) -> Mutation {
        let orderID = newOrderID(at: now)
        let calculator = RefundCalculator(settings: settings)
        var mutation = Mutation()
        var lines: [RefundLine] = []
        var covered: [String] = []
        for r in primaries {
            let primaryID = accounts[a].prepaidResources[r].resourceID
            let family = accounts[a].prepaidResources.indices.filter {
                $0 == r || accounts[a].prepaidResources[$0].parentResourceID == primaryID
            }
            for index in family {
                let resource = accounts[a].prepaidResources[index]
                accounts[a].prepaidResources[index].unsubscribeOrderID = orderID
                covered.append(resource.resourceID)
                mutation.effects.append(LedgerEffect(resourceID: resource.resourceID, action: resource.isMain ? "unsubscribe_ordered" : "unsubscribe_ordered_with_primary", changed: true))
                guard resource.paidCents > 0 else { continue }
                let used = accounts[a].fullRefundTimes.filter { now.timeIntervalSince($0) < 365 * 86_400 }.count
                let outcome = calculator.calculate(.init(
                    paidCents: resource.paidCents, effectiveAt: resource.effectiveAt, expireAt: resource.expireAt,
                    termMonths: resource.termMonths, now: now, fullRefundsUsed: used
                ))
                if outcome.fullRefund {
                    accounts[a].fullRefundTimes.append(now)
                    mutation.money.fullRefunds += 1
                }
                mutation.money.refundCents += outcome.refundCents
                mutation.money.feeCents += outcome.feeCents
                mutation.money.consumedCents += outcome.consumedCents
                func line(_ cents: Int64) -> RefundLine {
                    RefundLine(id: newHexID(), amountCents: cents, resourceID: resource.resourceID, resourceTypeCode: resource.resourceTypeCode,
                               serviceTypeCode: resource.serviceTypeCode, regionCode: resource.regionCode, baseOrderID: resource.baseOrderID)
                }
                lines.append(line(-outcome.refundCents))
                if outcome.consumedCents > 0 { lines.append(line(outcome.consumedCents)) }
                if outcome.feeCents > 0 { lines.append(line(outcome.feeCents)) }
            }
        }
        let serviceType = accounts[a].prepaidResources[primaries[0]].serviceTypeCode
        accounts[a].orders.append(Order(
            orderID: orderID, kind: .unsubscribe, serviceTypeCode: serviceType, createdAt: now, fixedStatus: .processing,
            amountCents: mutation.money.refundCents, resourceIDs: covered, refundLines: lines,
            commissionCents: mutation.money.feeCents, consumedCents: mutation.money.consumedCents, completionApplied: false
        ))
        mutation.references = [orderID]
        return mutation
    }

    /// Auto-renew on (`enabled == true`, POST) or off (DELETE) for a yearly/monthly resource.
    public mutating func setAutoRenew(account a: Int, resourceID: String, enabled: Bool, now: Date) throws(CloudError) -> Mutation {
        advance(account: a, to: now)
        guard let r = accounts[a].prepaidResources.firstIndex(where: { $0.resourceID == resourceID }) else {
            if isPayPerUse(account: a, resourceID: resourceID) {
                throw bssParameterError("resource \(resourceID) is billed pay-per-use; auto-renew applies to yearly/monthly resources only")
            }
            throw bssError("CBC.30050009", "The resource \(resourceID) has expired and been deleted, or does not exist.")
        }
        let resource = accounts[a].prepaidResources[r]
        if let orderID = resource.unsubscribeOrderID, resource.status != .closed {
            throw bssError(settings.inFlightCode, "The resource \(resourceID) is being unsubscribed (order \(orderID) in progress); try again later.")
        }
        if resource.status == .expired {
            throw bssError("CBC.30050009", "The resource \(resourceID) has expired and been deleted, or does not exist.")
        }
        guard resource.status == .inUse || resource.status == .frozen else {
            throw bssError(settings.alreadyUnsubscribedCode, "The resource \(resourceID) has been unsubscribed.", isRepeat: false)
        }
        var mutation = Mutation()
        let changed = resource.autoRenew != enabled
        accounts[a].prepaidResources[r].autoRenew = enabled
        mutation.effects = [LedgerEffect(resourceID: resourceID, action: enabled ? "auto_renew_on" : "auto_renew_off", changed: changed)]
        return mutation
    }

    /// Is this id a pay-per-use resource of a service (ECS server or SecMaster quota/package)?
    func isPayPerUse(account a: Int, resourceID: String) -> Bool {
        accounts[a].servers.contains { $0.id == resourceID && $0.chargingMode == .postpaid && $0.deletedAt == nil }
            || accounts[a].secmasterResources.contains { $0.resourceID == resourceID && $0.chargingMode == .postpaid }
    }

    /// The SecMaster guide's rule: a value-added package can be cancelled only when no asset quota remains and the
    /// edition is basic. Returns the refusal, or `nil` if `resourceID` is not a package or the rule holds.
    func packageRuleViolation(account a: Int, resourceID: String) -> CloudError? {
        guard let package = accounts[a].secmasterResources.first(where: { $0.resourceID == resourceID && $0.kind == .package }) else { return nil }
        let quotas = accounts[a].secmasterResources.filter { $0.kind == .quota && $0.projectID == package.projectID }
        let edition = self.edition(account: a, project: package.projectID)
        guard !quotas.isEmpty || !["BASIC", "NA"].contains(edition) else { return nil }
        return CloudError(
            status: settings.packageRuleStatus, code: settings.packageRuleCode,
            message: "Value-added package \(resourceID) cannot be unsubscribed while asset quotas remain (\(quotas.map(\.resourceID).joined(separator: ", "))) or the edition (\(edition)) is not BASIC. [simulator rule from the SecMaster guide; code is a simulator choice]"
        )
    }

    func bssError(_ code: String, _ message: String, isRepeat: Bool = false) -> CloudError {
        CloudError(status: settings.bssErrorStatus, code: code, message: message, isRepeat: isRepeat)
    }

    func bssParameterError(_ message: String) -> CloudError {
        CloudError(status: 400, code: settings.bssParameterErrorCode, message: "Invalid parameter: \(message)")
    }
}
