import Foundation
import HuaweiCloud
import UnwindCore
import UnwindEngine

/// The SecMaster teardown actions, registered under `secmaster.*`. Each one re-reads live state before it changes
/// anything and checkpoints per resource, so a retried or re-claimed step continues where it stopped and never
/// repeats an effect: a resource already gone counts as done.
public enum TeardownActions {
    public static func register(into registry: inout ActionRegistry, environment: TeardownEnvironment) {
        let env = environment
        registry.registerPlan("secmaster.plan") { try await plan($0, env) }
        registry.register("secmaster.inventory") { try await inventory($0, env) }
        registry.register("secmaster.preflight") { try await preflight($0, env) }
        registry.register("secmaster.disable-auto-renew") { try await disableAutoRenew($0, env) }
        registry.register("secmaster.restore-auto-renew") { try await restoreAutoRenew($0, env) }
        registry.register("secmaster.unsubscribe-asset-quotas") { try await unsubscribeQuotas($0, env) }
        registry.register("secmaster.unsubscribe-value-added-packages") { try await unsubscribePackages($0, env) }
        registry.register("secmaster.release-collection-ecs") { try await releaseCollectionServers($0, env) }
        registry.register("secmaster.delete-vpc-endpoints") { try await deleteEndpoints($0, env) }
        registry.register("secmaster.verify") { try await verify($0, env) }
    }

    /// Which part of the teardown a workflow is, from its name.
    /// For ``BSSUnsubscription/unacknowledgedFee``: assesses the resources again at the moment of the order, as
    /// preflight did, and words the refusal when one would now cost a handling fee the input does not accept.
    static func feeGate(
        _ inventory: TeardownInventory, _ input: TeardownInput, planner: TeardownPlanner, scope: TeardownScope, now: @escaping () -> Date = Date.init
    ) -> ([String]) -> String? {
        guard !input.options.accepted.contains(PreflightAssessment.handlingFeeFlag) else { return { _ in nil } }
        return { ids in
            let assessment = planner.assess(inventory, scope: scope, options: input.options, now: now())
            let charged = assessment.resources.filter { ids.contains($0.resourceID) && $0.costsAFee }
            guard !charged.isEmpty else { return nil }
            let fee = charged.compactMap(\.estimate?.fee).reduce(0, +)
            // A server's fee is not known before BSS books it (what was paid is not shown).
            let cost = charged.contains { $0.estimate == nil }
                ? (fee > 0 ? String(format: "handling fees of %.2f CNY and more that BSS computes", fee) : "a handling fee that BSS computes")
                : String(format: "handling fees of %.2f CNY", fee)
            return "the \(planner.estimator.windowName) full-refund window of \(charged.map(\.resourceID).joined(separator: ", ")) closed after preflight: unsubscribing now costs \(cost), "
                + "which were not acknowledged, so nothing was ordered for them. Submit the teardown again with --accept handling-fee "
                + "(if this workflow is past its point of no return, end it first: unwind cancel ID --force)"
        }
    }

    static func scope(_ context: StepContext) -> TeardownScope {
        switch context.workflowName {
        case "secmaster-release-collection": .releaseCollection
        case "secmaster-unsubscribe-packages": .packages
        default: .full
        }
    }

    static func client(_ input: TeardownInput, _ env: TeardownEnvironment, _ context: StepContext) throws(StepFailure) -> HuaweiCloudClient {
        do {
            return try env.makeClient(input, context.logger)
        } catch {
            throw error.stepFailure()
        }
    }

    // MARK: Read-only

    static func plan(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        let inventory = try await InventoryReader(client: client, input: input, now: Date(), estimator: env.planner.estimator).read()
        // The preflight step checks these too; the plan says so before anything is submitted.
        let open = try await openOrders(inventory, client)
        let plan = env.planner.plan(inventory, scope: scope(context), options: input.options, openOrders: open, now: Date())
        return .completed(.encoding(plan))
    }

    /// Orders still open on the account (pending payment, processing): BSS refuses to unsubscribe a resource
    /// while an order involving it is in progress. Taken from the inventory when it is fresh (it lists them with
    /// the account's other orders), listed again when it is older than a minute or predates that.
    static func openOrders(_ inventory: TeardownInventory, _ client: HuaweiCloudClient, now: Date = Date()) async throws(StepFailure) -> [OpenOrder] {
        if let listed = inventory.openOrders, now.timeIntervalSince(inventory.takenAt) <= 60 {
            return listed
        }
        return try await InventoryReader.openOrders(client, domain: inventory.account.domainID)
    }

    static func inventory(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let inventory = try await InventoryReader(client: try client(input, env, context), input: input, now: Date(), estimator: env.planner.estimator).read()
        context.logger.info("inventory taken", metadata: [
            "edition": "\(inventory.edition)", "quotas": "\(inventory.quotas.count)", "packages": "\(inventory.packages.count)",
            "servers": "\(inventory.servers.count)", "endpoints": "\(inventory.endpoints.count)",
        ])
        return .completed(.encoding(inventory))
    }

    static func preflight(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let inventory = try context.inventory(env)
        let client = try client(input, env, context)
        let open = try await openOrders(inventory, client)
        let assessment = env.planner.assess(inventory, scope: scope(context), options: input.options, openOrders: open, now: Date())
        if let stop = inventory.preflightStop(scope: scope(context)) {
            throw StepFailure(code: stop.code, message: stop.reason + ". Nothing was changed", retryable: false)
        }
        let missing = assessment.requiredAcknowledgements.filter { !input.options.accepted.contains($0.flag) }
        if let first = missing.first {
            throw StepFailure(
                code: "acknowledgement_missing",
                message: "not acknowledged: \(first.reason). Nothing was changed. Submit again with --accept \(first.flag)",
                retryable: false)
        }
        return .completed(.encoding(assessment))
    }

    // MARK: Auto-renew (compensable)

    struct AutoRenewState: Codable, Sendable {
        var turnedOff: [String] = []
        var restored: [String] = []
        /// Resources seen with auto-renew on whose turning off was asked for, saved before the call: if its answer
        /// is lost (or the worker dies), a retry finds it off and cannot tell who did it, and the compensation must
        /// still turn it back on. Optional: older checkpoints lack it.
        var asked: [String]?
        /// Resources the compensation found unsubscribed or gone (BSS answers "already done"): nothing to turn back
        /// on, and not `restored`, which would say they still run and renew. Optional, like `asked`.
        var gone: [String]?

        /// What the compensation turns back on: whatever this step turned off, or may have.
        var toRestore: [String] { Array(Set(turnedOff).union(asked ?? [])).sorted() }
    }

    static func disableAutoRenew(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        let inventory = try context.inventory(env)
        var state = try context.state(AutoRenewState())
        let scope = scope(context)
        // An expired resource is not renewed any more (BSS refuses to change it): nothing to turn off.
        let candidates = inventory.prepaidInOrder.filter { entry in
            entry.billing.autoRenew && !entry.billing.isExpired
                && ((scope.touchesQuotas && inventory.quotas.contains { $0.resourceID == entry.id })
                    || (scope.touchesPackages && inventory.packages.contains { $0.resourceID == entry.id })
                    || (scope.touchesCollection && inventory.servers.contains { $0.id == entry.id }))
        }
        for entry in candidates where !state.turnedOff.contains(entry.id) {
            let domain = input.account.domainID
            let live = try await cloud({ () async throws(CloudError) in
                try await client.queryCustomerResources(domainID: domain, resourceIDs: [entry.id], onlyMainResource: true)
            }) ?? []
            // Already off (or gone): not ours to restore, unless this step asked for it before (see `asked`).
            guard live.first?.expirePolicy == 3 else { continue }
            if state.asked?.contains(entry.id) != true {
                state.asked = (state.asked ?? []) + [entry.id]
                try await context.saveCheckpoint(.encoding(state))
            }
            _ = try await cloud({ () async throws(CloudError) in try await client.setAutoRenew(domainID: domain, resourceID: entry.id, enabled: false) })
            state.turnedOff.append(entry.id)
            try await context.saveCheckpoint(.encoding(state))
        }
        return .completed(.encoding(state))
    }

    /// Compensation: turns auto-renew back on exactly where this workflow turned it off.
    static func restoreAutoRenew(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        var state = try context.state(AutoRenewState())
        for id in state.toRestore where !state.restored.contains(id) && !(state.gone ?? []).contains(id) {
            let domain = input.account.domainID
            if try await cloud({ () async throws(CloudError) in try await client.setAutoRenew(domainID: domain, resourceID: id, enabled: true) }) == nil {
                state.gone = (state.gone ?? []) + [id]
                context.logger.warning("auto-renew not turned back on: BSS shows the resource unsubscribed or gone", metadata: ["resource": "\(id)"])
            } else {
                state.restored.append(id)
            }
            try await context.saveCheckpoint(.encoding(state))
        }
        return .completed(.encoding(state))
    }

    /// Cancels pay-per-use SecMaster resources (a pivot's irreversible change) and records them in the checkpoint.
    /// A failure records what it leaves in doubt first (see ``payPerUseCancellationFailed``).
    static func cancelPayPerUse<State: PayPerUseCancelling>(
        _ ids: [String], in state: inout State, client: HuaweiCloudClient, project: String, context: StepContext
    ) async throws {
        guard !ids.isEmpty else { return }
        // A cancel (or a failure elsewhere) that came while the step read SecMaster: nothing is cancelled after it.
        // An earlier request whose answer was lost is asked again all the same: that is what settles it.
        let unanswered = Set(state.cancelUnanswered ?? [])
        if !ids.contains(where: unanswered.contains), try await context.workflowIsStopping() {
            throw StepFailure.workflowStopping(
                "the workflow is being stopped: pay-per-use \(ids.joined(separator: ", ")) were not cancelled, and are not asked for")
        }
        var failure: CloudError?
        do {
            _ = try await client.deletePayPerUseSubscriptions(projectID: project, resourceIDs: ids)
        } catch {
            // Gone already (an earlier attempt's request whose answer was lost) is cancelled all the same.
            if !error.isAlreadyDone { failure = error }
        }
        if let failure {
            let presumed = payPerUseCancellationFailed(failure, ids: ids, unanswered: &state.cancelUnanswered, context: context)
            try await context.saveCheckpoint(.encoding(state), irreversible: presumed)
            throw failure.stepFailure()
        }
        state.cancelled += ids
        try await context.saveCheckpoint(.encoding(state), irreversible: true)
    }

    /// After a pay-per-use cancellation of `ids` failed: records a lost answer in `unanswered` and returns whether
    /// the cancellation now counts as applied (past the point of no return). It does when the answer was lost, or
    /// an earlier one was: the attempt ends without knowing, and between attempts a cancel would compensate the
    /// steps before the pivot although the resource may be gone. The next attempt asks again (SecMaster answers
    /// that a gone resource is gone).
    static func payPerUseCancellationFailed(_ error: CloudError, ids: [String], unanswered: inout [String]?, context: StepContext) -> Bool {
        let askedBefore = ids.contains { (unanswered ?? []).contains($0) }
        if error.mayHaveBeenApplied { unanswered = Array(Set(unanswered ?? []).union(ids)).sorted() }
        return error.mayHaveBeenApplied || askedBefore
    }

    // MARK: Asset quotas (the pivot)

    /// A pivot's checkpoint that cancels pay-per-use resources.
    protocol PayPerUseCancelling: Codable {
        var cancelled: [String] { get set }
        var cancelUnanswered: [String]? { get set }
    }

    /// The checkpoint of a step that unsubscribes a group of SecMaster resources (asset quotas, packages).
    protocol GroupUnsubscribing: PayPerUseCancelling {
        var progress: String? { get set }
        var bss: UnsubscribeProgress { get set }
    }

    enum GroupUnsubscription {
        case finished
        /// Look again at the next poll (nil) or, after a passing failure, not before the time BSS gave.
        case waiting(until: Date?)
    }

    /// The changes of the quota and package pivots: the yearly/monthly `prepaid` resources are unsubscribed through
    /// BSS (each change saved in `state` first), then the pay-per-use ones `postpaid` picks are cancelled.
    /// `.waiting` while BSS still processes orders: the caller waits and looks again.
    static func unsubscribe<State: GroupUnsubscribing>(
        _ group: [SubscriptionItem], prepaid: [String], postpaid: (State) -> [String], state: inout State, label: String,
        client: HuaweiCloudClient, input: TeardownInput, inventory: TeardownInventory, context: StepContext, env: TeardownEnvironment
    ) async throws -> GroupUnsubscription {
        let checkpoint = PivotCheckpoint(context: context, changedAtStart: state.bss.mayHaveChangedTheCloud)
        var saved = state  // the save closure outlives this call's access to `state`
        let unsubscription = BSSUnsubscription(
            client: client, context: context, input: input, purchaseOrders: inventory.purchaseOrders(of: group), since: inventory.takenAt,
            unacknowledgedFee: feeGate(inventory, input, planner: env.planner, scope: scope(context))
        ) { progress in
            saved.bss = progress
            try await checkpoint.save(.encoding(saved), changed: progress.mayHaveChangedTheCloud)
        }
        let outcome = try await unsubscription.run(prepaid, progress: state.bss)
        state.bss = outcome.progress
        let completed = "\(label): \(state.bss.booked.count)/\(state.bss.orders.count) unsubscription orders completed"
        if case .paused(_, let until, let reason) = outcome {
            // The pay-per-use cancellations wait too: under the account's rate limit they would fail the attempt.
            state.progress = "\(completed); paused: \(reason)"
            return .waiting(until: until)
        }
        try await cancelPayPerUse(postpaid(state), in: &state, client: client, project: input.account.projectID, context: context)
        guard case .waiting = outcome else { return .finished }
        state.progress = completed
        return .waiting(until: nil)
    }

    struct QuotaState: Codable, Sendable, GroupUnsubscribing {
        var progress: String?
        var bss = UnsubscribeProgress()
        var cancelled: [String] = []
        /// Pay-per-use resources whose cancellation got no answer (see ``payPerUseCancellationFailed``).
        var cancelUnanswered: [String]?
        var confirmPolls = 0
    }

    static func unsubscribeQuotas(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        let inventory = try context.inventory(env)
        var state = try context.state(QuotaState())
        let project = input.account.projectID

        let expiredQuotas = inventory.expired(inventory.quotas)
        let prepaid = inventory.quotas.filter { $0.chargingMode == .prepaid && !expiredQuotas.contains($0.resourceID) }.map(\.resourceID)
        let postpaid = { (state: QuotaState) in
            inventory.quotas.filter { $0.chargingMode == .postpaid && !state.cancelled.contains($0.resourceID) }.map(\.resourceID)
        }
        if case .waiting(let until) = try await unsubscribe(inventory.quotas, prepaid: prepaid, postpaid: postpaid, state: &state, label: "asset quotas",
                                                           client: client, input: input, inventory: inventory, context: context, env: env) {
            return .wait(until: until ?? env.nextPoll(), checkpoint: .encoding(state))
        }
        // Confirm in SecMaster: no asset quota may remain (reads can lag the orders a little).
        let live = try await cloud({ () async throws(CloudError) in try await client.listSubscriptionResources(projectID: project) })
        let expiredMeanwhile = state.bss.expiredMeanwhile ?? []
        let remaining = live?.resources.filter { resource in
            inventory.quotas.contains { $0.resourceID == resource.resourceID } && !expiredQuotas.contains(resource.resourceID)
                && !expiredMeanwhile.contains(resource.resourceID)
        } ?? []
        if !remaining.isEmpty {
            state.confirmPolls += 1
            guard state.confirmPolls <= env.maxConfirmPolls else {
                throw StepFailure(code: "still_present", message: "asset quotas \(remaining.map(\.resourceID).joined(separator: ", ")) are still listed by SecMaster after their unsubscription completed", retryable: false)
            }
            return .wait(until: env.nextPoll(), checkpoint: .encoding(state))
        }
        return .completed(report(bss: state.bss, cancelled: state.cancelled, edition: live?.csbVersion).adding([
            SubscriptionSnapshot.outputKey: live.map { .encoding(SubscriptionSnapshot($0, takenAt: Date())) },
            "expired_left_to_bss": expiredQuotas.isEmpty && expiredMeanwhile.isEmpty ? nil
                : .array(Set(expiredQuotas + expiredMeanwhile).sorted().map { .string($0) }),
        ]))
    }

    static func report(bss: UnsubscribeProgress, cancelled: [String], edition: String?, skipped: [String: String] = [:]) -> JSONValue {
        var object: [String: JSONValue] = [
            "unsubscribed": .array(bss.booked.flatMap(\.resourceIDs).sorted().map { .string($0) }),
            "cancelled": .array(cancelled.sorted().map { .string($0) }),
            "already_gone": .array(bss.alreadyGone.sorted().map { .string($0) }),
            "orders": .array(bss.booked.map(\.report)),
            "refund": .number(round(bss.booked.map(\.refund).reduce(0, +) * 100) / 100),
            "fee": .number(round(bss.booked.map(\.fee).reduce(0, +) * 100) / 100),
        ]
        if let edition { object["edition_after"] = .string(edition.uppercased()) }
        if !skipped.isEmpty { object["skipped"] = .object(skipped.mapValues { .string($0) }) }
        if let missing = bss.ordersNotFound, !missing.isEmpty {
            object["warnings"] = [.string(ordersNotFoundWarning(missing))]
        }
        return .object(object)
    }

    static func ordersNotFoundWarning(_ resources: [String]) -> String {
        "BSS shows \(resources.joined(separator: ", ")) unsubscribed after a request whose answer was lost, but its unsubscription order did not show in \(BSSUnsubscription.lostOrderLooks) looks: its refund and fee are not in this report. Find the order in the Billing Center (Orders > Unsubscriptions)"
    }

    // MARK: Value-added packages

    struct PackageState: Codable, Sendable, GroupUnsubscribing {
        var progress: String?
        var bss = UnsubscribeProgress()
        var cancelled: [String] = []
        /// Pay-per-use resources whose cancellation got no answer (see ``payPerUseCancellationFailed``).
        var cancelUnanswered: [String]?
        var skipped: [String: String] = [:]
        var polls = 0
        /// The packages SecMaster listed when the step found no quota left and the edition basic. Once set, a
        /// resume that only follows the orders does not list the subscription again: packages only ever leave
        /// the list, and each unsubscription re-reads BSS before it changes anything.
        var present: [String]?
    }

    static func unsubscribePackages(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        let inventory = try context.inventory(env)
        var state = try context.state(PackageState())
        let project = input.account.projectID
        let expiredPackages = inventory.expired(inventory.packages)
        if state.bss.orders.isEmpty, inventory.packages.allSatisfy({ expiredPackages.contains($0.resourceID) }) {
            // No live package (none at all, or only expired ones): nothing to unsubscribe, and nothing to wait for
            // (an expired quota stays listed until BSS releases it). Preflight stops a teardown where a live
            // package would be blocked. Orders in the checkpoint (a resume from the inventory, which no longer
            // sees what this step unsubscribed before) are followed below, so that the report keeps their money.
            return .completed(report(bss: state.bss, cancelled: state.cancelled, edition: nil).adding([
                "expired_left_to_bss": expiredPackages.isEmpty ? nil : .array(expiredPackages.map { .string($0) }),
            ]))
        }
        if state.present == nil, let snapshot = SubscriptionSnapshot.handedOver(context.outputs["unsubscribe-asset-quotas"], now: Date()),
            snapshot.allowsPackageUnsubscription {
            // The quota step listed the subscription an instant ago, when it confirmed the quotas gone: no need to
            // list it again (one call per account). An older listing (a resume, a backlog) is read afresh below.
            state.present = snapshot.resourceIDs.sorted()
        }
        if state.present == nil {
            guard let live = try await cloud({ () async throws(CloudError) in try await client.listSubscriptionResources(projectID: project) }) else {
                throw StepFailure(code: "not_found", message: "SecMaster has no subscription record for project \(project)", retryable: true)
            }
            // Packages can only go once no asset quota remains and the edition is basic.
            let snapshot = SubscriptionSnapshot(live, takenAt: Date())
            if !snapshot.allowsPackageUnsubscription {
                state.polls += 1
                guard state.polls <= env.maxConfirmPolls else {
                    throw StepFailure(code: "quotas_remain", message: "value-added packages can only be unsubscribed once no asset quota remains and the edition is basic; edition is \(snapshot.edition), quotas left: \(snapshot.quotaIDs.joined(separator: ", "))", retryable: false)
                }
                return .wait(until: env.nextPoll(), checkpoint: .encoding(state))
            }
            state.present = snapshot.resourceIDs.sorted()
        }
        let present = Set(state.present ?? [])
        // Pay-per-use professional packages go with their asset quota when the quota step cancels it. Any other
        // package missing from the list went by hand, or by a request of an earlier attempt of this step that
        // ended before its checkpoint (a crash, a timeout): not by the quota.
        let cascaded = inventory.edition.uppercased() == "PROFESSIONAL"
            && !(context.outputs["unsubscribe-asset-quotas"]?["cancelled"]?.arrayValue ?? []).isEmpty
        for package in inventory.packages where !present.contains(package.resourceID) && state.skipped[package.resourceID] == nil
            && !state.bss.submitted.contains(package.resourceID) && !state.cancelled.contains(package.resourceID) {
            state.skipped[package.resourceID] = package.chargingMode == .postpaid && cascaded
                ? "removed together with the pay-per-use professional asset quota"
                : "no longer listed by SecMaster (already unsubscribed or cancelled)"
        }
        let prepaid = inventory.packages.filter { $0.chargingMode == .prepaid && present.contains($0.resourceID) || state.bss.submitted.contains($0.resourceID) }.map(\.resourceID)
        // The pivot of `secmaster-unsubscribe-packages`.
        let postpaid = { (state: PackageState) in
            inventory.packages.filter { $0.chargingMode == .postpaid && present.contains($0.resourceID) && !state.cancelled.contains($0.resourceID) }.map(\.resourceID)
        }
        if case .waiting(let until) = try await unsubscribe(inventory.packages, prepaid: prepaid, postpaid: postpaid, state: &state, label: "packages",
                                                           client: client, input: input, inventory: inventory, context: context, env: env) {
            return .wait(until: until ?? env.nextPoll(), checkpoint: .encoding(state))
        }
        return .completed(report(bss: state.bss, cancelled: state.cancelled, edition: nil, skipped: state.skipped))
    }

    // MARK: Collection servers

    struct ServerState: Codable, Sendable {
        /// For `unwind status`: e.g. "collection ECS 2/3 released".
        var progress: String?
        /// Open ECS delete jobs → their servers.
        var jobs: [String: [String]] = [:]
        var failedDeletes: [String: Int] = [:]
        var confirmedGone: [String] = []
        var bss = UnsubscribeProgress()
        var polls = 0
        /// Set once ECS accepted a deletion, or once one may have been applied (its answer was lost). Optional:
        /// older checkpoints lack it.
        var deletionRequested: Bool?
        /// Servers whose deletion got no answer (counted as a change at once): the next attempt's re-read shows
        /// whether it was applied (being deleted, or gone) and asks again if not.
        var deleteUnanswered: [String]?
        /// Pauses in a row while following the deletion through a cloud outage, and when the first began (see
        /// ``OutagePause``). Optional: older checkpoints lack them.
        var outagePauses: Int?
        var pausedSince: Date?

        /// See ``UnsubscribeProgress/mayHaveChangedTheCloud``: this step is the pivot of
        /// `secmaster-release-collection`. (A deletion whose answer was lost shows on the next attempt as a server
        /// `DELETING` or gone, whose job that attempt does not know: it is taken for this run's doing.)
        var mayHaveChangedTheCloud: Bool { deletionRequested == true || !jobs.isEmpty || bss.mayHaveChangedTheCloud }
    }

    /// ECS's "the server does not exist", in a deletion sub-job too.
    static let serverNotFoundCode = "Ecs.0114"

    static func releaseCollectionServers(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        let inventory = try context.inventory(env)
        var state = try context.state(ServerState())
        let (pausesBefore, pausedBefore) = (state.outagePauses, state.pausedSince)
        (state.outagePauses, state.pausedSince) = (nil, nil)
        var askedWithoutAnswer = false  // a deletion asked for in this call got no answer: that spends the attempt
        let project = input.account.projectID
        let checkpoint = PivotCheckpoint(context: context, changedAtStart: state.mayHaveChangedTheCloud)
        func save() async throws { try await checkpoint.save(.encoding(state), changed: state.mayHaveChangedTheCloud) }

        do {
            // 1. Follow open delete jobs; a failed sub-job puts only its server back in line.
            for (jobID, servers) in state.jobs.sorted(by: { $0.key < $1.key }) {
                let job = try await cloud({ () async throws(CloudError) in try await client.showJob(projectID: project, jobID: jobID) }) ?? nil
                guard let job else {
                    state.jobs[jobID] = nil  // purged: the servers' own state tells what happened
                    continue
                }
                guard job.status.isFinished else { continue }
                state.jobs[jobID] = nil
                // What the job deleted is gone, whatever a read that lags the job says a moment later: a stale read
                // showing a server ACTIVE had it deleted again.
                let failedServers = Set(job.subJobs.filter { $0.status == .fail && $0.errorCode != Self.serverNotFoundCode }.compactMap(\.serverID))
                for server in servers where !failedServers.contains(server) && (job.status == .success || job.subJobs.contains { $0.serverID == server })
                    && !state.confirmedGone.contains(server) {
                    state.confirmedGone.append(server)
                }
                if job.status == .fail {
                    // A sub-job that failed because the server was not there any more (Ecs.0114) deleted nothing, and
                    // has nothing left to delete.
                    for sub in job.subJobs where sub.status == .fail && sub.errorCode != Self.serverNotFoundCode {
                        guard let server = sub.serverID, servers.contains(server) else { continue }
                        state.failedDeletes[server, default: 0] += 1
                        if state.failedDeletes[server]! >= 3 {
                            // Saved without the job and with a fresh count first, so that an operator's resume (once
                            // the cause is fixed) deletes the server again rather than reading this failure anew.
                            state.failedDeletes[server] = nil
                            try await save()
                            throw StepFailure(code: sub.errorCode ?? "delete_failed", message: "ECS failed to delete server \(server) three times: \(sub.failReason ?? job.failReason ?? "no reason given")", retryable: false)
                        }
                        context.logger.warning("ECS delete failed for one server; retrying it alone", metadata: ["server": "\(server)", "reason": "\(sub.failReason ?? "")"])
                    }
                }
                try await save()
            }
            let inJobs = Set(state.jobs.values.flatMap { $0 })

            // 2. Pay-per-use servers not gone, not in a running job and not being deleted by someone else: delete them
            //    (re-reading them first).
            var toDelete: [String] = []
            let candidates = inventory.servers.filter { $0.chargingMode == .postpaid && !state.confirmedGone.contains($0.id) && !inJobs.contains($0.id) }
            let liveServers: [String: ECSServer]
            do {
                liveServers = try await ServerLookup(client: client, projectID: project).live(candidates.map(\.id))
            } catch {
                let unanswered = Set(state.deleteUnanswered ?? [])
                if candidates.contains(where: { unanswered.contains($0.id) }) {
                    state.deletionRequested = true
                    try await save()
                }
                throw error
            }
            for server in candidates {
                let live = liveServers[server.id]
                if live == nil || live?.isDeleted == true {
                    state.confirmedGone.append(server.id)
                    state.deletionRequested = true  // gone since the inventory saw it: the account changed
                } else if live?.isBeingDeleted != true {
                    toDelete.append(server.id)
                } else {
                    state.deletionRequested = true
                }
            }
            if toDelete.isEmpty, state.mayHaveChangedTheCloud, !checkpoint.changedAtStart { try await save() }  // recorded before anything can fail
            if !toDelete.isEmpty {
                // A cancel (or a failure elsewhere) that came while this attempt read ECS: nothing is deleted after it.
                // What the reads found changed (servers gone or being deleted since the inventory) is recorded first:
                // it puts the workflow past its point of no return, and thrown away it would let the cancel
                // compensate as if nothing had changed.
                if try await context.workflowIsStopping() {
                    if state.mayHaveChangedTheCloud, !checkpoint.changedAtStart { try await save() }
                    throw StepFailure.workflowStopping(
                        "the workflow is being stopped: servers \(toDelete.joined(separator: ", ")) were not deleted, and are not asked for")
                }
                let options = input.options
                let job: String?
                do {
                    job = try await client.deleteServers(projectID: project, serverIDs: toDelete, deletePublicIP: options.deletePublicIP, deleteVolume: options.deleteVolume)
                } catch where error.isAlreadyDone {
                    job = nil
                } catch {
                    // No answer: it counts as a change (between attempts a cancel would otherwise compensate the steps
                    // before this pivot while ECS deletes the servers). The next attempt's re-read of the servers
                    // shows them being deleted or gone if it was applied, and asks again if not.
                    if error.mayHaveBeenApplied {
                        askedWithoutAnswer = true
                        state.deleteUnanswered = Array(Set(state.deleteUnanswered ?? []).union(toDelete)).sorted()
                        state.deletionRequested = true
                        try await save()
                    }
                    throw error.stepFailure()
                }
                state.deletionRequested = true
                if let jobID = job {
                    state.jobs[jobID] = toDelete
                } else {
                    state.confirmedGone += toDelete
                }
                // The job must be known before anything else can fail: it is what later checks follow.
                try await save()
            }

            // 3. Yearly/monthly servers go through BSS. An expired one cannot be unsubscribed: BSS releases it itself
            //    at the end of its retention period, so it is reported, not waited for.
            let expired = inventory.expiredServers
            for id in expired where !state.confirmedGone.contains(id) { state.confirmedGone.append(id) }
            let prepaid = inventory.servers.filter { $0.chargingMode == .prepaid && !expired.contains($0.id) }.map(\.id)
            let unsubscription = BSSUnsubscription(
                client: client, context: context, input: input, since: inventory.takenAt, unacknowledgedFee: feeGate(inventory, input, planner: env.planner, scope: scope(context))
            ) { progress in
                state.bss = progress
                try await save()
            }
            let outcome = try await unsubscription.run(prepaid, progress: state.bss)
            state.bss = outcome.progress
            if case .paused(_, let until, let reason) = outcome {
                state.progress = "collection ECS \(state.confirmedGone.count)/\(inventory.servers.count) released; paused: \(reason)"
                return .wait(until: until ?? env.nextPoll(), checkpoint: .encoding(state))
            }
            // A term that ran out since the inventory: left to BSS like the servers expired before it.
            let expiredMeanwhile = state.bss.expiredMeanwhile ?? []
            for id in expiredMeanwhile where !state.confirmedGone.contains(id) { state.confirmedGone.append(id) }

            // 4. Confirm every server is gone (a server can stay visible a little after its job succeeded).
            let unconfirmed = inventory.servers.filter { server in
                !state.confirmedGone.contains(server.id) && !state.jobs.values.contains(where: { $0.contains(server.id) })
            }
            let stillThere = try await ServerLookup(client: client, projectID: project).live(unconfirmed.map(\.id))
            for server in unconfirmed where stillThere[server.id].map(\.isDeleted) ?? true { state.confirmedGone.append(server.id) }
            state.progress = "collection ECS \(state.confirmedGone.count)/\(inventory.servers.count) released"
            let allGone = inventory.servers.allSatisfy { state.confirmedGone.contains($0.id) }
            if allGone, case .finished = outcome {
                var result: [String: JSONValue] = [
                    "released": .array(state.confirmedGone.filter { !expired.contains($0) && !expiredMeanwhile.contains($0) }.sorted().map { .string($0) }),
                    "expired_left_to_bss": .array(Set(expired + expiredMeanwhile).sorted().map { .string($0) }),
                    "delete_publicip": .bool(input.options.deletePublicIP), "delete_volume": .bool(input.options.deleteVolume),
                ]
                if case .object(let money) = report(bss: state.bss, cancelled: [], edition: nil) {
                    result["orders"] = money["orders"]
                    result["refund"] = money["refund"]
                    result["fee"] = money["fee"]
                    result["warnings"] = money["warnings"]
                }
                return .completed(.object(result))
            }
            state.polls += 1
            guard state.polls <= env.maxConfirmPolls * 2 else {
                let left = inventory.servers.filter { !state.confirmedGone.contains($0.id) }.map(\.id)
                throw StepFailure(code: "still_present", message: "servers \(left.joined(separator: ", ")) are still present after their release was requested", retryable: false)
            }
            return .wait(until: env.nextPoll(), checkpoint: .encoding(state))
        } catch let failure as StepFailure where failure.retryable && !state.jobs.isEmpty && !askedWithoutAnswer && failure.code != "order_missing" {
            // Deletion jobs are running and the cloud fails passingly (an outage, throttling): wait and look again
            // instead of spending an attempt per failed poll (see ``OutagePause``). A deletion asked for in this call
            // without an answer still spends one, as before.
            let now = Date()
            let since = pausedBefore ?? now
            guard now.timeIntervalSince(since) < OutagePause.longest else { throw failure }
            state.outagePauses = (pausesBefore ?? 0) + 1
            state.pausedSince = since
            state.progress = "collection ECS \(state.confirmedGone.count)/\(inventory.servers.count) released; paused: \(failure.message)"
            context.logger.info("following the server deletions paused", metadata: ["reason": "\(failure)"])
            return .wait(until: failure.notBefore ?? now.addingTimeInterval(OutagePause.delay(afterPauses: state.outagePauses ?? 1)),
                         checkpoint: .encoding(state))
        }
    }

    // MARK: VPC endpoints

    struct EndpointState: Codable, Sendable {
        var progress: String?
        var deleted: [String] = []
        var confirmedGone: [String] = []
        var polls = 0
    }

    static func deleteEndpoints(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        let inventory = try context.inventory(env)
        var state = try context.state(EndpointState())
        let project = input.account.projectID
        // The deletions are recorded by the wait below, not one checkpoint each: deleting an endpoint again after
        // a crash is harmless (VPCEP answers a repeated deletion as in progress, or 404, which counts as done).
        // A deletion that fails records those before it, so that the retry does not ask for them again: under
        // throttling or faults every repeated call is one more chance to fail after the work was done.
        let toDelete = inventory.endpoints.filter { !state.deleted.contains($0.id) }
        for endpoint in toDelete {
            do {
                _ = try await cloud({ () async throws(CloudError) in try await client.deleteEndpoint(projectID: project, endpointID: endpoint.id) })
            } catch where error.retryable && endpoint.id != toDelete.first?.id {
                // Work got done before a passing failure (most often the account's rate limit, under which a
                // hundred endpoints take minutes): go on after a pause, as a wait, which spends no attempt. Failing
                // the attempt instead ran out of attempts with deletions still succeeding. An endpoint that fails
                // every time makes no progress, so its failures still spend attempts and end the step.
                state.progress = "VPC endpoints: \(state.deleted.count)/\(inventory.endpoints.count) deletions requested; paused: \(error.message)"
                return .wait(until: error.notBefore ?? env.nextPoll(), checkpoint: .encoding(state))
            } catch {
                if endpoint.id != toDelete.first?.id { try await context.saveCheckpoint(.encoding(state)) }
                throw error
            }
            state.deleted.append(endpoint.id)
        }
        if !toDelete.isEmpty {
            // A deletion just requested is still running (VPCEP takes one to two minutes): look at the next poll.
            state.progress = "VPC endpoints \(state.confirmedGone.count)/\(inventory.endpoints.count) deleted"
            return .wait(until: env.nextPoll(), checkpoint: .encoding(state))
        }
        let unconfirmed = inventory.endpoints.filter { state.deleted.contains($0.id) && !state.confirmedGone.contains($0.id) }
        let stillThere = try await EndpointLookup(client: client, projectID: project).live(unconfirmed.map { (id: $0.id, vpcID: $0.vpcID) })
        for endpoint in unconfirmed where stillThere[endpoint.id] == nil { state.confirmedGone.append(endpoint.id) }
        if state.confirmedGone.count == inventory.endpoints.count {
            return .completed(["deleted": .array(state.confirmedGone.sorted().map { .string($0) })])
        }
        state.progress = "VPC endpoints \(state.confirmedGone.count)/\(inventory.endpoints.count) deleted"
        state.polls += 1
        guard state.polls <= env.maxConfirmPolls else {
            throw StepFailure(code: "still_present", message: "VPC endpoints are still being deleted after \(state.polls) checks", retryable: false)
        }
        return .wait(until: env.nextPoll(), checkpoint: .encoding(state))
    }

    // MARK: Verify

    /// The resources the given steps reported as expired and left to BSS (`expired_left_to_bss`), including those
    /// whose term ran out during the run, which the inventory cannot know.
    static func leftToBSS(by steps: [String], _ context: StepContext) -> Set<String> {
        Set(steps.flatMap { context.outputs[$0]?["expired_left_to_bss"]?.arrayValue?.compactMap(\.stringValue) ?? [] })
    }

    static func verify(_ context: StepContext, _ env: TeardownEnvironment) async throws -> StepOutcome {
        let input = try TeardownInput(context.input)
        let client = try client(input, env, context)
        let inventory = try context.inventory(env)
        let scope = scope(context)
        let project = input.account.projectID
        var remaining: [String] = []
        let live = try await cloud({ () async throws(CloudError) in try await client.listSubscriptionResources(projectID: project) })
        let edition = live?.csbVersion.uppercased() ?? "NA"
        // Expired items stay listed until BSS releases them, unbilled: reported, not counted as remaining. Those
        // whose term ran out during the teardown are in the steps' own reports.
        let expiredDuringRun = leftToBSS(by: ["unsubscribe-asset-quotas", "unsubscribe-value-added-packages"], context)
        let expiredItems = Set(inventory.expired(inventory.quotas) + inventory.expired(inventory.packages)).union(expiredDuringRun)
        var expiredListed: [String] = []
        for resource in live?.resources ?? [] {
            let kind = SecMasterCatalog.kind(of: resource)
            guard (kind == .quota && scope.touchesQuotas) || (kind == .package && scope.touchesPackages) else { continue }
            if expiredItems.contains(resource.resourceID) {
                expiredListed.append(resource.resourceID)
            } else {
                remaining.append("SecMaster \(kind.rawValue) \(resource.resourceID)")
            }
        }
        let expiredQuotaListed = expiredListed.contains { id in inventory.quotas.contains { $0.resourceID == id } }
        if scope == .full, !expiredQuotaListed, !SecMasterCatalog.isBasic(edition) {
            remaining.append("SecMaster edition is still \(edition)")
        }
        let serversExpiredDuringRun = leftToBSS(by: ["release-collection-ecs"], context)
        if scope.touchesCollection {
            let released = inventory.servers.filter { $0.billing?.isExpired != true && !serversExpiredDuringRun.contains($0.id) }
            let live = try await ServerLookup(client: client, projectID: project).live(released.map(\.id))
            for server in released {
                if let left = live[server.id], !left.isDeleted { remaining.append("ECS server \(server.id) (\(left.status))") }
            }
            let endpoints = try await EndpointLookup(client: client, projectID: project).live(inventory.endpoints.map { (id: $0.id, vpcID: $0.vpcID) })
            for endpoint in inventory.endpoints where endpoints[endpoint.id] != nil {
                remaining.append("VPC endpoint \(endpoint.id)")
            }
        }
        if !remaining.isEmpty {
            throw StepFailure(code: "billable_resources_remain", message: "still billable after the teardown: \(remaining.joined(separator: "; ")). Release them, then resume or skip this step", retryable: true)
        }
        var refund = 0.0, fee = 0.0
        var orders: [JSONValue] = []
        var stepWarnings: [String] = []
        for step in ["unsubscribe-asset-quotas", "unsubscribe-value-added-packages", "release-collection-ecs"] {
            refund += context.outputs[step]?["refund"]?.doubleValue ?? 0
            fee += context.outputs[step]?["fee"]?.doubleValue ?? 0
            orders += context.outputs[step]?["orders"]?.arrayValue ?? []
            stepWarnings += context.outputs[step]?["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        // Expired yearly/monthly servers cannot be unsubscribed: BSS releases them at the end of their retention
        // period. They are not billed, but they are not removed either, and the report says so.
        // Those whose term ran out during the teardown are left to BSS too (the steps' reports name them).
        let expiredServers = scope.touchesCollection ? Array(Set(inventory.expiredServers).union(serversExpiredDuringRun)).sorted() : []
        let expiredQuotas = expiredItems.intersection(inventory.quotas.map(\.resourceID))
        let expiredPackages = expiredItems.intersection(inventory.packages.map(\.resourceID))
        // What the inventory saw and the steps removed; after a resume from the inventory (which then reads what
        // is left), the steps' own reports are what still knows what they removed.
        func removedBy(_ step: String, _ keys: [String]) -> Int {
            Set(keys.flatMap { context.outputs[step]?[$0]?.arrayValue?.compactMap(\.stringValue) ?? [] }).count
        }
        // What the teardown could not release because it could not find it: the operator's to do by hand.
        let unmatched = scope.touchesCollection ? TeardownPlanner.unmatchedNodeWarnings(inventory) : []
        let report: JSONValue = [
            "account": .string(input.account.domainID), "project": .string(project), "region": .string(input.account.region),
            "edition_after": .string(edition),
            "removed": .object([
                "quotas": .number(Double(scope.touchesQuotas
                    ? max(inventory.quotas.count - expiredQuotas.count, removedBy("unsubscribe-asset-quotas", ["unsubscribed", "cancelled"])) : 0)),
                "packages": .number(Double(scope.touchesPackages
                    ? max(inventory.packages.count - expiredPackages.count, removedBy("unsubscribe-value-added-packages", ["unsubscribed", "cancelled"])) : 0)),
                "servers": .number(Double(scope.touchesCollection
                    ? max(inventory.servers.count - expiredServers.count, removedBy("release-collection-ecs", ["released"])) : 0)),
                "endpoints": .number(Double(scope.touchesCollection
                    ? max(inventory.endpoints.count, removedBy("delete-vpc-endpoints", ["deleted"])) : 0)),
            ]),
            "refund": .number(round(refund * 100) / 100), "fee": .number(round(fee * 100) / 100), "currency": "CNY",
            "orders": .array(orders),
            "duration_seconds": .number((Date().timeIntervalSince(inventory.takenAt) * 10).rounded() / 10),
        ]
        return .completed(report.adding([
            "expired_servers_left_to_bss": expiredServers.isEmpty ? nil : .array(expiredServers.map { .string($0) }),
            "expired_secmaster_left_to_bss": expiredListed.isEmpty ? nil : .array(expiredListed.sorted().map { .string($0) }),
            "warnings": unmatched.isEmpty && stepWarnings.isEmpty ? nil : .array((stepWarnings + unmatched).map { .string($0) }),
        ]))
    }
}
