import Foundation

/// The saga rules, as a pure function of (definition, snapshot, event) → (new snapshot, history events).
///
/// Garcia-Molina's compensable / pivot / retriable steps:
/// - steps before the pivot are compensable; the pivot and the steps after it are retried forward only;
/// - a step failing for good before the pivot was crossed starts compensation: the compensations of the
///   steps that ran (succeeded, or started and then failed or were cancelled) run one at a time in reverse
///   completion order, each under its own retry policy; then the workflow ends `compensated`;
/// - a pivot that recorded an irreversible change, or whose last attempt ended without an outcome (its worker
///   died or stopped, it timed out), counts as crossed even if it then fails, and so does one parked for a retry
///   after such an attempt when compensation begins (no attempt will follow to settle it);
/// - a pivot still running when compensation begins, that then crosses, stops the compensation: the workflow fails
///   (resumable forward) and nothing is compensated;
/// - a step failing for good after the pivot was crossed ends the workflow `failed`; nothing is compensated.
///
/// The store loads a snapshot under the workflow's row lock, applies one or more events, and writes back
/// the steps whose snapshot changed together with the returned history events, in one transaction.
public struct SagaStateMachine: Sendable {
    public let definition: WorkflowDefinition

    public init(definition: WorkflowDefinition) {
        self.definition = definition
    }

    /// Failures that say nothing about what the attempt did: its lease expired (the worker died), its worker stopped
    /// before it finished (SIGTERM, grace period over), or it timed out.
    public static let outcomeUnknownCodes: Set<String> = ["lease_expired", "worker_stopped", "timeout"]

    /// What can happen to a workflow.
    public enum Event: Sendable {
        /// The current attempt of `step` (in its current phase) completed.
        case attemptSucceeded(step: String)
        /// The current attempt failed; retried with back-off while the budget and the error allow.
        case attemptFailed(step: String, failure: StepFailure)
        /// The action parked itself until `until` (a durable poll); no attempt is consumed.
        case attemptWaiting(step: String, until: Date)
        /// The attempt's lease expired (its worker died): counted as a failed, retryable attempt.
        case leaseExpired(step: String)
        /// `step` saved a checkpoint marking a change that cannot be undone. Only the pivot's, in its forward
        /// phase, moves the workflow past its point of no return; any other step's is an ordinary checkpoint.
        case irreversibleCheckpoint(step: String)
        /// A scheduled workflow reached its start time.
        case start
        /// An operator re-arms the failed step(s) (or `fromStep` and everything after it).
        case resume(fromStep: String?)
        /// An operator cancels. Before the pivot: compensate, then `cancelled`. After: refused unless forced.
        case cancel(force: Bool)
        /// An operator marks a failed step (or failed compensation) as done.
        case skip(step: String)
    }

    public struct Outcome: Sendable {
        public var snapshot: SagaSnapshot
        public var events: [SagaEventRecord]
    }

    /// Refusals of operator events, with a message for the operator.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        /// The action named a step the workflow does not have (a "not found", not a conflict with its state).
        public var isUnknownStep = false
    }

    /// Applies `event`. Operator events that do not apply throw ``Refusal``; engine events that do not
    /// apply (e.g. a late result for a step that is no longer running) return the snapshot unchanged.
    /// `random` supplies values in [0, 1) for retry jitter.
    public func apply(
        _ event: Event, to snapshot: SagaSnapshot, now: Date, random: @escaping () -> Double = { Double.random(in: 0..<1) }
    ) throws(Refusal) -> Outcome {
        var transition = Transition(machine: self, snapshot: snapshot, now: now, random: random)
        try transition.handle(event)
        return Outcome(snapshot: transition.snapshot, events: transition.events)
    }

    /// The retry policy and budget of a step in a phase.
    func policy(for stepID: String, phase: StepPhase) -> RetryPolicy {
        guard let step = definition.step(stepID) else { return .default }
        switch phase {
        case .forward: return step.retry
        case .compensate: return step.compensation?.retry ?? step.retry
        }
    }
}

/// One transition in progress: a mutable snapshot plus the events recorded so far.
private struct Transition {
    let machine: SagaStateMachine
    var snapshot: SagaSnapshot
    let now: Date

    /// The latest a step is put off: a wait or a `Retry-After` asking for longer (a cloud answering
    /// `Retry-After: 10000000000000`) is cut to ``Duration/maximumDefinitionDuration`` from now, which an
    /// operator can still see and act on. Unbounded, such a due time was a year the database cannot round-trip.
    var latestDueTime: Date { now.addingTimeInterval(Duration.maximumDefinitionDuration.timeInterval) }
    let random: () -> Double
    var events: [SagaEventRecord] = []

    init(machine: SagaStateMachine, snapshot: SagaSnapshot, now: Date, random: @escaping () -> Double) {
        self.machine = machine
        self.snapshot = snapshot
        self.now = now
        self.random = random
    }

    var definition: WorkflowDefinition { machine.definition }

    mutating func handle(_ event: SagaStateMachine.Event) throws(SagaStateMachine.Refusal) {
        switch event {
        case .attemptSucceeded(let id):
            guard let step = snapshot.steps[id], step.state == .running else { return }
            if step.phase == .forward { forwardSucceeded(id) } else { compensationSucceeded(id) }
        case .attemptFailed(let id, let failure):
            guard let step = snapshot.steps[id], step.state == .running else { return }
            attemptFailed(id, failure: failure)
        case .leaseExpired(let id):
            guard let step = snapshot.steps[id], step.state == .running else { return }
            record("lease_expired", id, details: ["attempt": .number(Double(step.attempt))])
            attemptFailed(id, failure: StepFailure(
                code: "lease_expired", message: "the worker running attempt \(step.attempt) stopped heartbeating (crashed or lost)",
                retryable: true))
        case .attemptWaiting(let id, let requested):
            guard var step = snapshot.steps[id], step.state == .running else { return }
            let until = min(requested, latestDueTime)
            step.state = .waiting
            step.dueAt = until
            snapshot.steps[id] = step
            record("step_waiting", id, details: ["until": .string(until.formatted(.iso8601))])
            if step.phase == .forward && snapshot.state == .compensating && id != definition.pivotStepID {
                // Running when compensation began: it does not go on, but it may have changed something.
                stopForCompensation(id)
            }
        case .irreversibleCheckpoint(let id):
            // A compensation, or a step other than the pivot, saying so does not decide where the point of no
            // return is: counted, a compensation's checkpoint stopped the compensation half-way, and a workflow
            // without a pivot became uncancellable.
            guard id == definition.pivotStepID, let step = snapshot.steps[id], step.phase == .forward,
                  step.state == .running || step.state == .waiting else { return }
            crossPivot(reason: "the pivot recorded an irreversible change")
        case .start:
            guard snapshot.state == .scheduled else { return }
            snapshot.state = .running
            record("workflow_started")
            readyUnblockedSteps()
        case .resume(let fromStep):
            try resume(fromStep: fromStep)
        case .cancel(let force):
            try cancel(force: force)
        case .skip(let id):
            try skip(id)
        }
    }

    // MARK: Forward

    private mutating func forwardSucceeded(_ id: String) {
        var step = snapshot.steps[id]!
        step.state = .succeeded
        step.completedSeq = nextCompletionSeq()
        snapshot.steps[id] = step
        record("step_succeeded", id)
        if definition.step(id)?.isPivot == true {
            crossPivot(reason: "the pivot step succeeded")
        }
        afterForwardStepDone(id)
    }

    /// After a step succeeded or was skipped: release its successors, or finish.
    private mutating func afterForwardStepDone(_ id: String) {
        for successor in definition.successors(of: id) {
            guard var next = snapshot.steps[successor] else { continue }
            next.predecessorsPending = max(0, next.predecessorsPending - 1)
            snapshot.steps[successor] = next
        }
        switch snapshot.state {
        case .running:
            readyUnblockedSteps()
            if snapshot.steps.values.allSatisfy({ $0.state == .succeeded || $0.state == .skipped }) {
                snapshot.state = .succeeded
                snapshot.error = nil
                record("workflow_succeeded")
            }
        case .compensating:
            // A step that was already running when compensation began has finished: it joins the steps to
            // compensate, and compensation can go on once nothing runs forward any more.
            continueCompensation()
        default:
            // failed: successors stay blocked until an operator resumes or skips.
            break
        }
    }

    /// Makes every blocked forward step whose predecessors are all done ready to run.
    private mutating func readyUnblockedSteps() {
        for stepDefinition in definition.steps {
            guard let step = snapshot.steps[stepDefinition.id], step.phase == .forward, step.state == .blocked,
                  step.predecessorsPending == 0 else { continue }
            makeReady(stepDefinition.id)
        }
    }

    private mutating func attemptFailed(_ id: String, failure: StepFailure) {
        var step = snapshot.steps[id]!
        let policy = machine.policy(for: id, phase: step.phase)
        let used = step.attempt - step.attemptBase
        let retryable = failure.retryable && policy.isRetryable(errorCode: failure.code)
        // A refusal for good is the action's verdict on where things stand (the teardown's pivots read BSS, ECS or
        // SecMaster again before it, and record anything that changed): it settles an earlier attempt without an
        // outcome. A retryable failure (a throttled read) settles nothing.
        if !retryable { step.lastAttemptOutcomeUnknown = false }
        var details: [String: JSONValue] = [
            "message": .string(failure.message), "retryable": .bool(retryable),
            "attempt": .number(Double(step.attempt)), "max_attempts": .number(Double(policy.maxAttempts)),
        ]
        if let code = failure.code { details["code"] = .string(code) }
        // A forward step that was running when compensation began is not tried again: compensation is waiting
        // for it, and a new attempt would change the cloud after the operator (or a failure) said stop.
        let stopping = step.phase == .forward && snapshot.state == .compensating
        if retryable && used < policy.maxAttempts && !stopping {
            let delay = policy.delay(afterAttempt: max(used, 1), random: random())
            var due = now.addingTimeInterval(delay.timeInterval)
            if let notBefore = failure.notBefore, notBefore > due { due = min(notBefore, latestDueTime) }
            step.state = .ready
            step.dueAt = due
            // Sticky: a later attempt that fails cleanly before changing anything (a throttled read) does not settle
            // what the earlier one may have done.
            step.lastAttemptOutcomeUnknown = step.lastAttemptOutcomeUnknown || Self.outcomeUnknownCodes.contains(failure.code ?? "")
            snapshot.steps[id] = step
            details["retry_at"] = .string(due.formatted(.iso8601))
            record(step.phase == .forward ? "attempt_failed" : "compensation_attempt_failed", id, details: .object(details))
            return
        }
        // The pivot's attempt ended without an outcome (its worker died, or it ran out of time), and no attempt will
        // follow to settle it (its last, or the workflow is compensating): what it was doing may have been applied,
        // so nothing before it may be compensated as if nothing had changed.
        // An earlier attempt without an outcome is not settled by this one failing cleanly (a refusal of a read).
        let pivotOutcomeUnknown = step.phase == .forward && id == definition.pivotStepID
            && (Self.outcomeUnknownCodes.contains(failure.code ?? "") || step.lastAttemptOutcomeUnknown)
        if stopping && retryable && used < policy.maxAttempts {
            details["reason"] = .string("not retried: the workflow is compensating")
            record("attempt_failed", id, details: .object(details))
            if pivotOutcomeUnknown {
                crossPivot(reason: "the pivot's attempt ended without an outcome (\(failure.code ?? "")) while the workflow was stopping: what it was doing may have been applied")
            }
            stopForCompensation(id)
            return
        }
        details["reason"] = .string(retryable ? "attempts exhausted" : "not retryable")
        if pivotOutcomeUnknown {
            crossPivot(reason: "the pivot's last attempt ended without an outcome (\(failure.code ?? "")): what it was doing may have been applied")
        }
        step.state = .failed
        if step.phase == .forward { step.completedSeq = nextCompletionSeq() }
        snapshot.steps[id] = step
        let errorValue = JSONValue.object(details.merging(["step": .string(id)]) { $1 })
        if step.phase == .compensate {
            record("compensation_failed", id, details: .object(details))
            snapshot.state = .compensationFailed
            snapshot.error = errorValue
            record("workflow_compensation_failed", details: errorValue)
            return
        }
        record("step_failed", id, details: .object(details))
        switch snapshot.state {
        case .running where snapshot.pivotCrossed:
            snapshot.state = .failed
            snapshot.error = errorValue
            cancelNotStarted()
            record("workflow_failed", details: errorValue)
        case .running:
            snapshot.error = errorValue
            startCompensation(reason: "step \(id) failed: \(failure.message)")
        case .compensating:
            continueCompensation()
        default:
            break
        }
    }

    static var outcomeUnknownCodes: Set<String> { SagaStateMachine.outcomeUnknownCodes }

    private mutating func crossPivot(reason: String) {
        guard !snapshot.pivotCrossed else { return }
        snapshot.pivotCrossed = true
        record("pivot_crossed", definition.pivotStepID, details: ["reason": .string(reason)])
    }

    // MARK: Compensation

    private mutating func startCompensation(reason: String) {
        snapshot.state = .compensating
        record("compensation_started", details: ["reason": .string(reason)])
        // Steps that have not started never will. Steps parked between attempts (ready or waiting after a
        // first attempt) may have changed something, so they stop too but are compensated like the others.
        for (id, step) in snapshot.steps where step.phase == .forward {
            // The pivot in a durable wait is in the middle of its attempt (following what it asked for): like a
            // running pivot, it is waited for, since its outcome decides whether anything may be compensated.
            if id == definition.pivotStepID && step.state == .waiting && step.hasStarted { continue }
            // The pivot parked for a retry after an attempt without an outcome (any since it was armed): no attempt will follow to settle it
            // (one now would change the cloud after the stop), so what that attempt was doing may have been applied.
            if id == definition.pivotStepID && step.state == .ready && step.hasStarted && step.lastAttemptOutcomeUnknown {
                crossPivot(reason: "the pivot's last attempt ended without an outcome and the workflow is stopping before another attempt settles it: what it was doing may have been applied")
            }
            switch step.state {
            case .blocked, .ready, .waiting:
                var cancelled = step
                cancelled.state = .cancelled
                if step.hasStarted { cancelled.completedSeq = nextCompletionSeq() }
                snapshot.steps[id] = cancelled
            default:
                break
            }
        }
        continueCompensation()
    }

    /// A forward step whose attempt ended while the workflow compensates: it stops like the steps parked when
    /// compensation began (it has started, so it is compensated too), and compensation goes on.
    private mutating func stopForCompensation(_ id: String) {
        var step = snapshot.steps[id]!
        step.state = .cancelled
        step.completedSeq = nextCompletionSeq()
        snapshot.steps[id] = step
        continueCompensation()
    }

    /// Runs the next compensation, or ends the compensation when none is left.
    private mutating func continueCompensation() {
        guard snapshot.state == .compensating else { return }
        // Wait for steps still running forward (and the pivot in a durable wait): their result decides whether
        // they need compensating.
        if snapshot.steps.values.contains(where: { $0.phase == .forward && $0.state == .running }) { return }
        if let pivot = definition.pivotStepID, let step = snapshot.steps[pivot], step.phase == .forward, step.state == .waiting { return }
        if snapshot.pivotCrossed {
            stopCompensationPastThePivot()
            return
        }
        // One compensation at a time, in reverse completion order.
        if snapshot.steps.values.contains(where: { $0.phase == .compensate && ($0.state == .ready || $0.state == .running || $0.state == .waiting) }) {
            return
        }
        let candidates = snapshot.steps.filter { id, step in
            guard step.phase == .forward, definition.step(id)?.compensation != nil else { return false }
            switch step.state {
            case .succeeded: return true
            case .failed, .cancelled: return step.hasStarted
            default: return false
            }
        }
        if let (id, _) = candidates.max(by: { ($0.value.completedSeq ?? 0) < ($1.value.completedSeq ?? 0) }) {
            var step = snapshot.steps[id]!
            step.phase = .compensate
            step.state = .ready
            step.dueAt = now
            step.attemptBase = step.attempt
            snapshot.steps[id] = step
            record("compensation_scheduled", id)
            return
        }
        if snapshot.cancelRequested {
            snapshot.state = .cancelled
            record("workflow_cancelled")
        } else {
            snapshot.state = .compensated
            record("workflow_compensated")
        }
    }

    /// The pivot was running when compensation began (an operator's cancel, a failure in a parallel branch) and it
    /// then succeeded or recorded an irreversible change: the cloud is past the point of no return, so nothing is
    /// compensated. The workflow fails, resumable forward like any failure past the pivot; the operator decides.
    private mutating func stopCompensationPastThePivot() {
        let pivot = definition.pivotStepID ?? "-"
        let cause = snapshot.cancelRequested ? "the cancel" : "compensation"
        let message = "the pivot step '\(pivot)' was running when \(cause) began and then crossed the point of no return, "
            + "so nothing was compensated; resume the workflow to finish the remaining steps, or cancel it with --force to leave them"
        snapshot.cancelRequested = false
        snapshot.state = .failed
        let error: JSONValue = ["step": .string(pivot), "message": .string(message), "reason": "past the point of no return"]
        snapshot.error = error
        cancelNotStarted()
        record("compensation_stopped", details: ["reason": .string(message)])
        record("workflow_failed", details: error)
    }

    private mutating func compensationSucceeded(_ id: String) {
        var step = snapshot.steps[id]!
        step.state = .compensated
        snapshot.steps[id] = step
        record("step_compensated", id)
        continueCompensation()
    }

    // MARK: Operators

    private mutating func resume(fromStep: String?) throws(SagaStateMachine.Refusal) {
        switch snapshot.state {
        case .failed:
            var rearmed: [String] = []
            if let fromStep {
                guard definition.step(fromStep) != nil else {
                    throw .init(description: "workflow has no step '\(fromStep)'; its steps: \(definition.steps.map(\.id).joined(separator: ", "))", isUnknownStep: true)
                }
                let downstream = descendants(of: fromStep)
                // Resuming from a step after a failed one would run it before that step succeeded (and leave the
                // failed one behind, with the workflow running forever): every failed step must be re-armed.
                let leftBehind = snapshot.steps.filter { id, step in
                    step.phase == .forward && (step.state == .failed || step.state == .cancelled) && id != fromStep && !downstream.contains(id)
                }.keys.sorted()
                let unfinishedBefore = definition.predecessors(of: fromStep).filter { predecessor in
                    let state = snapshot.steps[predecessor]?.state
                    return !(state == .succeeded || state == .skipped)
                }.sorted()
                // Named in workflow order, the earliest first, so that one more try is enough.
                let order = definition.steps.map(\.id)
                if let blocking = Set(leftBehind + unfinishedBefore).min(by: { (order.firstIndex(of: $0) ?? .max) < (order.firstIndex(of: $1) ?? .max) }) {
                    let skip = snapshot.steps[blocking]?.state == .failed ? ", or skip '\(blocking)' first (unwind skip)" : ""
                    throw .init(description: "cannot resume from '\(fromStep)': step '\(blocking)' has not succeeded and would not run again. Resume from '\(blocking)' or a step before it\(skip)")
                }
                for id in [fromStep] + downstream.sorted() {
                    guard var step = snapshot.steps[id], step.state != .running else { continue }
                    step.phase = .forward
                    step.attemptBase = step.attempt
                    step.completedSeq = nil
                    let pending = definition.predecessors(of: id).filter { predecessor in
                        let state = snapshot.steps[predecessor]?.state
                        return !(state == .succeeded || state == .skipped) || downstream.contains(predecessor) || predecessor == fromStep
                    }.count
                    step.predecessorsPending = id == fromStep ? 0 : pending
                    step.state = step.predecessorsPending == 0 ? .ready : .blocked
                    step.dueAt = now
                    snapshot.steps[id] = step
                    rearmed.append(id)
                }
            } else {
                for (id, step) in snapshot.steps where step.phase == .forward && (step.state == .failed || step.state == .cancelled) {
                    var next = step
                    next.attemptBase = step.attempt
                    next.completedSeq = nil
                    next.state = next.predecessorsPending == 0 ? .ready : .blocked
                    next.dueAt = now
                    snapshot.steps[id] = next
                    rearmed.append(id)
                }
            }
            guard !rearmed.isEmpty else { throw .init(description: "the workflow has no failed step to resume") }
            snapshot.state = .running
            snapshot.error = nil
            readyUnblockedSteps()
            record("workflow_resumed", details: ["steps": .array(rearmed.sorted().map { .string($0) })])
        case .compensationFailed:
            guard fromStep == nil else {
                throw .init(description: "a workflow whose compensation failed resumes its compensation; --from does not apply")
            }
            var rearmed: [String] = []
            for (id, step) in snapshot.steps where step.phase == .compensate && step.state == .failed {
                var next = step
                next.attemptBase = step.attempt
                next.state = .ready
                next.dueAt = now
                snapshot.steps[id] = next
                rearmed.append(id)
            }
            guard !rearmed.isEmpty else { throw .init(description: "the workflow has no failed compensation to resume") }
            snapshot.state = .compensating
            record("workflow_resumed", details: ["steps": .array(rearmed.sorted().map { .string($0) })])
        default:
            throw .init(description: "only failed or compensation_failed workflows can be resumed; this one is \(snapshot.state.rawValue)")
        }
    }

    private mutating func cancel(force: Bool) throws(SagaStateMachine.Refusal) {
        switch snapshot.state {
        case .succeeded, .compensated, .cancelled:
            throw .init(description: "the workflow has already ended (\(snapshot.state.rawValue)); there is nothing to cancel")
        case .compensating where !force:
            throw .init(description: "the workflow is already compensating; use --force to stop the compensation and leave what remains")
        case .scheduled:
            snapshot.state = .cancelled
            for (id, step) in snapshot.steps where step.state != .cancelled {
                var cancelled = step
                cancelled.state = .cancelled
                snapshot.steps[id] = cancelled
            }
            record("workflow_cancelled", details: ["before_start": true])
        case .running where !snapshot.pivotCrossed && !force:
            snapshot.cancelRequested = true
            startCompensation(reason: "cancelled by an operator")
        case .running, .failed, .compensationFailed, .compensating:
            guard force else {
                let pivot = definition.pivotStepID ?? "-"
                switch snapshot.state {
                case .compensationFailed where !snapshot.pivotCrossed:
                    throw .init(description: "the workflow's compensation failed; resume it to try the compensation again, skip the failed compensation, or cancel with --force to stop and leave what remains")
                case .running:
                    throw .init(description: "the workflow is past its point of no return (pivot '\(pivot)'): cancelling would leave the teardown half done. Let it finish, or cancel with --force to stop it and leave what remains")
                default:
                    throw .init(description: "the workflow is past its point of no return (pivot '\(pivot)'): cancelling would leave the teardown half done. Resume it instead, or cancel with --force to stop it and leave what remains")
                }
            }
            // Attempts still running are cut off from their results (fenced below), yet their calls may already
            // have changed the cloud: a pivot caught running counts as crossed, and the history names them all.
            // A pivot in a durable wait, or parked for a retry after an attempt without an outcome, is in the middle of
            // a change as much as a running one.
            let pivotWaiting = definition.pivotStepID.flatMap { snapshot.steps[$0] }.map {
                $0.phase == .forward && $0.hasStarted && ($0.state == .waiting || ($0.state == .ready && $0.lastAttemptOutcomeUnknown))
            } ?? false
            let interrupted = snapshot.steps.filter { $0.value.state == .running || ($0.key == definition.pivotStepID && pivotWaiting) }
                .keys.sorted()
            if let pivot = definition.pivotStepID, interrupted.contains(pivot) {
                crossPivot(reason: "cancelled with --force while the pivot ran: what it was doing may have been applied")
            }
            snapshot.state = .cancelled
            snapshot.cancelRequested = true
            for (id, step) in snapshot.steps where [.blocked, .ready, .waiting, .running].contains(step.state) {
                var cancelled = step
                cancelled.state = .cancelled
                // A running attempt keeps running, but its worker can no longer write its result.
                if step.state == .running { cancelled.fencingToken += 1 }
                snapshot.steps[id] = cancelled
            }
            record("workflow_cancelled", details: ["forced": true, "interrupted": .array(interrupted.map { .string($0) })])
        }
    }

    private mutating func skip(_ id: String) throws(SagaStateMachine.Refusal) {
        guard var step = snapshot.steps[id] else {
            throw .init(description: "workflow has no step '\(id)'; its steps: \(definition.steps.map(\.id).joined(separator: ", "))", isUnknownStep: true)
        }
        guard step.state == .failed else {
            throw .init(description: "only a failed step can be skipped; step '\(id)' is \(step.state.rawValue)")
        }
        switch (snapshot.state, step.phase) {
        case (.failed, .forward):
            step.state = .skipped
            snapshot.steps[id] = step
            record("step_skipped", id)
            snapshot.state = .running
            snapshot.error = nil
            // Other failed steps (parallel branches) stay failed; the workflow waits for them again.
            if snapshot.steps.values.contains(where: { $0.phase == .forward && $0.state == .failed }) {
                snapshot.state = .failed
            } else {
                // Steps a stopped compensation cancelled (it began, then the pivot crossed) go on, as after a
                // resume: left cancelled, the workflow ran with nothing left to run, for good.
                for (other, cancelled) in snapshot.steps where cancelled.phase == .forward && cancelled.state == .cancelled {
                    var next = cancelled
                    next.attemptBase = cancelled.attempt
                    next.completedSeq = nil
                    next.state = .blocked  // made ready below once its predecessors are done
                    snapshot.steps[other] = next
                }
            }
            afterForwardStepDone(id)
        case (.compensationFailed, .compensate):
            step.state = .skipped
            snapshot.steps[id] = step
            record("compensation_skipped", id)
            snapshot.state = .compensating
            continueCompensation()
        default:
            throw .init(description: "step '\(id)' cannot be skipped while the workflow is \(snapshot.state.rawValue)")
        }
    }

    // MARK: Helpers

    private mutating func makeReady(_ id: String) {
        guard var step = snapshot.steps[id] else { return }
        step.state = .ready
        step.dueAt = now
        snapshot.steps[id] = step
    }

    /// After a failure past the pivot: steps that have not started will not, until an operator resumes.
    private mutating func cancelNotStarted() {
        for (id, step) in snapshot.steps where step.phase == .forward && (step.state == .ready || step.state == .blocked) && !step.hasStarted {
            var blocked = step
            blocked.state = .blocked
            snapshot.steps[id] = blocked
        }
    }

    private func descendants(of id: String) -> Set<String> {
        var seen = Set<String>()
        var stack = definition.successors(of: id)
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack.append(contentsOf: definition.successors(of: next))
        }
        return seen
    }

    private func nextCompletionSeq() -> Int {
        (snapshot.steps.values.compactMap(\.completedSeq).max() ?? 0) + 1
    }

    private mutating func record(_ kind: String, _ stepID: String? = nil, details: JSONValue? = nil) {
        let step = stepID.flatMap { snapshot.steps[$0] }
        events.append(SagaEventRecord(kind: kind, stepID: stepID, phase: step?.phase, attempt: step?.attempt, details: details))
    }
}
