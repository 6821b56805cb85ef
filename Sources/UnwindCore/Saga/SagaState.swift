import Foundation

/// Where a workflow is in its life.
public enum WorkflowState: String, Sendable, Codable, CaseIterable {
    /// Submitted with a start time in the future; nothing has run.
    case scheduled
    /// Running steps forward.
    case running
    /// A step failed for good before the point of no return; compensations run in reverse completion order.
    case compensating
    /// Every step succeeded (or was skipped by an operator).
    case succeeded
    /// Every completed compensable step was compensated.
    case compensated
    /// A step failed for good after the pivot; nothing was compensated. Needs an operator (`resume`/`skip`).
    case failed
    /// A compensation failed for good. Needs an operator.
    case compensationFailed = "compensation_failed"
    /// Stopped by an operator.
    case cancelled

    /// No further transition happens without an operator: the workflow's work is over.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .compensated, .cancelled: return true
        default: return false
        }
    }

    /// Waiting for an operator (still holds its concurrency key).
    public var needsAttention: Bool { self == .failed || self == .compensationFailed }
}

/// Whether a step row is running its action or its compensation.
public enum StepPhase: String, Sendable, Codable {
    case forward
    case compensate
}

public enum StepState: String, Sendable, Codable, CaseIterable {
    /// Waiting for predecessors.
    case blocked
    /// Due to run at `dueAt` (first attempt or a retry).
    case ready
    /// Parked by the action itself until `dueAt` (a durable poll); does not consume an attempt.
    case waiting
    /// Claimed by a worker under a lease.
    case running
    case succeeded
    /// Failed for good (in its current phase).
    case failed
    /// Marked done by an operator.
    case skipped
    /// Will not run (workflow compensating or cancelled).
    case cancelled
    /// Its compensation completed.
    case compensated

    public var isClaimable: Bool { self == .ready || self == .waiting }
}

/// Why an attempt did not complete, as reported by an action (or the engine, for timeouts and lost leases).
public struct StepFailure: Sendable, Codable, Equatable, Error, CustomStringConvertible {
    /// A stable code, e.g. `CBC.30050010`, `timeout`, `lease_expired`.
    public var code: String?
    public var message: String
    /// Retrying might help. Unknown errors are retryable.
    public var retryable: Bool
    /// Do not retry before this time (e.g. from a `Retry-After` header).
    public var notBefore: Date?
    /// Retryable, but only once someone fixes the cause (a credentials file others can read): a worker retries with
    /// back-off, so the step goes on after the fix; a command run by hand (`plan`) stops at once instead of waiting.
    /// Optional so that failures stored by older versions still decode.
    public var needsFix: Bool?

    public init(code: String? = nil, message: String, retryable: Bool = true, notBefore: Date? = nil, needsFix: Bool? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
        self.notBefore = notBefore
        self.needsFix = needsFix
    }

    public var description: String {
        (code.map { "[\($0)] " } ?? "") + message
    }
}

/// The durable state of one step, as the state machine sees it.
public struct StepSnapshot: Sendable, Equatable {
    public var state: StepState
    public var phase: StepPhase
    /// Attempts started, ever (monotonic).
    public var attempt: Int
    /// `attempt` when the step was last (re-)armed; attempts left = max - (attempt - attemptBase).
    public var attemptBase: Int
    public var predecessorsPending: Int
    public var dueAt: Date
    /// Per-workflow order in which forward steps finished; compensation runs in reverse of it.
    public var completedSeq: Int?
    public var fencingToken: Int64
    /// An attempt of the step ended without an outcome (its worker died or stopped, or it timed out) and none has
    /// settled it since: what that attempt did is not known, even if later attempts failed cleanly before changing
    /// anything. Not a column: the store reads it from the history, and only for a parked pivot, the one step whose
    /// unknown outcome decides whether anything may be compensated.
    public var lastAttemptOutcomeUnknown: Bool

    public init(
        state: StepState, phase: StepPhase = .forward, attempt: Int = 0, attemptBase: Int = 0,
        predecessorsPending: Int = 0, dueAt: Date = .distantPast, completedSeq: Int? = nil, fencingToken: Int64 = 0,
        lastAttemptOutcomeUnknown: Bool = false
    ) {
        self.state = state
        self.phase = phase
        self.attempt = attempt
        self.attemptBase = attemptBase
        self.predecessorsPending = predecessorsPending
        self.dueAt = dueAt
        self.completedSeq = completedSeq
        self.fencingToken = fencingToken
        self.lastAttemptOutcomeUnknown = lastAttemptOutcomeUnknown
    }

    /// The step has run at least once, so it may have changed something.
    public var hasStarted: Bool { attempt > 0 }

    /// A worker starts a ready step: it runs under a new fencing token, as one more attempt. (The claim
    /// statement does the same in SQL; this is the in-memory form for a successor started eagerly.)
    public mutating func startAttempt() {
        precondition(state == .ready, "only a ready step starts an attempt")
        state = .running
        attempt += 1
        fencingToken += 1
    }
}

/// The durable state of one workflow and its steps.
public struct SagaSnapshot: Sendable, Equatable {
    public var state: WorkflowState
    public var pivotCrossed: Bool
    /// Set when an operator cancelled before the pivot: compensation then ends in `cancelled`.
    public var cancelRequested: Bool
    public var steps: [String: StepSnapshot]
    /// Why the workflow is failed / compensating / cancelled (the step error or the operator's reason).
    public var error: JSONValue?

    public init(
        state: WorkflowState, pivotCrossed: Bool = false, cancelRequested: Bool = false,
        steps: [String: StepSnapshot], error: JSONValue? = nil
    ) {
        self.state = state
        self.pivotCrossed = pivotCrossed
        self.cancelRequested = cancelRequested
        self.steps = steps
        self.error = error
    }

    /// The initial snapshot of a new workflow: root steps ready at `startAt` (or the workflow scheduled).
    public static func initial(for definition: WorkflowDefinition, startAt: Date?, now: Date) -> SagaSnapshot {
        let scheduled = startAt.map { $0 > now } ?? false
        var steps: [String: StepSnapshot] = [:]
        for step in definition.steps {
            let pending = step.after.count
            let state: StepState = pending == 0 && !scheduled ? .ready : .blocked
            steps[step.id] = StepSnapshot(state: state, predecessorsPending: pending, dueAt: now)
        }
        return SagaSnapshot(state: scheduled ? .scheduled : .running, steps: steps)
    }
}

/// A fact recorded in the event history by a transition.
public struct SagaEventRecord: Sendable, Equatable {
    public var kind: String
    public var stepID: String?
    public var phase: StepPhase?
    public var attempt: Int?
    public var details: JSONValue?

    public init(kind: String, stepID: String? = nil, phase: StepPhase? = nil, attempt: Int? = nil, details: JSONValue? = nil) {
        self.kind = kind
        self.stepID = stepID
        self.phase = phase
        self.attempt = attempt
        self.details = details
    }
}
