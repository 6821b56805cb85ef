import Dispatch
import Foundation
import Logging
import Postgres
import Synchronization
import UnwindCore
import UnwindObservability
import UnwindStore

/// A worker process's step runner: claims due steps under leases and runs their actions, up to
/// ``WorkerConfiguration/concurrency`` at once. Actions run as tasks on the worker's own Dispatch queue (see
/// ``ActionExecutor``); the claim loop runs on the thread that called ``run()``.
///
/// - Idle, it sleeps on a `LISTEN unwind_ready` connection (so new work starts within milliseconds) and wakes
///   up at the next due time of a retry or durable wait, or after ``WorkerConfiguration/pollInterval``.
/// - A maintenance timer extends the leases of running steps, rescues steps whose worker died (their lease
///   expired) and starts scheduled workflows that are due; every worker does this, safely.
/// - ``requestStop()`` (SIGTERM/SIGINT) stops claiming, lets running steps finish within the grace period and
///   ends the attempts of those that did not as `worker_stopped` (compensations and resumed durable waits are
///   handed back uncounted).
/// - Results are written in batches by the claim loop: each transaction records every attempt that finished since
///   the last one and claims new work (often the next step of the workflow that just advanced), so one commit
///   serves many steps. A step made ready by a completion starts only after that completion is durable.
/// - Database outages are waited out with back-off; results are kept and written once the database is back.
public final class Worker: Sendable {
    public let configuration: WorkerConfiguration
    private let store: WorkflowStore
    private let registry: ActionRegistry
    private let logger: Logger
    /// The host this process registered under; with its pid, what the heartbeat checks the row still describes.
    private let hostname = ProcessInfo.processInfo.hostName
    private let metrics: UnwindMetrics
    private let state = Mutex(State())
    private let wakeup = PostgresWakeup()
    private let maintenanceQueue = DispatchQueue(label: "unwind.worker.maintenance")
    private let contextQueue = DispatchQueue(label: "unwind.worker.context", attributes: .concurrent)
    private let inFlightGroup = DispatchGroup()
    private let actionExecutor = ActionExecutor(label: "unwind.worker.actions")
    /// One timer for every running attempt's timeout, armed for the earliest deadline: a timer per attempt would
    /// stay armed until its deadline even after the attempt finished.
    /// (Dispatch's timer is not Sendable; the mutex is what makes sharing it safe.)
    private let timeoutTimer = Mutex<any DispatchSourceTimer>(
        DispatchSource.makeTimerSource(queue: DispatchQueue(label: "unwind.worker.timeouts")))

    private struct InFlight: Sendable {
        var claimed: ClaimedStep
        /// The slot running the action; nil once the result waits to be written (the slot is free again).
        var slot: Int?
        var task: Task<Void, Never>?
        var startedAt = ContinuousClock.now
        /// The step's timeout, once its action has started; the attempt times out at `startedAt + timeout`.
        var timeout: Duration?
        var deadline: ContinuousClock.Instant? { timeout.map { startedAt + $0 } }
        var leaseLost = false
    }

    /// A finished attempt whose result is not durable yet. Its lease is still extended by heartbeats.
    private struct PendingResult: Sendable {
        var result: AttemptResult
        var key: StepKey
        var finishedAt: ContinuousClock.Instant
    }

    private struct State: Sendable {
        var inFlight: [StepKey: InFlight] = [:]
        var pending: [PendingResult] = []
        /// Results that could not be written because their workflow's rows cannot be read (edited or damaged by hand),
        /// with when to try again. Kept, with their leases, rather than dropped: dropped, the lease ran out and the
        /// step ran again (and again), each success thrown away, until its attempts were spent and the workflow
        /// compensated work that had succeeded.
        var parked: [(result: PendingResult, retryAt: ContinuousClock.Instant)] = []
        var freeSlots: [Int] = []
        var stopping = false
        /// What talks to the database and is failing, and whether the failure is an outage (else a refusal). Each
        /// path says so once when it starts failing; "reachable again" only when no path fails any more: a path
        /// that fails for good (a table changed by hand) beside one that works no longer makes the log alternate.
        var databaseTrouble: [DatabasePath: Bool] = [:]
        var lastHeartbeat = ContinuousClock.now
        /// The deadline the timeout timer is armed for, if any.
        var timeoutArmedFor: ContinuousClock.Instant?

        /// Attempts still running: in flight, and no result waiting to be written.
        var running: Int { inFlight.count - pending.count - parked.count }
    }

    public init(store: WorkflowStore, registry: ActionRegistry, configuration: WorkerConfiguration, logger: Logger, metrics: UnwindMetrics = .disabled) {
        self.store = store
        self.metrics = metrics
        self.registry = registry
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker.id"] = "\(configuration.workerID)"
        self.logger = logger
        state.withLock { $0.freeSlots = Array((0..<configuration.concurrency).reversed()) }
        // Activated at once: Dispatch traps when a source that was never activated is released, which a worker
        // that fails before it runs (a role without its grants) would otherwise do. Unscheduled, it never fires.
        timeoutTimer.withLock { timer in
            timer.setEventHandler { [weak self] in self?.expireTimedOutAttempts() }
            timer.activate()
        }
    }

    /// Asks the worker to stop: no new claims; in-flight steps get the grace period. Safe from any thread.
    public func requestStop() {
        let first = state.withLock { state in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first { logger.info("stopping: finishing in-flight steps", metadata: ["grace.seconds": "\(configuration.shutdownGracePeriod.seconds)"]) }
        wakeup.signal()
    }

    public var runningSteps: Int { state.withLock { $0.inFlight.count } }

    /// Results kept because their workflow's rows cannot be read; written once the rows are mended.
    public var parkedResults: Int { state.withLock { $0.parked.count } }

    /// Runs until ``requestStop()`` and the drain are done. Blocks the calling thread.
    public func run() throws {
        try registerWithRetry()
        logger.info("worker started", metadata: [
            "concurrency": "\(configuration.concurrency)", "queues": "\(configuration.queues.joined(separator: ","))",
            "lease.seconds": "\(configuration.leaseDuration.seconds)",
        ])
        let timer = DispatchSource.makeTimerSource(queue: maintenanceQueue)
        timer.schedule(deadline: .now() + configuration.maintenanceInterval.dispatchInterval,
                       repeating: configuration.maintenanceInterval.dispatchInterval)
        timer.setEventHandler { [self] in maintenance() }
        timer.resume()
        defer {
            timer.cancel()
            // A maintenance pass already running finishes before the worker returns: the process may exit next,
            // and libpq (and OpenSSL under it) must not be in use while it does.
            maintenanceQueue.sync {}
            timeoutTimer.withLock { $0.cancel() }
        }

        let listener = openListener()
        var backoff = Duration.milliseconds(100)
        // When the last claim came back with fewer steps than asked and nothing was announced since, a
        // completion need not look for more work for a short while: at low load that spares each step's
        // transaction a statement. Work that comes due without an announcement (a retry's back-off) waits at
        // most `quietClaimWindow` longer; without a working LISTEN, every completion looks.
        var claimCameBackShortAt: ContinuousClock.Instant?
        while !state.withLock({ $0.stopping }) {
            awaitBatch()
            let (results, free) = state.withLock { state -> ([PendingResult], Int) in
                defer { state.pending.removeAll(keepingCapacity: true) }
                let now = ContinuousClock.now
                let due = state.parked.filter { $0.retryAt <= now }.map(\.result)
                if !due.isEmpty { state.parked.removeAll { $0.retryAt <= now } }
                return (state.pending + due, state.freeSlots.count)
            }
            if results.isEmpty && free == 0 {
                // Every slot is busy: nothing to write or claim until an attempt finishes (it signals the wakeup).
                if idleWait(listener: listener, lookForDueWork: false) { claimCameBackShortAt = nil }
                continue
            }
            let claimed: [ClaimedStep]
            var deferred = false
            do {
                let claimStarted = ContinuousClock.now
                let lookForMore = listener == nil || results.isEmpty
                    || claimCameBackShortAt.map { claimStarted - $0 >= Self.quietClaimWindow } ?? true
                (claimed, deferred) = try completeAndClaim(results, free: free, lookForMore: lookForMore)
                if lookForMore { claimCameBackShortAt = claimed.count < free ? claimStarted : nil }
                if free > 0 { metrics.claimed(since: claimStarted) }
                if deferred {
                    databaseTrouble(DeferredWrite())
                } else {
                    databaseRecovered()
                    backoff = .milliseconds(100)
                }
            } catch {
                databaseTrouble(error)
                keepPending(results, after: error)
                wakeup.wait(timeout: backoff)
                backoff = min(backoff * 2, .seconds(5))
                continue
            }
            for step in claimed { start(step) }
            if deferred {
                // Some results wait for the database again: back off as after any failed write.
                wakeup.wait(timeout: backoff)
                backoff = min(backoff * 2, .seconds(5))
                continue
            }
            // More work is likely when every free slot got a step, or results kept arriving meanwhile.
            if (free > 0 && claimed.count == free) || state.withLock({ !$0.pending.isEmpty }) { continue }
            if idleWait(listener: listener, lookForDueWork: claimed.isEmpty && free > 0) { claimCameBackShortAt = nil }
        }
        drain()
    }

    /// Group commit: while results are waiting and other attempts still run, wait up to the batch window for
    /// them. Attempts claimed together tend to finish together (short steps, or a cloud answering a burst), and
    /// one transaction for all of them costs little more than one for the first; at low load nothing else runs
    /// and nothing waits.
    private func awaitBatch() {
        let window = configuration.batchWindow
        guard window > .zero else { return }
        let deadline = ContinuousClock.now + window
        while true {
            let (waiting, running, stopping) = state.withLock { state in
                (state.pending.count, state.running, state.stopping)
            }
            let now = ContinuousClock.now
            if waiting == 0 || running <= 0 || stopping || now >= deadline { return }
            _ = wakeup.wait(timeout: deadline - now)
        }
    }

    /// One transaction: write `results`, then claim up to `free` steps. Also says whether some results were deferred
    /// (kept for the next try: the database failed while a batch was written workflow by workflow).
    private func completeAndClaim(_ results: [PendingResult], free: Int, lookForMore: Bool = true) throws -> (claimed: [ClaimedStep], deferred: Bool) {
        let batch = try store.complete(
            results.map(\.result), thenClaim: free, queues: configuration.queues, workerID: configuration.workerID,
            leaseSeconds: configuration.leaseDuration.seconds, lookForMore: lookForMore)
        let deferred = finishPending(results, dispositions: batch.dispositions)
        if !deferred.isEmpty { keepPending(deferred, after: DeferredWrite()) }
        return (batch.claimed, !deferred.isEmpty)
    }

    /// The database failed while a batch was written workflow by workflow (after a workflow that cannot be read).
    private struct DeferredWrite: Error, CustomStringConvertible {
        var description: String { "the database failed while a batch was written workflow by workflow; the rest is written again" }
    }

    /// The attempt of `pending` is over: its step leaves the in-flight set, unless a newer attempt of it (claimed
    /// again after its lease ran out) took its place.
    private static func endAttempt(_ pending: PendingResult, in state: inout State) {
        if state.inFlight[pending.key]?.claimed.fencingToken == pending.result.fencingToken { state.inFlight[pending.key] = nil }
    }

    /// The results are durable (or refused as stale, or cannot be written): their attempts are over. Returns those
    /// deferred, which are not.
    private func finishPending(_ results: [PendingResult], dispositions: [ResultDisposition]) -> [PendingResult] {
        let deferred = zip(results, dispositions).filter { $0.1 == .deferred }.map(\.0)
        let retryAt = ContinuousClock.now + configuration.unwritableRetryInterval
        state.withLock { state in
            for (pending, disposition) in zip(results, dispositions) {
                switch disposition {
                case .deferred: break
                case .unwritable: state.parked.append((pending, retryAt))
                case .applied, .staleLease: Self.endAttempt(pending, in: &state)
                }
            }
        }
        for (pending, disposition) in zip(results, dispositions) {
            let metadata: Logger.Metadata = [
                "workflow.id": "\(pending.result.workflowID.uuidString.lowercased())", "step.id": "\(pending.result.stepID)",
            ]
            switch disposition {
            case .applied, .deferred:
                break
            case .staleLease:
                logger.warning("result refused: the step's lease moved to another worker", metadata: metadata)
            case .unwritable(let reason):
                // Nothing about the workflow can be written until its rows are mended: the result is kept (its lease
                // held) and written then, without running the step again.
                logger.error("result not written: the workflow's stored rows cannot be read; the result is kept and written once the row named here is mended (tried again every \(Int(configuration.unwritableRetryInterval.seconds)) s)", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            }
        }
        return deferred
    }

    /// After a failed write: keep the results for the next try, except those held so long that their lease has
    /// surely expired and the step was rescued (writing them would be refused anyway).
    private func keepPending(_ results: [PendingResult], after error: any Error) {
        let giveUpBefore = ContinuousClock.now - configuration.leaseDuration * 4
        let (kept, dropped) = (results.filter { $0.finishedAt >= giveUpBefore }, results.filter { $0.finishedAt < giveUpBefore })
        state.withLock { state in
            state.pending.insert(contentsOf: kept, at: 0)
            for pending in dropped { Self.endAttempt(pending, in: &state) }
        }
        for pending in dropped {
            logger.error("giving up writing a result; the step will run again after its lease expires", metadata: [
                "workflow.id": "\(pending.result.workflowID.uuidString.lowercased())", "step.id": "\(pending.result.stepID)", "error": "\(error)",
            ])
        }
    }

    // MARK: - Running one attempt

    /// Starts an attempt: its action runs as a task on the action executor, and whichever comes first, the action
    /// returning or its timeout, hands the result to the claim loop. No thread waits for the action meanwhile.
    private func start(_ claimed: ClaimedStep) {
        let key = Self.key(claimed.workflowID, claimed.stepID)
        guard state.withLock({ state -> Bool in
            guard let slot = state.freeSlots.popLast() else { return false }
            state.inFlight[key] = InFlight(claimed: claimed, slot: slot)
            return true
        }) else {
            // Cannot happen: we never claim more than the free slots. Hand it back rather than drop it.
            try? store.releaseLeases([(claimed.workflowID, claimed.stepID, claimed.fencingToken, claimed.isResumedWait)], workerID: configuration.workerID)
            return
        }
        inFlightGroup.enter()
        let attemptStarted = metrics.attemptStarted(claimed)
        let prepared: PreparedAttempt
        switch prepareAttempt(claimed) {
        case .finished(let outcome):
            finish(claimed, key: key, outcome: outcome, since: attemptStarted)
            return
        case .ready(let attempt):
            prepared = attempt
        }
        let task = Task(executorPreference: actionExecutor) { [self] in
            let result: Result<StepOutcome, any Error>
            do {
                result = .success(try await prepared.action.run(prepared.context))
            } catch {
                result = .failure(error)
            }
            let outcome = Self.outcome(of: result, logger: prepared.logger)
            if !finish(claimed, key: key, outcome: outcome, since: attemptStarted), outcome != nil {
                prepared.logger.debug("the action returned after its attempt was over (timed out or abandoned); result ignored")
            }
        }
        let deadline = attemptStarted + prepared.timeout
        state.withLock { state in
            guard state.inFlight[key]?.slot != nil, state.inFlight[key]?.claimed.fencingToken == claimed.fencingToken else {
                return  // already over
            }
            state.inFlight[key]?.task = task
            state.inFlight[key]?.startedAt = attemptStarted
            state.inFlight[key]?.timeout = prepared.timeout
            if state.timeoutArmedFor.map({ deadline < $0 }) ?? true {
                // Armed under the lock, so that a concurrent re-arm for a later deadline cannot override this one.
                state.timeoutArmedFor = deadline
                armTimeoutTimer(for: deadline)
            }
        }
    }

    /// Ends an attempt, once: the first caller (the action returning, its timeout, or a refusal before it ran) frees
    /// the slot and queues the result for the claim loop; later callers change nothing and get false. The fencing
    /// token tells this attempt from a later one of the same step in this worker.
    @discardableResult
    private func finish(
        _ claimed: ClaimedStep, key: StepKey, outcome: AttemptResult.Outcome?, since attemptStarted: ContinuousClock.Instant,
        cancelling: Bool = false
    ) -> Bool {
        let ended = state.withLock { state -> (wakeLoop: Bool, task: Task<Void, Never>?, written: Bool)? in
            guard let entry = state.inFlight[key], let slot = entry.slot,
                  entry.claimed.fencingToken == claimed.fencingToken else { return nil }
            let wasIdle = state.pending.isEmpty
            // A lost lease means another worker owns the step now: nothing of this attempt is written.
            let written = !entry.leaseLost && outcome != nil
            if written, let outcome {
                state.inFlight[key]?.slot = nil
                state.inFlight[key]?.task = nil
                state.inFlight[key]?.timeout = nil
                state.pending.append(PendingResult(
                    result: AttemptResult(
                        workflowID: claimed.workflowID, stepID: claimed.stepID, fencingToken: claimed.fencingToken,
                        outcome: outcome),
                    key: key, finishedAt: .now))
            } else {
                state.inFlight[key] = nil
            }
            state.freeSlots.append(slot)
            // The loop needs waking for the first result it will write, and for the last attempt of a batch it may
            // be waiting for (see awaitBatch); a wake-up per result in between only costs a context switch.
            return (wasIdle || !written || state.running == 0, entry.task, written)
        }
        guard let ended else { return false }
        if cancelling { ended.task?.cancel() }
        metrics.attemptFinished(claimed, ended.written ? outcome : nil, since: attemptStarted)
        inFlightGroup.leave()
        if ended.wakeLoop { wakeup.signal() }
        return true
    }

    /// Times out the attempts whose deadline has passed, and arms the timer for the next deadline.
    private func expireTimedOutAttempts() {
        let expired = state.withLock { state -> [InFlight] in
            let now = ContinuousClock.now
            var expired: [InFlight] = []
            var next: ContinuousClock.Instant?
            for entry in state.inFlight.values where entry.slot != nil {
                guard let deadline = entry.deadline else { continue }
                if deadline <= now {
                    expired.append(entry)
                } else if next.map({ deadline < $0 }) ?? true {
                    next = deadline
                }
            }
            state.timeoutArmedFor = next
            if let next { armTimeoutTimer(for: next) }
            return expired
        }
        for entry in expired {
            let claimed = entry.claimed
            let timeout = entry.timeout ?? .zero
            let failure = StepFailure(
                code: "timeout", message: "the attempt did not finish within its timeout of \(timeout.seconds)s", retryable: true)
            if finish(claimed, key: Self.key(claimed.workflowID, claimed.stepID), outcome: .failed(failure),
                      since: entry.startedAt, cancelling: true) {
                logger.warning("attempt timed out", metadata: [
                    "workflow.id": "\(claimed.workflowID.uuidString.lowercased())", "step.id": "\(claimed.stepID)",
                    "timeout.seconds": "\(timeout.seconds)",
                ])
            }
        }
    }

    private func armTimeoutTimer(for deadline: ContinuousClock.Instant) {
        let (seconds, attoseconds) = max(deadline - ContinuousClock.now, .zero).components
        let remaining = DispatchTimeInterval.nanoseconds(Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        timeoutTimer.withLock { $0.schedule(deadline: .now() + remaining, leeway: .milliseconds(5)) }
    }

    private struct PreparedAttempt: Sendable {
        var action: any StepAction
        var context: StepContext
        var timeout: Duration
        var logger: Logger
    }

    private enum AttemptPreparation {
        case ready(PreparedAttempt)
        /// Over before it ran (its action is not registered here).
        case finished(AttemptResult.Outcome)
    }

    /// Finds the action, its timeout and retry policy for the attempt's phase, and builds its context.
    private func prepareAttempt(_ claimed: ClaimedStep) -> AttemptPreparation {
        var logger = self.logger
        // One assignment: a handler may re-render all its metadata on every change (StreamLogHandler does).
        logger.handler.metadata.merge([
            "workflow.id": "\(claimed.workflowID.uuidString.lowercased())", "step.id": "\(claimed.stepID)",
            "step.phase": "\(claimed.phase.rawValue)", "step.attempt": "\(claimed.attempt - claimed.attemptBase)",
        ]) { $1 }

        let stepDefinition = claimed.stepDefinition
        let actionName: String
        let timeout: Duration
        let policy: RetryPolicy
        switch claimed.phase {
        case .forward:
            actionName = claimed.action
            timeout = stepDefinition?.timeout ?? StepDefinition.defaultTimeout
            policy = stepDefinition?.retry ?? .default
        case .compensate:
            actionName = stepDefinition?.compensation?.action ?? claimed.action
            timeout = stepDefinition?.compensation?.timeout ?? StepDefinition.defaultTimeout
            policy = stepDefinition?.compensation?.retry ?? .default
        }
        guard let action = registry.action(named: actionName) else {
            logger.error("action is not registered in this worker", metadata: ["action": "\(actionName)"])
            return .finished(.failed(StepFailure(
                code: "unknown_action",
                message: "action '\(actionName)' is not registered in worker \(configuration.workerID) (version \(configuration.version)); upgrade the worker",
                retryable: true)))
        }
        let deadline = Date().addingTimeInterval(timeout.seconds)
        let context = StepContext(
            workflowID: claimed.workflowID, workflowName: claimed.definition.name, stepID: claimed.stepID,
            phase: claimed.phase, input: claimed.input, outputs: claimed.outputs, checkpoint: claimed.checkpoint,
            attempt: claimed.attempt - claimed.attemptBase, maxAttempts: policy.maxAttempts, deadline: deadline,
            idempotencyKey: claimed.phase == .forward ? claimed.idempotencyKey : claimed.idempotencyKey + ":compensate",
            logger: logger,
            recorder: StoreCheckpointRecorder(
                store: store, claimed: claimed, workerID: configuration.workerID,
                leaseSeconds: configuration.leaseDuration.seconds, queue: contextQueue))
        logger.debug("attempt started", metadata: ["action": "\(actionName)"])
        return .ready(PreparedAttempt(action: action, context: context, timeout: timeout, logger: logger))
    }

    /// What an action's return or error means for the attempt.
    private static func outcome(of result: Result<StepOutcome, any Error>, logger: Logger) -> AttemptResult.Outcome? {
        switch result {
        case .success(.completed(let output)):
            // What the batch's transaction could not store would fail it for every workflow in it, again and again.
            if let problem = output.storageProblem {
                return unstorable("output", problem, logger: logger)
            }
            logger.debug("attempt completed")
            return .succeeded(output: output)
        case .success(.retryLater(let notBefore, let reason, let code)):
            logger.info("attempt asks to retry later", metadata: ["reason": "\(reason)"])
            return .failed(StepFailure(code: code.map(storable), message: storable(reason), retryable: true, notBefore: notBefore))
        case .success(.wait(let until, let checkpoint)):
            if let problem = checkpoint.storageProblem {
                return unstorable("checkpoint", problem, logger: logger)
            }
            logger.debug("attempt waits", metadata: ["until": "\(until)"])
            return .waiting(until: until, checkpoint: checkpoint)
        case .failure(var failure as StepFailure):
            logger.info("attempt failed", metadata: ["error": "\(failure)", "retryable": "\(failure.retryable)"])
            failure.message = storable(failure.message)
            failure.code = failure.code.map(storable)
            return .failed(failure)
        case .failure(is LeaseLost):
            return nil
        case .failure(let error):
            logger.info("attempt failed", metadata: ["error": "\(error)"])
            return .failed(StepFailure(code: nil, message: storable(String(describing: error)), retryable: true))
        }
    }

    /// An action returned an output or checkpoint the database cannot hold: the attempt fails for good, naming it.
    private static func unstorable(_ what: String, _ problem: String, logger: Logger) -> AttemptResult.Outcome {
        logger.error("attempt returned a value that cannot be stored", metadata: ["value": "\(what)", "problem": "\(problem)"])
        return .failed(StepFailure(
            code: "unstorable_\(what)", message: "the action's \(what) cannot be stored: it \(problem); this is a bug in the action",
            retryable: false))
    }

    /// An error message as `jsonb` can hold it (a cloud's answer may carry a NUL character).
    private static func storable(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    // MARK: - Waiting, maintenance and shutdown

    /// Opens the connection that sleeps on `LISTEN unwind_ready`, and proves it works: a notification sent from
    /// another connection must arrive. Behind PgBouncer in transaction-pooling mode LISTEN "succeeds" but no
    /// notification ever arrives; then the worker polls instead, and says so.
    private func openListener() -> PostgresConnection? {
        let configuration = self.configuration.listenConfiguration ?? store.pool.configuration
        do {
            let connection = try PostgresConnection(configuration: configuration, logger: logger)
            try connection.listen(WorkflowStore.readyChannel)
            let probe = "unwind_selftest_" + UUID().uuidString.prefix(8).lowercased()
            try connection.listen(probe)
            try store.pool.withConnection { try $0.notify(probe, payload: self.configuration.workerID) }
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                let wait = try connection.waitForNotifications(timeout: deadline - ContinuousClock.now)
                if wait.notifications.contains(where: { $0.channel == probe }) {
                    try connection.unlisten(probe)
                    logger.debug("LISTEN/NOTIFY self-test passed")
                    return connection
                }
            }
            logger.warning("LISTEN/NOTIFY does not work on this connection (a PgBouncer in transaction pooling mode?): falling back to polling, so new work may wait up to the poll interval. Point UNWIND_LISTEN_DATABASE_URL at PostgreSQL directly to keep instant wake-ups.", metadata: [
                "poll.seconds": "\(self.configuration.pollInterval.seconds)",
            ])
            return nil
        } catch {
            logger.warning("cannot LISTEN for new work; polling instead", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// How long a completion may skip looking for more work after a claim came back short (see ``run()``).
    static let quietClaimWindow = Duration.milliseconds(50)

    /// Sleeps until new work is announced, an attempt finishes, the next due time, or the poll interval.
    /// Returns true when work may be waiting that no claim has seen yet (an announcement, a reconnect, a timeout).
    @discardableResult
    private func idleWait(listener: PostgresConnection?, lookForDueWork: Bool) -> Bool {
        var timeout = configuration.pollInterval
        if lookForDueWork, let due = try? store.nextDueTime(queues: configuration.queues) {
            let untilDue = Duration.milliseconds(Int64(max(0, due.timeIntervalSinceNow) * 1000) + 1)
            timeout = min(timeout, untilDue)
        }
        guard let listener else {
            return !wakeup.wait(timeout: timeout)
        }
        let started = ContinuousClock.now
        do {
            let wait = try listener.waitForNotifications(timeout: timeout, wakeup: wakeup)
            databaseRecovered(on: .listener)
            return !wait.notifications.isEmpty || wait.reconnected || ContinuousClock.now - started >= timeout
        } catch {
            // The listening connection broke (server restart): it reconnects on the next call.
            databaseTrouble(error, on: .listener)
            wakeup.wait(timeout: .milliseconds(200))
            return true
        }
    }

    private func maintenance() {
        let (attempts, heartbeatDue) = state.withLock { state -> ([InFlight], Bool) in
            let due = ContinuousClock.now - state.lastHeartbeat >= configuration.heartbeatInterval
            if due { state.lastHeartbeat = .now }
            return (Array(state.inFlight.values), due)
        }
        do {
            if heartbeatDue {
                let lost = try store.extendLeases(
                    attempts.map { ($0.claimed.workflowID, $0.claimed.stepID, $0.claimed.fencingToken) },
                    leaseSeconds: configuration.leaseDuration.seconds)
                // A step whose attempt ended between the copy above and the extension is no longer `running` and
                // so was not extended; its lease was not lost. Only attempts whose action still runs (it holds a
                // slot) under the same fencing token count.
                let tokens = Dictionary(attempts.map { (Self.key($0.claimed.workflowID, $0.claimed.stepID), $0.claimed.fencingToken) }) { first, _ in first }
                var lostCount = 0
                for (workflowID, stepID) in lost {
                    let key = Self.key(workflowID, stepID)
                    let task = state.withLock { state -> Task<Void, Never>?? in
                        guard let entry = state.inFlight[key], entry.slot != nil, entry.claimed.fencingToken == tokens[key] else { return nil }
                        state.inFlight[key]?.leaseLost = true
                        return .some(entry.task)
                    }
                    guard let task else { continue }
                    lostCount += 1
                    task?.cancel()
                    logger.warning("lease lost; cancelling the attempt", metadata: ["workflow.id": "\(workflowID.uuidString.lowercased())", "step.id": "\(stepID)"])
                }
                metrics.leasesExpired(lostCount)
                let stopping = state.withLock { $0.stopping }
                if try !store.workerHeartbeat(id: configuration.workerID, draining: stopping, hostname: hostname, pid: getpid()), !stopping {
                    if try store.workerHolder(id: configuration.workerID) == nil {
                        // Deleted by hand (clearing out stopped workers, say): this worker is alive, so it says so again.
                        logger.warning("this worker's row was removed from the workers table; registering it again", metadata: [
                            "worker.id": "\(configuration.workerID)",
                        ])
                        try register()
                    } else {
                        // Frozen for longer than the silence rule, this process's ID was given to another one: two
                        // processes would share one row (one of them invisible to `unwind workers`). Fencing keeps
                        // their writes apart; this one stops taking work.
                        logger.error("this worker's ID was taken over by another process while this one was silent; stopping", metadata: [
                            "worker.id": "\(configuration.workerID)",
                        ])
                        requestStop()
                    }
                }
            }
            let rescued = try store.rescueExpiredLeases()
            metrics.stepsRescued(rescued)
            if rescued > 0 {
                logger.info("rescued steps whose worker stopped heartbeating", metadata: ["count": "\(rescued)"])
                wakeup.signal()
            }
            databaseRecovered(on: .maintenance)
        } catch {
            databaseTrouble(error, on: .maintenance)
        }
        // On its own: a failing heartbeat or rescue must not hold up the workflows scheduled to start now.
        do {
            if try store.startDueScheduledWorkflows() > 0 { wakeup.signal() }
            databaseRecovered(on: .scheduledStarts)
        } catch {
            databaseTrouble(error, on: .scheduledStarts)
        }
    }

    private func drain() {
        // `unwind workers` shows `draining` now, not at the next heartbeat (up to a third of the lease later). On
        // this thread, not queued: nothing may still be talking to the database while the process exits.
        try? store.workerHeartbeat(id: configuration.workerID, draining: true, hostname: hostname, pid: getpid())
        let deadline = ContinuousClock.now + configuration.shutdownGracePeriod
        // Parked results get one more try; those still unwritable stay with their leases, which run out after exit.
        state.withLock { state in
            state.pending += state.parked.map(\.result)
            state.parked.removeAll()
        }
        // Keep writing results while the running attempts finish (the claim loop no longer does it).
        while inFlightGroup.wait(timeout: .now() + .milliseconds(50)) == .timedOut, ContinuousClock.now < deadline {
            flushPending(until: deadline)
        }
        if inFlightGroup.wait(timeout: .now()) == .timedOut {
            // The attempts still running end now, as failed without an outcome: each may have sent its cloud call,
            // so it is not handed back as if it never ran. The state machine decides what follows, as for a worker
            // that died: a retry after the usual back-off, none while the workflow compensates (a new attempt would
            // change the cloud after the stop), and a pivot that no attempt settles counts as crossed.
            //
            // Two kinds are handed back uncounted, as before: a compensation (idempotent by contract, and re-run
            // whatever happens) and a step resumed from its durable wait (in the middle of an attempt it checkpointed;
            // its next run picks up from there and, for a pivot a cancel waits for, settles it: BSSUnsubscription and
            // the ECS step look before any further change). Counted, a rolling restart could spend their last attempt.
            let unfinished = state.withLock { state in state.inFlight.values.filter { $0.slot != nil } }
            let handedBack = unfinished.filter { $0.claimed.phase == .compensate || $0.claimed.isResumedWait }
            let stopped = unfinished.filter { !($0.claimed.phase == .compensate || $0.claimed.isResumedWait) }
            logger.warning("grace period over; ending the unfinished attempts as stopped without an outcome", metadata: [
                "count": "\(stopped.count)", "handed_back": "\(handedBack.count)",
            ])
            if !handedBack.isEmpty {
                // Marked first, so that a cancelled action's error is not recorded as a failed attempt; then the leases
                // go back; only then are the actions cancelled.
                state.withLock { state in
                    for attempt in handedBack { state.inFlight[Self.key(attempt.claimed.workflowID, attempt.claimed.stepID)]?.leaseLost = true }
                }
                do {
                    try store.releaseLeases(handedBack.map {
                        ($0.claimed.workflowID, $0.claimed.stepID, $0.claimed.fencingToken, $0.claimed.isResumedWait)
                    }, workerID: configuration.workerID)
                } catch {
                    logger.error("could not hand back leases; they expire by themselves", metadata: ["error": "\(error)"])
                }
                for attempt in handedBack { attempt.task?.cancel() }
            }
            for attempt in stopped {
                let claimed = attempt.claimed
                let failure = StepFailure(
                    code: "worker_stopped",
                    message: "the worker stopped (its grace period of \(configuration.shutdownGracePeriod.seconds)s ran out) while attempt \(claimed.attempt) ran: what it was doing may have been applied",
                    retryable: true)
                finish(claimed, key: Self.key(claimed.workflowID, claimed.stepID), outcome: .failed(failure),
                       since: attempt.startedAt, cancelling: true)
            }
        }
        flushPending(until: max(deadline, ContinuousClock.now + .seconds(5)))
        try? store.workerStopped(id: configuration.workerID, hostname: hostname, pid: getpid())
        logger.info("worker stopped")
    }

    /// Writes the results waiting to be written (claiming nothing), retrying until `deadline`.
    private func flushPending(until deadline: ContinuousClock.Instant) {
        var backoff = Duration.milliseconds(50)
        while true {
            let results = state.withLock { state -> [PendingResult] in
                defer { state.pending.removeAll() }
                return state.pending
            }
            guard !results.isEmpty else { return }
            do {
                // No free slots: nothing is claimed or started, so nothing is left behind.
                if try !completeAndClaim(results, free: 0).deferred {
                    databaseRecovered()
                    continue
                }
                databaseTrouble(DeferredWrite())
            } catch {
                databaseTrouble(error)
                keepPending(results, after: error)
            }
            guard ContinuousClock.now + backoff < deadline else {
                logger.error("stopping with results not written; their steps run again after their leases expire")
                return
            }
            Thread.sleep(forTimeInterval: backoff.seconds)
            backoff = min(backoff * 2, .seconds(2))
        }
    }

    private func registerWithRetry() throws {
        var backoff = Duration.milliseconds(200)
        while true {
            do {
                try refuseAnIDInUse()
                try register()
                databaseRecovered(on: .registration)
                return
            } catch let error as PostgresError where error.isTransient {
                if state.withLock({ $0.stopping }) { throw error }
                databaseTrouble(error, on: .registration)
                wakeup.wait(timeout: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    private func register() throws {
        try store.registerWorker(
            id: configuration.workerID, hostname: hostname, pid: getpid(),
            concurrency: configuration.concurrency, queues: configuration.queues, version: configuration.version,
            // The heartbeat goes with the first maintenance pass after its interval.
            heartbeatSeconds: (configuration.heartbeatInterval + configuration.maintenanceInterval).seconds)
    }

    /// Two live processes under one worker ID would overwrite each other's row (`unwind workers` would show one of
    /// them, stopped while it runs). An ID is taken over only from a process that stopped, that has not been heard
    /// from for two minutes, or that is gone from this host (a restarted systemd instance or container keeps its ID).
    private func refuseAnIDInUse() throws {
        let id = configuration.workerID
        guard let holder = try store.workerHolder(id: id), holder.active, !holder.silent else { return }
        if holder.hostname == hostname && (holder.pid == getpid() || (kill(holder.pid, 0) != 0 && errno == ESRCH)) { return }
        throw WorkerIDInUse(workerID: id, hostname: holder.hostname, pid: holder.pid, silentSeconds: holder.silentSeconds)
    }

    /// The ways the worker talks to the database, for saying once which one fails.
    enum DatabasePath: String, Sendable {
        case writes = "writing results and claiming steps"
        case maintenance = "heartbeats and lease rescue"
        case scheduledStarts = "starting scheduled workflows"
        case listener = "listening for new work"
        case registration = "registering the worker"
    }

    private func databaseTrouble(_ error: any Error, on path: DatabasePath = .writes) {
        let outage = (error as? PostgresError)?.isTransient ?? false
        let (first, anyBefore) = state.withLock { state in
            defer { state.databaseTrouble[path] = outage }
            return (state.databaseTrouble[path] == nil, !state.databaseTrouble.isEmpty)
        }
        guard first else { return }
        if outage {
            if !anyBefore { logger.warning("database unavailable; waiting and retrying with back-off", metadata: ["error": "\(error)"]) }
        } else {
            // Not an outage: a statement refused or a row this version cannot read. Say so, not "unavailable".
            logger.error("the database refused \(path.rawValue); retrying with back-off", metadata: ["error": "\(error)"])
        }
    }

    private func databaseRecovered(on path: DatabasePath = .writes) {
        let (was, nowClear) = state.withLock { state in
            let was = state.databaseTrouble.removeValue(forKey: path)
            return (was, state.databaseTrouble.isEmpty)
        }
        guard let outage = was else { return }
        if !outage {
            logger.notice("the database accepts \(path.rawValue) again; carrying on")
        } else if nowClear {
            logger.notice("database reachable again; carrying on")
        }
    }

    /// An attempt in flight, by its step. A struct rather than a formatted string: it is looked up several times
    /// for every step, and formatting the UUID was a visible share of a busy worker's time.
    struct StepKey: Hashable, Sendable {
        var workflowID: UUID
        var stepID: String
    }

    private static func key(_ workflowID: UUID, _ stepID: String) -> StepKey {
        StepKey(workflowID: workflowID, stepID: stepID)
    }
}
