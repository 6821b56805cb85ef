import Foundation
import UnwindCore
import UnwindStore

/// Validates a submission against its definition, then stores it.
public struct WorkflowSubmitter: Sendable {
    public let store: WorkflowStore

    public init(store: WorkflowStore) {
        self.store = store
    }

    /// Input problems throw ``InputValidationError`` (every problem named) and change nothing.
    public func submit(
        _ definition: WorkflowDefinition, input: [String: JSONValue], labels: [String: String] = [:],
        idempotencyKey: String? = nil, notBefore: Date? = nil, submittedBy: String, priority: Int = 0,
        queue: String = "default"
    ) throws -> SubmitOutcome {
        let limits = SubmissionLimits.problems(labels: labels, notBefore: notBefore, idempotencyKey: idempotencyKey)
        if !limits.isEmpty { throw InputValidationError(problems: limits) }
        let validated = try definition.validateInput(input)
        return try store.submit(SubmitRequest(
            definition: definition, input: validated, labels: labels, idempotencyKey: idempotencyKey,
            notBefore: notBefore, submittedBy: submittedBy, priority: priority, queue: queue))
    }
}
