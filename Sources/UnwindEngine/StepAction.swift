import Foundation
import Logging
import UnwindCore

/// What an action reports when it returns normally.
public enum StepOutcome: Sendable {
    /// Done; the output is saved and visible to later steps.
    case completed(JSONValue)
    /// Transient trouble: try again later (counts as an attempt), not before `notBefore` if given
    /// (e.g. from a `Retry-After` header).
    case retryLater(notBefore: Date?, reason: String, code: String?)
    /// Park this step until `until`, keeping `checkpoint`, and free the worker (a durable poll for an
    /// asynchronous cloud job). Does not consume an attempt.
    case wait(until: Date, checkpoint: JSONValue)
}

/// A unit of work a workflow step runs, registered by name in an ``ActionRegistry``.
///
/// Actions may run more than once for the same step (at-least-once: retries, a worker crash after the effect
/// but before the result was recorded). They must therefore be idempotent in effect: use
/// ``StepContext/idempotencyKey`` and ``StepContext/checkpoint`` to recognise work already done.
///
/// Throwing a ``StepFailure`` reports whether retrying can help; any other error counts as retryable.
public protocol StepAction: Sendable {
    func run(_ context: StepContext) async throws -> StepOutcome
}

/// An action from a closure.
public struct ClosureAction: StepAction {
    private let body: @Sendable (StepContext) async throws -> StepOutcome

    public init(_ body: @escaping @Sendable (StepContext) async throws -> StepOutcome) {
        self.body = body
    }

    public func run(_ context: StepContext) async throws -> StepOutcome {
        try await body(context)
    }
}

/// Actions by name. The engine knows nothing about clouds: the teardown actions are registered here by the
/// code that defines them, like any other.
public struct ActionRegistry: Sendable {
    private var actions: [String: any StepAction] = [:]
    private var planActions: Set<String> = []

    public init() {}

    /// Registers a read-only action that a definition's `plan:` may name: `unwind plan` and the submission gate run
    /// it in their own process, so only actions registered this way are run there (a step's action named as the
    /// plan is refused rather than run outside any workflow).
    public mutating func registerPlan(_ name: String, _ body: @escaping @Sendable (StepContext) async throws -> StepOutcome) {
        actions[name] = ClosureAction(body)
        planActions.insert(name)
    }

    /// Whether `name` was registered with ``registerPlan(_:_:)``.
    public func isPlanAction(_ name: String) -> Bool { planActions.contains(name) }

    public mutating func register(_ name: String, _ action: any StepAction) {
        actions[name] = action
    }

    public mutating func register(_ name: String, _ body: @escaping @Sendable (StepContext) async throws -> StepOutcome) {
        actions[name] = ClosureAction(body)
    }

    public func action(named name: String) -> (any StepAction)? { actions[name] }

    /// Every registered name: what workflow definitions are validated against.
    public var names: Set<String> { Set(actions.keys) }

    /// The names registered with ``registerPlan(_:_:)``.
    public var planNames: Set<String> { planActions }
}
