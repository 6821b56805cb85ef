import Foundation
import UnwindCore

/// The rule every submission path applies before anything is stored: a workflow with a `plan:` action is planned
/// (read-only), and it is refused when the plan asks for an acknowledgement (e.g. a handling fee) that the
/// submitter did not give. `unwind submit` and `POST /api/v1/workflows` both use this, so neither can be used to
/// get around the other.
public struct AcknowledgementGate: Sendable {
    public let runner: PlanRunner

    public init(runner: PlanRunner) {
        self.runner = runner
    }

    /// Returns the plan (nil when the workflow declares none); throws ``AcknowledgementRequired`` when the plan
    /// needs an acknowledgement the input's `accept` does not give, or ``PlanError`` when planning failed.
    /// - Parameter input: already validated against the definition (defaults applied), with the acknowledgements
    ///   given beside it (`--accept`, the API's `accept`) merged in by ``WorkflowDefinition/input(_:withAcknowledgements:)``.
    @discardableResult
    public func check(_ definition: WorkflowDefinition, input: [String: JSONValue]) async throws -> WorkflowPlan? {
        guard definition.planAction != nil else { return nil }
        let plan = try await runner.plan(definition, input: input)
        let missing = plan.missingAcknowledgements(accepted: definition.acknowledgements(in: input))
        if !missing.isEmpty {
            throw AcknowledgementRequired(
                workflow: definition.name, missing: missing, takesAcknowledgements: definition.inputs.contains { $0.name == "accept" })
        }
        return plan
    }
}

/// A submission refused because its plan needs acknowledging; nothing was submitted.
public struct AcknowledgementRequired: Error, Sendable, Equatable, CustomStringConvertible {
    public var workflow: String
    public var missing: [WorkflowPlan.Acknowledgement]
    /// Whether the definition declares the `accept` input that acknowledgements go into. Without it nothing the
    /// submitter gives can satisfy the plan, and the message says how to fix the definition instead.
    public var takesAcknowledgements: Bool

    public init(workflow: String, missing: [WorkflowPlan.Acknowledgement], takesAcknowledgements: Bool = true) {
        self.workflow = workflow
        self.missing = missing
        self.takesAcknowledgements = takesAcknowledgements
    }

    public var description: String {
        let text = "refused: the plan needs acknowledging before \(workflow) can be submitted; nothing was submitted. Missing: "
            + missing.map { "\($0.flag) (\($0.reason))" }.joined(separator: "; ")
        return definitionProblem.map { text + ". " + $0 } ?? text
    }

    /// Set when no submission can give what is missing, because the definition has nowhere to put it.
    public var definitionProblem: String? {
        guard !takesAcknowledgements else { return nil }
        return "Workflow '\(workflow)' declares no 'accept' input, so no acknowledgement can be given to it: add "
            + "`accept: {type: array, default: []}` to its inputs (its steps can then check them again), or submit with --skip-plan"
    }
}
