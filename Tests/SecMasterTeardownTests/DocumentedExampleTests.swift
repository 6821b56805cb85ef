import Foundation
import Testing
import UnwindCore
import UnwindEngine
@testable import SecMasterTeardown
import UnwindTesting

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
