import Foundation
import Testing
import UnwindCore
import UnwindEngine
@testable import SecMasterTeardown
import UnwindTesting
import Logging

/// The definitions the documentation shows are ones the validator accepts: the full example of workflows/README.md
/// named four actions that do not exist, and a user copying it got five errors.
@Suite("Documented examples")
struct DocumentedExampleTests {
    @Test func theFullExampleOfTheWorkflowGuideValidates() throws {
        let guide = try String(contentsOfFile: TestEnvironment.repositoryRoot + "/workflows/README.md", encoding: .utf8)
        let section = try #require(guide.range(of: "## Full example"))
        let start = try #require(guide.range(of: "```yaml\n", range: section.upperBound..<guide.endIndex))
        let end = try #require(guide.range(of: "```", range: start.upperBound..<guide.endIndex))
        var registry = ActionRegistry()
        TestActions.register(into: &registry)
        TeardownActions.register(into: &registry, environment: TeardownEnvironment.standard(endpointOverride: nil))
        let definition = try WorkflowDefinitionLoader.load(
            yaml: String(guide[start.upperBound..<end.lowerBound]), file: "my-teardown.yaml", knownActions: registry.names)
        #expect(definition.name == "my-teardown")
        #expect(definition.pivotStepID == "unsubscribe-asset-quotas")
    }
}

/// A definition's `plan:` may name only an action registered as a plan: `unwind plan` and the submission gate run it
/// in their own process, and a step's action there could change the cloud outside any workflow.
@Suite("Plan actions")
struct PlanActionTests {
    @Test func aStepsActionNamedAsThePlanIsRefusedNotRun() async throws {
        var registry = ActionRegistry()
        TestActions.register(into: &registry)
        TeardownActions.register(into: &registry, environment: TeardownEnvironment.standard(endpointOverride: "http://127.0.0.1:9"))
        #expect(registry.isPlanAction("secmaster.plan") && registry.isPlanAction("test.plan"))
        #expect(!registry.isPlanAction("secmaster.unsubscribe-asset-quotas"))
        let definition = try WorkflowDefinitionLoader.load(yaml: """
            name: sneaky
            plan: test.noop
            steps:
              - {id: only, action: test.noop}
            """, file: "sneaky.yaml", knownActions: registry.names)
        let error = await #expect(throws: PlanError.self) {
            _ = try await PlanRunner(registry: registry, logger: Logger(label: "test")).plan(definition, input: ["test": ["plan": ["fail": "permanent"]]])
        }
        #expect(error?.description.contains("a plan only reads") == true, "\(error?.description ?? "")")
    }
}
