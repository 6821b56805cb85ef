import Foundation
import HuaweiCloud
import UnwindCore
import UnwindEngine

/// Progress of unsubscribing yearly/monthly resources through BSS, kept in the step's checkpoint so that a retried
/// or re-claimed step continues where it stopped and never places a second order for the same resource.
struct UnsubscribeProgress: Codable, Sendable, Equatable {
    /// Unsubscription order → the resources it covers.
    var orders: [String: [String]] = [:]
    /// Resources found already unsubscribed or gone (nothing was done to them by this run).
    var alreadyGone: [String] = []
    /// Orders completed, with the money BSS booked.
    var booked: [BookedOrder] = []
    /// Order → how many polls in a row BSS answered that it does not know it (reads lag writes). Optional:
    /// checkpoints written before it existed have no such key.
    var unseen: [String: Int]?
    /// Resources an unsubscription was requested for without an answer (a timeout, a dropped connection, a 5xx):
    /// the request may have been applied. The same attempt tries to settle it (BSS then shows the resource in use,
    /// being unsubscribed, or gone); an attempt that ends with it unsettled counts it as applied
    /// (`presumedChanged`). Optional, like `unseen`.
    var requested: [String]?
    /// Resources BSS reported as being unsubscribed, or requested without an answer that the attempt could not
    /// settle: the cloud may have changed.
    var presumedChanged: [String]?
    /// Resources found gone whose lost unsubscription orders were looked for, so that the search is made once
    /// per resource but repeated when it could not finish (BSS not showing an order's refund lines yet).
    var lookedForLostOrders: [String]?
    /// Resources whose term ran out after the inventory (BSS status 5, or its "expired" answer): they cannot be
    /// unsubscribed, nothing was done to them, and BSS releases them itself. Optional, like `unseen`.
    var expiredMeanwhile: [String]?
    /// Looks made so far for the orders of requests whose answer was lost and whose resources BSS shows gone (the
    /// order exists, but the listing may lag). Optional, like `unseen`.
    var lostOrderLooks: Int?
    /// Resources this run asked BSS to unsubscribe, whose answer was lost, that BSS shows unsubscribed, and whose
    /// order did not show in ``BSSUnsubscription/lostOrderLooks`` looks: their money is missing from the report,
    /// which says so. Optional, like `unseen`.
    var ordersNotFound: [String]?
    /// Pauses in a row (see ``BSSUnsubscription/run(_:progress:)``) in which nothing went further, and when the
    /// first of them began. Optional, like `unseen`.
    var pausesWithoutProgress: Int?
    var pausedSince: Date?

    var submitted: Set<String> { Set(orders.values.flatMap { $0 }) }

    /// Records `ids` as requested without an answer; with `presumedChanged`, also as changes no later attempt will
    /// settle.
    mutating func noteRequested(_ ids: [String], presumedChanged presumed: Bool) {
        requested = Array(Set(requested ?? []).union(ids)).sorted()
        if presumed { presumedChanged = Array(Set(presumedChanged ?? []).union(ids)).sorted() }
    }

    /// Whether the cloud may have changed under this step: an order placed, a request whose answer did not come,
    /// or a resource the inventory saw in use found unsubscribed. From then on the workflow is past its point of
    /// no return (compensation cannot bring these back), so a step that fails later leaves it `failed`, resumable.
    var mayHaveChangedTheCloud: Bool { !orders.isEmpty || !alreadyGone.isEmpty || !(presumedChanged ?? []).isEmpty }
    var isFinished: Bool { booked.count == orders.count }

    /// Whether this progress went further than `start`: an order placed or booked, a resource found gone or expired.
    func advanced(since start: UnsubscribeProgress) -> Bool {
        orders.count > start.orders.count || booked.count > start.booked.count || alreadyGone.count > start.alreadyGone.count
            || (expiredMeanwhile?.count ?? 0) > (start.expiredMeanwhile?.count ?? 0)
    }
}

/// Unsubscribes yearly/monthly resources in batches of at most ten primary IDs and follows the orders to
/// completion with durable waits. Shared by the quota, package and server steps.
struct BSSUnsubscription {
    let client: HuaweiCloudClient
    let context: StepContext
    let input: TeardownInput
    /// Resource → the purchase order it was bought with, where known (SecMaster lists it for quotas and
    /// packages). Lets a lost answer's unsubscription order be found again: its refund lines name that order.
    /// For other resources (servers) BSS is asked which resources the refund lines' purchase orders bought.
    var purchaseOrders: [String: String] = [:]
    /// When this teardown began (its inventory): an unsubscription order created since may be this run's own.
    var since: Date?
    /// Why unsubscribing these resources now would charge a fee nobody acknowledged (nil: it would not). The
    /// five-day full-refund window can close between preflight, which checked it, and the order.
    var unacknowledgedFee: ([String]) -> String? = { _ in nil }
    /// Save progress durably; `irreversible` once an order exists (the change cannot be taken back).
    let save: (UnsubscribeProgress) async throws -> Void

    enum Outcome {
        case finished(UnsubscribeProgress)
        /// Orders are still being processed: wait and look again.
        case waiting(UnsubscribeProgress)
        /// Work got done, then a passing failure (most often the account's rate limit): go on after a pause (not
        /// before `until`, when BSS said), as a wait, which spends no attempt.
        case paused(UnsubscribeProgress, until: Date?, reason: String)

        /// Where the unsubscription stands, including orders completed since the last save.
        var progress: UnsubscribeProgress {
            switch self {
            case .finished(let progress), .waiting(let progress), .paused(let progress, _, _): progress
            }
        }
    }

    /// Unsubscribes `resourceIDs` from where `start` stopped, and follows the orders.
    ///
    /// A passing failure after this step got something done pauses instead of failing the attempt: under a rate
    /// limit an account with dozens of resources (several batches, several orders to follow) spent an attempt per
    /// throttled call and could run out of attempts while its unsubscriptions were still going through. A failure
    /// that left a request unanswered still fails the attempt (the request counts as applied, see
    /// `noteRequested`), and once pauses that moved nothing have lasted ``OutagePause/longest``, or with no
    /// progress at all, failures spend attempts as before.
    func run(_ resourceIDs: [String], progress start: UnsubscribeProgress) async throws -> Outcome {
        var progress = start
        do {
            let outcome = try await advance(resourceIDs, &progress)
            guard outcome.progress.pausesWithoutProgress != nil || outcome.progress.pausedSince != nil else { return outcome }
            // The calls went through again: an outage's clock starts afresh next time.
            var settled = outcome.progress
            (settled.pausesWithoutProgress, settled.pausedSince) = (nil, nil)
            switch outcome {
            case .finished: return .finished(settled)
            case .waiting: return .waiting(settled)
            case .paused(_, let until, let reason): return .paused(settled, until: until, reason: reason)
            }
        } catch let failure as StepFailure where failure.retryable && failure.code != "order_missing" && progress.requested == start.requested {
            // Progress in this call, or in an earlier one of this step (orders placed, resources settled) while
            // the pauses in a row that moved nothing stay few: a long throttling episode after the first batch
            // paused once and then spent every attempt, failing the pivot with orders placed.
            let advancedNow = progress.advanced(since: start)
            let progressBefore = start.advanced(since: UnsubscribeProgress())
            let now = Date()
            let idlePauses = start.pausesWithoutProgress ?? 0
            let idleSince = start.pausedSince ?? now
            guard advancedNow || (progressBefore && now.timeIntervalSince(idleSince) < OutagePause.longest) else { throw failure }
            progress.pausesWithoutProgress = advancedNow ? nil : idlePauses + 1
            progress.pausedSince = advancedNow ? nil : idleSince
            try await save(progress)
            context.logger.info("unsubscription paused after progress", metadata: ["reason": "\(failure)"])
            return .paused(progress, until: failure.notBefore ?? now.addingTimeInterval(OutagePause.delay(afterPauses: progress.pausesWithoutProgress ?? 0)),
                           reason: failure.message)
        }
    }

    private func advance(_ resourceIDs: [String], _ progress: inout UnsubscribeProgress) async throws -> Outcome {
        let domain = input.account.domainID
        var placedNow: Set<String> = []
        let pending = resourceIDs.filter {
            !progress.submitted.contains($0) && !progress.alreadyGone.contains($0) && !(progress.expiredMeanwhile ?? []).contains($0)
        }
        for batch in stride(from: 0, to: pending.count, by: 10).map({ Array(pending[$0..<min($0 + 10, pending.count)]) }) {
            var settleTries = 0
            settling: while true {
                // Asked for before this try (an earlier attempt, or this attempt's earlier try) without an answer.
                let requestedBefore = Set(progress.requested ?? [])
                // Re-read live state first: a resource BSS no longer lists as in use needs nothing.
                let live: [CustomerResource]
                do {
                    live = try await cloud({ () async throws(CloudError) in
                        try await client.queryCustomerResources(domainID: domain, resourceIDs: batch, onlyMainResource: true)
                    }) ?? []
                } catch {
                    // The look that would settle an earlier lost answer failed: the attempt ends with it unsettled,
                    // so the request counts as applied (see `noteRequested`).
                    let unsettled = batch.filter(requestedBefore.contains)
                    if !unsettled.isEmpty {
                        progress.noteRequested(unsettled, presumedChanged: true)
                        try await save(progress)
                    }
                    throw error
                }
                let inUse = batch.filter { id in live.contains { $0.resourceID == id && ($0.status == 2 || $0.status == 4) } }
                let expired = batch.filter { id in live.contains { $0.resourceID == id && $0.status == 5 } }
                if !expired.isEmpty { progress.expiredMeanwhile = (progress.expiredMeanwhile ?? []) + expired }
                progress.alreadyGone += batch.filter { !inUse.contains($0) && !expired.contains($0) }
                guard !inUse.isEmpty else {
                    try await save(progress)
                    break settling
                }
                // Looking again after a lost answer, while an operator's cancel (or a failure elsewhere) waits for
                // this step: asking BSS again would make the change the cancel is there to stop. BSS may show the
                // resource in use while it processes an order, so the order list settles it instead: an
                // unsubscription order of this run's means the change went through (followed like any other, the
                // workflow is past its point of no return and nothing is compensated); none means it did not, and
                // the step fails so that the compensation goes on. An order BSS lists without its refund lines yet
                // counts as this run's.
                // The same before a first request: a cancel that came while this attempt read BSS is honoured, and
                // nothing is ordered after it.
                if try await context.workflowIsStopping() {
                    var adopted = false
                    var lookupFailure: StepFailure?
                    do {
                        adopted = try await adoptLostOrders(for: inUse, into: &progress)
                    } catch {
                        lookupFailure = error
                    }
                    if let lookupFailure {
                        if lookupFailure.code == "order_not_visible_yet" {
                            progress.noteRequested(inUse, presumedChanged: true)
                            try await save(progress)
                        }
                        throw lookupFailure
                    }
                    // Resources found gone since the inventory (an earlier attempt's lost answer went through) are
                    // recorded too: they put the workflow past its point of no return, and dropped they would let the
                    // cancel compensate as if nothing had changed.
                    if adopted || progress.mayHaveChangedTheCloud { try await save(progress) }
                    if inUse.allSatisfy(progress.submitted.contains) { break settling }
                    let notOrdered = inUse.filter { !progress.submitted.contains($0) }.joined(separator: ", ")
                    throw StepFailure.workflowStopping(
                        settleTries > 0 || inUse.contains(where: requestedBefore.contains)
                            ? "the workflow is being stopped and BSS has no unsubscription order for \(notOrdered): the request "
                                + "whose answer was lost was not applied, and it is not asked for again"
                            : "the workflow is being stopped: \(notOrdered) was not unsubscribed, and is not asked for")
                }
                if let refusal = unacknowledgedFee(inUse) {
                    // Nothing is ordered now; an earlier request whose answer was lost stays unsettled, so it counts
                    // as applied.
                    let unsettled = inUse.filter(requestedBefore.contains)
                    if !unsettled.isEmpty {
                        progress.noteRequested(unsettled, presumedChanged: true)
                        try await save(progress)
                    }
                    throw StepFailure(code: "acknowledgement_missing", message: refusal, retryable: false)
                }
                let reason = input.options.unsubscribeReason
                let answer: UnsubscribeResult?
                do {
                    answer = try await client.unsubscribeResources(domainID: domain, resourceIDs: inUse, reasonType: 5, reason: reason)
                } catch where error.isAlreadyDone {
                    answer = nil
                } catch {
                    let inFlight = Self.inFlightCodes.contains(error.code ?? "")
                    // An earlier attempt's request for these lost its answer, and this one failed for good without BSS
                    // saying why the resource cannot go (a parameter error, rotated keys …): nothing settles whether the
                    // earlier request was applied, so it counts as applied. Only BSS's refusal for an order in progress
                    // (which the earlier request met as well) shows that nothing changed.
                    let unsettled = inUse.contains(where: requestedBefore.contains) && !error.isRetryable
                        && !Self.refusalsThatLeaveNothingChanged.contains(error.code ?? "")
                    if error.mayHaveBeenApplied || inFlight || unsettled {
                        // No answer (a timeout, a dropped connection, a 5xx), or "being unsubscribed": BSS may hold this
                        // run's request. The next attempt settles it (BSS then shows the resource in use, refused, being
                        // unsubscribed or gone); "being unsubscribed", no answer on the last attempt, or a failure that
                        // settles nothing, is past the point of no return.
                        let settleNow = error.mayHaveBeenApplied && !inFlight && !unsettled && settleTries < Self.settleWaits.count
                            && context.deadline.timeIntervalSinceNow > Self.settleWaits[min(settleTries, Self.settleWaits.count - 1)] + 60
                        // Not settled within this attempt: it counts as applied from now on. Between attempts the
                        // step is parked, and a cancel meanwhile would compensate the steps before this pivot
                        // although BSS may have unsubscribed (and booked money for) the resource.
                        progress.noteRequested(inUse, presumedChanged: inFlight || unsettled || !settleNow)
                        try await save(progress)
                        if settleNow {
                            // Settle the lost answer within this attempt: look again (and ask again) after a moment,
                            // while the step still runs. Parked for a retry instead, the step would leave a window in
                            // which a cancel compensates the steps before this pivot although BSS may have applied
                            // the request; running, it makes a cancel wait for its outcome.
                            context.logger.info("unsubscription answer lost; looking again within the attempt", metadata: [
                                "resources": "\(inUse.joined(separator: ","))", "error": "\(error)",
                            ])
                            try await Task.sleep(for: .seconds(Self.settleWaits[settleTries]))
                            settleTries += 1
                            continue settling
                        }
                    }
                    // "Being unsubscribed" after an earlier request of this run lost its answer: that is this run's order.
                    // Found, it is followed like any other (durable waits) instead of spending attempts until BSS is done.
                    if inFlight, inUse.allSatisfy(requestedBefore.contains),
                       try await adoptLostOrders(for: inUse, into: &progress), inUse.allSatisfy(progress.submitted.contains) {
                        try await save(progress)
                        break settling
                    }
                    throw error.stepFailure()
                }
                guard let result = answer else {
                    // BSS says these were unsubscribed already (e.g. by an earlier attempt whose answer was lost).
                    progress.alreadyGone += inUse
                    try await save(progress)
                    break settling
                }
                var failedPermanently: [(String, String)] = []
                var failedTransiently: [(String, String)] = []
                for failure in result.failures {
                    let code = failure.errorCode ?? ""
                    switch code {
                    case "CBC.30050009":
                        // Expired (between the re-read and the request): not unsubscribed, left to BSS.
                        progress.expiredMeanwhile = (progress.expiredMeanwhile ?? []) + [failure.resourceID]
                    case "CBC.30000067", "CBC.3124":
                        progress.alreadyGone.append(failure.resourceID)
                    case _ where Self.inFlightCodes.contains(code):
                        failedTransiently.append((failure.resourceID, "\(code) \(failure.errorMessage ?? "")"))
                    default:
                        failedPermanently.append((failure.resourceID, "\(code) \(failure.errorMessage ?? "")"))
                    }
                }
                let failedIDs = Set(result.failures.map(\.resourceID))
                let ordered = inUse.filter { !failedIDs.contains($0) }
                if let order = result.orderIDs.first, !ordered.isEmpty {
                    progress.orders[order] = ordered
                    // Several order ids for one call: keep the others too, so every one is followed.
                    for extra in result.orderIDs.dropFirst() where progress.orders[extra] == nil { progress.orders[extra] = [] }
                }
                placedNow.formUnion(result.orderIDs)
                // "Being unsubscribed" may be this run's own earlier request whose answer was lost.
                let inFlight = failedTransiently.map(\.0)
                if !inFlight.isEmpty { progress.noteRequested(inFlight, presumedChanged: true) }
                try await save(progress)
                context.logger.info("unsubscription ordered", metadata: [
                    "orders": "\(result.orderIDs.joined(separator: ","))", "resources": "\(ordered.joined(separator: ","))",
                ])
                if let (id, why) = failedPermanently.first {
                    throw StepFailure(code: why.split(separator: " ").first.map(String.init), message: "BSS refused to unsubscribe \(id): \(why)", retryable: false)
                }
                if let (id, why) = failedTransiently.first {
                    throw StepFailure(code: why.split(separator: " ").first.map(String.init), message: "BSS is busy with \(id): \(why)", retryable: true)
                }
                break settling
            }
        }
        // A resource this run meant to unsubscribe that BSS already shows unsubscribed may be this run's own doing:
        // an earlier attempt's request applied but its answer lost. Then its order exists, and its money belongs
        // in the report.
        // When this run asked for it and the answer was lost, the order surely exists: a listing that lags BSS's
        // writes is looked at again a few times (at the poll interval) before the report says the money is missing.
        var waiting = false
        let looked = Set(progress.lookedForLostOrders ?? [])
        let goneNow = progress.alreadyGone.filter { !looked.contains($0) }
        if !goneNow.isEmpty {
            _ = try await adoptLostOrders(for: goneNow, into: &progress)
            let askedFor = Set(progress.requested ?? [])
            let stillLost = goneNow.filter { progress.alreadyGone.contains($0) && askedFor.contains($0) }
            if !stillLost.isEmpty && (progress.lostOrderLooks ?? 0) + 1 < Self.lostOrderLooks {
                progress.lostOrderLooks = (progress.lostOrderLooks ?? 0) + 1
                progress.lookedForLostOrders = (progress.lookedForLostOrders ?? []) + goneNow.filter { !stillLost.contains($0) }
                waiting = true
            } else {
                if !stillLost.isEmpty {
                    progress.ordersNotFound = Array(Set(progress.ordersNotFound ?? []).union(stillLost)).sorted()
                    context.logger.warning("an unsubscription whose answer was lost went through, but its order cannot be found; its money is missing from the report", metadata: [
                        "resources": "\(stillLost.joined(separator: ","))",
                    ])
                }
                progress.lookedForLostOrders = (progress.lookedForLostOrders ?? []) + goneNow
            }
            try await save(progress)
        }
        // Follow the orders until BSS completes them, then record the money it booked.
        for (order, resources) in progress.orders.sorted(by: { $0.key < $1.key }) where !progress.booked.contains(where: { $0.orderID == order }) {
            // An order placed a moment ago is still processing (BSS takes seconds to minutes; the official
            // Terraform provider first looks after 5 s): the first look waits for the next poll instead.
            if placedNow.contains(order) {
                waiting = true
                continue
            }
            guard case .visible(let found) = try await Self.readPlaced(order, { () async throws(CloudError) in try await client.orderDetails(domainID: domain, orderID: order) }),
                let details = found else {
                try Self.notVisibleYet(order, in: &progress)
                waiting = true
                continue
            }
            if details.isCompleted {
                guard case .visible(let listed) = try await Self.readPlaced(order, { () async throws(CloudError) in try await client.refundOrders(domainID: domain, orderID: order) }) else {
                    try Self.notVisibleYet(order, in: &progress)
                    waiting = true
                    continue
                }
                progress.unseen?[order] = nil
                let refunds = listed ?? []
                let refunded = refunds.map { money($0.amount) }.filter { $0 < 0 }.reduce(0, +)
                // Not saved here: reading a completed order again is harmless, and the caller's outcome (or its next
                // checkpoint) records it. A transaction per booking was a sixth of a fleet's checkpoints.
                progress.booked.append(BookedOrder(
                    orderID: order, resourceIDs: resources, refund: round(-refunded * 100) / 100,
                    fee: money(details.commissionAmount), consumed: money(details.consumedAmount)))
            } else if details.status == 4 {
                throw StepFailure(code: "order_cancelled", message: "unsubscription order \(order) for \(resources.joined(separator: ", ")) was cancelled in BSS; check the order in the Billing Center, then resume", retryable: false)
            } else {
                progress.unseen?[order] = nil
                waiting = true
            }
        }
        if progress.unseen?.isEmpty == true { progress.unseen = nil }
        return waiting ? .waiting(progress) : .finished(progress)
    }

    /// How many times the orders of lost answers are looked for (see ``UnsubscribeProgress/ordersNotFound``).
    static let lostOrderLooks = 5

    /// Finds unsubscription orders created since this teardown began that cover `resources` (matched through the
    /// purchase order each refund line relates to) and follows them as this run's. Returns whether any was found.
    private func adoptLostOrders(for resources: [String], into progress: inout UnsubscribeProgress) async throws(StepFailure) -> Bool {
        let byPurchase = Dictionary(resources.compactMap { id in purchaseOrders[id].map { ($0, id) } }, uniquingKeysWith: { first, _ in first })
        guard let since, !resources.isEmpty else { return false }
        let domain = input.account.domainID
        // Clocks differ between this machine and BSS: look a few minutes further back than the inventory.
        let orders = try await cloud({ () async throws(CloudError) in
            try await client.listOrders(domainID: domain, orderType: CustomerOrder.typeUnsubscribe, status: nil, createdSince: since.addingTimeInterval(-300))
        }) ?? []
        var adopted = false
        for order in orders where progress.orders[order.orderID] == nil {
            // BSS lists the order but may not show its refund lines yet (reads lag writes): look again later
            // rather than fail the step for good past its pivot.
            guard case .visible(let found) = try await Self.readPlaced(order.orderID, { () async throws(CloudError) in
                try await client.refundOrders(domainID: domain, orderID: order.orderID)
            }) else {
                throw StepFailure(
                    code: "order_not_visible_yet",
                    message: "BSS lists unsubscription order \(order.orderID) but not its refund lines yet; looking again", retryable: true)
            }
            let lines = found ?? []
            var matched = Set(lines.compactMap { $0.baseOrderID.flatMap { byPurchase[$0] } })
            // The rest: servers, whose purchase order no listing gives, and resources that renewed since they were
            // bought (BSS relates the refund to the renewal order, SecMaster still names the purchase). The refund
            // lines' orders are asked which resources they bought or renewed instead.
            let unmatched = Set(resources).subtracting(matched)
            if !unmatched.isEmpty {
                for purchase in Set(lines.compactMap(\.baseOrderID)) where byPurchase[purchase] == nil {
                    let bought = try await cloud({ () async throws(CloudError) in
                        try await client.queryCustomerResources(domainID: domain, resourceIDs: [], onlyMainResource: true, orderID: purchase, statusList: [2, 3, 4, 5])
                    }) ?? []
                    matched.formUnion(bought.map(\.resourceID).filter(unmatched.contains))
                }
            }
            let covered = matched.sorted()
            guard !covered.isEmpty else { continue }
            progress.orders[order.orderID] = covered
            progress.alreadyGone.removeAll { covered.contains($0) }
            adopted = true
            context.logger.notice("found the unsubscription order of a request whose answer was lost", metadata: [
                "order": "\(order.orderID)", "resources": "\(covered.joined(separator: ","))",
            ])
        }
        return adopted
    }

    /// BSS's refusals that show a resource could not be unsubscribed (an order in progress on it, e.g. unpaid): an
    /// earlier request for it whose answer was lost met the same refusal, so nothing changed.
    static let refusalsThatLeaveNothingChanged: Set<String> = ["CBC.30050010"]

    /// Seconds to wait before each look again, within one attempt, after an unsubscription's answer was lost.
    static let settleWaits: [Double] = [2, 5]

    /// BSS's answers for a resource whose unsubscription (or another change) is still in progress.
    static let inFlightCodes: Set<String> = ["CBC.30050011", "CBC.99003651", "CBC.3144"]

    /// Polls in a row an order this run placed may read as unknown before the step gives up on it.
    static let maxUnseenPolls = 20

    enum PlacedOrderRead<T> {
        /// BSS answered (`nil`: the client's "already done" answer, e.g. a 404).
        case visible(T?)
        /// BSS says the order does not exist (`CBC.0100` "order … does not exist").
        case notVisibleYet
    }

    /// Reads something about an order this run placed. BSS can answer for a moment that an order it has just
    /// created does not exist (reads lag writes; cloud-apis.md §18); that is not a client bug here, since the id
    /// came from BSS itself, so it is looked at again at the next poll instead of failing the step past its pivot.
    static func readPlaced<T>(_ order: String, _ body: () async throws(CloudError) -> T) async throws(StepFailure) -> PlacedOrderRead<T> {
        do {
            return .visible(try await body())
        } catch {
            if error.isAlreadyDone { return .visible(nil) }
            if error.code == "CBC.0100", error.message.contains(order) { return .notVisibleYet }
            throw error.stepFailure()
        }
    }

    /// Counts one more poll at which `order` could not be read, and gives up (retryably) after too many.
    static func notVisibleYet(_ order: String, in progress: inout UnsubscribeProgress) throws(StepFailure) {
        let polls = (progress.unseen?[order] ?? 0) + 1
        guard polls <= maxUnseenPolls else {
            throw StepFailure(
                code: "order_missing",
                message: "BSS has not shown unsubscription order \(order) for \(polls) polls; check it in the Billing Center, then resume", retryable: true)
        }
        progress.unseen = (progress.unseen ?? [:]).merging([order: polls]) { $1 }
    }
}
