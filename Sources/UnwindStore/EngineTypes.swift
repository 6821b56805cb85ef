import Foundation
import UnwindCore

/// What an operator or program asks to start.
public struct SubmitRequest: Sendable {
    public var definition: WorkflowDefinition
    /// Already validated against the definition's inputs (defaults applied).
    public var input: [String: JSONValue]
    public var labels: [String: String]
    /// Submitting again with the same key returns the existing workflow instead of creating one.
    public var idempotencyKey: String?
    /// Do not start before this time; until then the workflow is `scheduled` and can be cancelled.
    public var notBefore: Date?
    public var submittedBy: String
    public var priority: Int
    public var queue: String

    public init(
        definition: WorkflowDefinition, input: [String: JSONValue], labels: [String: String] = [:],
        idempotencyKey: String? = nil, notBefore: Date? = nil, submittedBy: String, priority: Int = 0,
        queue: String = "default"
    ) {
        self.definition = definition
        self.input = input
        self.labels = labels
        self.idempotencyKey = idempotencyKey
        self.notBefore = notBefore
        self.submittedBy = submittedBy
        self.priority = priority
        self.queue = queue
    }
}

public enum SubmitOutcome: Sendable, Equatable {
    case created(UUID)
    /// A workflow with the same idempotency key already existed; nothing was created.
    case existing(UUID)

    public var workflowID: UUID {
        switch self {
        case .created(let id), .existing(let id): return id
        }
    }
}

/// A step attempt claimed by a worker, with everything its action needs.
public struct ClaimedStep: Sendable {
    public var workflowID: UUID
    public var stepID: String
    public var phase: StepPhase
    public var action: String
    /// Attempts started, ever; `attempt - attemptBase` is the attempt number within the current budget.
    public var attempt: Int
    public var attemptBase: Int
    public var fencingToken: Int64
    public var idempotencyKey: String
    public var checkpoint: JSONValue?
    public var leaseExpiresAt: Date
    /// True when this claim continues a durable wait rather than starting a new attempt.
    public var isResumedWait: Bool
    public var definition: WorkflowDefinition
    public var input: [String: JSONValue]
    /// Outputs of the workflow's steps that have one (earlier steps).
    public var outputs: [String: JSONValue]

    public var stepDefinition: StepDefinition? { definition.step(stepID) }
}

/// The result of one attempt, reported by the worker that holds the lease with ``fencingToken``.
public struct AttemptResult: Sendable {
    public enum Outcome: Sendable {
        case succeeded(output: JSONValue)
        case failed(StepFailure)
        /// Park the step until `until`, keeping `checkpoint` (a durable poll that frees the worker).
        case waiting(until: Date, checkpoint: JSONValue?)
    }

    public var workflowID: UUID
    public var stepID: String
    public var fencingToken: Int64
    public var outcome: Outcome

    public init(workflowID: UUID, stepID: String, fencingToken: Int64, outcome: Outcome) {
        self.workflowID = workflowID
        self.stepID = stepID
        self.fencingToken = fencingToken
        self.outcome = outcome
    }
}

/// What ``WorkflowStore/complete(_:thenClaim:queues:workerID:leaseSeconds:)`` did: the results' dispositions, in
/// order, and the steps claimed in the same transaction.
public struct CompletionBatch: Sendable {
    public var dispositions: [ResultDisposition]
    public var claimed: [ClaimedStep]
}

/// What happened to a reported result.
public enum ResultDisposition: Sendable, Equatable {
    case applied
    /// The lease was lost (expired and re-claimed, or the workflow was cancelled): the write was refused.
    case staleLease
    /// The workflow's stored rows cannot be read (edited or damaged by hand), so nothing about it can be written.
    /// The attempt is over without an outcome: its lease runs out and the rescue puts the workflow off, naming
    /// it, until the rows are mended.
    case unwritable(reason: String)
    /// Not written because the database failed while the batch was being written workflow by workflow (after
    /// an unreadable row): write it again with the next batch.
    case deferred
}

/// An operator action on a workflow, recorded with who did it and why.
public struct OperatorAction: Sendable {
    public enum Kind: Sendable {
        case resume(fromStep: String?)
        case cancel(force: Bool)
        case skip(step: String)
    }

    public var kind: Kind
    public var actor: String
    public var reason: String

    public init(_ kind: Kind, actor: String, reason: String) {
        self.kind = kind
        self.actor = actor
        self.reason = reason
    }
}

/// Errors of the workflow store that an operator can act on.
public enum StoreError: Error, Sendable, CustomStringConvertible, Equatable {
    case concurrencyKeyHeld(key: String, holder: UUID, state: String)
    case workflowNotFound(String)
    case ambiguousWorkflowID(prefix: String, matches: [UUID])
    case malformedWorkflowID(String)
    case refused(String)
    /// The idempotency key names a workflow submitted with another definition or input: answering with that
    /// workflow would make this submission look done when it was not.
    case idempotencyKeyReused(key: String, holder: UUID)
    /// An operator action named a step the workflow does not have.
    case stepNotFound(String)
    case corruptRow(String)

    public var description: String {
        switch self {
        case .concurrencyKeyHeld(let key, let holder, let state):
            return "another workflow (\(holder.uuidString.lowercased()), \(state)) already holds concurrency key '\(key)'; wait for it to finish, or resume/cancel it first"
        case .workflowNotFound(let id):
            return "no workflow with ID '\(id)'; list workflows with: unwind list"
        case .ambiguousWorkflowID(let prefix, let matches):
            return "workflow ID prefix '\(prefix)' is ambiguous; it matches: " + matches.map { $0.uuidString.lowercased() }.joined(separator: ", ")
        case .malformedWorkflowID(let text):
            return "'\(text)' is not a workflow ID: use the UUID (or a unique prefix of at least 4 hex digits) shown by unwind list"
        case .refused(let reason), .stepNotFound(let reason):
            return reason
        case .idempotencyKeyReused(let key, let holder):
            return "idempotency key '\(key)' was already used by workflow \(holder.uuidString.lowercased()) with a different workflow or input; nothing was submitted. Use a new key for a different submission"
        case .corruptRow(let detail):
            return "the database holds data this version of Unwind cannot read: \(detail)"
        }
    }
}
