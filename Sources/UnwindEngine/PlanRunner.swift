import Foundation
import Logging
import UnwindCore

/// What a workflow would do, produced by its definition's read-only `plan:` action.
///
/// The plan action returns (as its output) a JSON object of this shape; unknown keys are kept in `extra`:
/// ```json
/// {"summary": "…",
///  "steps": [{"step": "unsubscribe-asset-quotas", "items": [
///      {"resource": "sm-quota-1", "action": "unsubscribe through BSS", "detail": "…", "amounts": {"refund": 12.5, "fee": 1.2}}]}],
///  "acknowledgements": [{"flag": "handling-fee", "reason": "…"}],
///  "warnings": ["…"], "totals": {"refund": 12.5, "fee": 1.2}, "currency": "CNY"}
/// ```
/// `submit` refuses a workflow whose plan lists an acknowledgement its `--accept` flags do not give.
public struct WorkflowPlan: Sendable, Codable, Equatable {
    public struct Item: Sendable, Codable, Equatable {
        public var resource: String
        public var action: String
        public var detail: String?
        public var amounts: [String: Double]?

        public init(resource: String, action: String, detail: String? = nil, amounts: [String: Double]? = nil) {
            self.resource = resource
            self.action = action
            self.detail = detail
            self.amounts = amounts
        }
    }

    public struct StepPlan: Sendable, Codable, Equatable {
        public var step: String
        public var items: [Item]

        public init(step: String, items: [Item]) {
            self.step = step
            self.items = items
        }
    }

    public struct Acknowledgement: Sendable, Codable, Equatable {
        /// The `--accept` value that gives it, e.g. `handling-fee`.
        public var flag: String
        public var reason: String

        public init(flag: String, reason: String) {
            self.flag = flag
            self.reason = reason
        }
    }

    public var summary: String?
    public var steps: [StepPlan]
    public var acknowledgements: [Acknowledgement]
    public var warnings: [String]
    /// What will stop the workflow before it changes anything, whatever is acknowledged (e.g. the teardown's
    /// preflight refusing an account whose packages an expired quota blocks). Such a submission changes nothing,
    /// so `plan --fleet` counts the row as blocked, not ready.
    public var blockers: [String]
    public var totals: [String: Double]?
    public var currency: String?

    public init(summary: String? = nil, steps: [StepPlan] = [], acknowledgements: [Acknowledgement] = [],
                warnings: [String] = [], blockers: [String] = [], totals: [String: Double]? = nil, currency: String? = nil) {
        self.summary = summary
        self.steps = steps
        self.acknowledgements = acknowledgements
        self.warnings = warnings
        self.blockers = blockers
        self.totals = totals
        self.currency = currency
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        summary = try container.decodeIfPresent(String.self, forKey: .summary)
        steps = try container.decodeIfPresent([StepPlan].self, forKey: .steps) ?? []
        acknowledgements = try container.decodeIfPresent([Acknowledgement].self, forKey: .acknowledgements) ?? []
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings) ?? []
        blockers = try container.decodeIfPresent([String].self, forKey: .blockers) ?? []
        totals = try container.decodeIfPresent([String: Double].self, forKey: .totals)
        currency = try container.decodeIfPresent(String.self, forKey: .currency)
    }

    /// Acknowledgements the plan needs that `accepted` does not give.
    public func missingAcknowledgements(accepted: Set<String>) -> [Acknowledgement] {
        acknowledgements.filter { !accepted.contains($0.flag) }
    }
}

public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The plan's reads failed in a way that may pass (throttling, 5xx, lost connections): the caller may try
    /// again later, `retryAfter` from now when the cloud said when.
    public var isTransient: Bool
    public var retryAfter: TimeInterval?

    public init(description: String, isTransient: Bool = false, retryAfter: TimeInterval? = nil) {
        self.description = description
        self.isTransient = isTransient
        self.retryAfter = retryAfter
    }
}

/// Runs a definition's plan action in-process: read-only, no database, no checkpoints.
public struct PlanRunner: Sendable {
    public let registry: ActionRegistry
    public let logger: Logger

    public init(registry: ActionRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    /// Attempts at a plan whose reads fail retryably (throttling, 5xx, lost connections): 1 s, 2 s, 4 s apart.
    static let maxAttempts = 4

    public func plan(_ definition: WorkflowDefinition, input: [String: JSONValue], timeout: Duration = .seconds(120)) async throws -> WorkflowPlan {
        guard let name = definition.planAction else {
            throw PlanError(description: "workflow '\(definition.name)' declares no plan (add `plan: ACTION` to its definition)")
        }
        guard let action = registry.action(named: name) else {
            throw PlanError(description: "plan action '\(name)' of workflow '\(definition.name)' is not registered in this binary")
        }
        guard registry.isPlanAction(name) else {
            // A step's action may change the cloud; run here, it would do so outside any workflow and its history.
            throw PlanError(description: "workflow '\(definition.name)' names '\(name)' as its plan, but that is a step's action, which may change things; a plan only reads. Name a plan action (such as secmaster.plan) in `plan:`, or remove it")
        }
        let outcome = try await runWithRetries(action, definition: definition, input: input,
                                               deadline: Date().addingTimeInterval(Double(timeout.components.seconds)))
        guard case .completed(let output) = outcome else {
            throw PlanError(description: "plan action '\(name)' did not complete (plans must not wait or retry)")
        }
        do {
            let data = try JSONEncoder().encode(output)
            return try JSONDecoder().decode(WorkflowPlan.self, from: data)
        } catch {
            throw PlanError(description: "plan action '\(name)' returned a plan that does not have the documented shape: \(error)")
        }
    }
}

extension PlanRunner {
    /// A plan only reads, so a throttled or briefly failing read (429, 5xx, a reset) is simply tried again, a few
    /// times and within the deadline, instead of making the operator run the command again.
    private func runWithRetries(
        _ action: any StepAction, definition: WorkflowDefinition, input: [String: JSONValue], deadline: Date
    ) async throws -> StepOutcome {
        var attempt = 1
        while true {
            let context = StepContext(
                workflowID: UUID(), workflowName: definition.name, stepID: "plan", phase: .forward, input: input,
                outputs: [:], checkpoint: nil, attempt: attempt, maxAttempts: Self.maxAttempts, deadline: deadline,
                idempotencyKey: "plan", logger: logger, recorder: ReadOnlyRecorder())
            do {
                return try await action.run(context)
            } catch let failure as StepFailure {
                let pause = min(max(failure.notBefore?.timeIntervalSinceNow ?? 0, Double(1 << (attempt - 1))), 10)
                // A failure that waits for a fix (a credentials file readable by others) is not tried again here.
                let passing = failure.retryable && failure.needsFix != true
                guard passing, attempt < Self.maxAttempts, Date().addingTimeInterval(pause) < deadline else {
                    let tries = attempt == 1 ? "" : " (tried \(attempt) times)"
                    let next = passing ? "try again later, or once the cause above is fixed" : "fix the cause, then try again"
                    throw PlanError(
                        description: "planning failed\(tries): \(failure). Nothing was planned, submitted or changed; \(next)",
                        isTransient: passing, retryAfter: failure.notBefore.map { max(1, $0.timeIntervalSinceNow) })
                }
                logger.notice("a read of the plan failed; trying again", metadata: ["error": "\(failure)", "attempt": "\(attempt)", "pause_s": "\(pause)"])
                try await Task.sleep(for: .seconds(pause))
                attempt += 1
            }
        }
    }
}

/// Plans are read-only: saving a checkpoint is a programming error, reported as a clear failure.
struct ReadOnlyRecorder: CheckpointRecorder {
    func save(checkpoint: JSONValue, irreversible: Bool) async throws {
        throw StepFailure(code: "plan_is_read_only", message: "a plan action tried to save a checkpoint; plans must not change anything", retryable: false)
    }

    func heartbeat() async throws {}

    func workflowIsStopping() async throws -> Bool { false }
}
