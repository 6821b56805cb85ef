import Foundation
import Testing
import UnwindCore

@Suite("Loading valid definitions")
struct DefinitionLoaderTests {
    static let linear = """
        name: orders
        description: Reserve, charge and ship an order.
        plan: orders.plan
        concurrency_key: "order-{order_id}"
        inputs:
          order_id: {type: string, required: true, pattern: "^[0-9]+$", max_length: 12}
          express: {type: bool, default: false}
        defaults:
          retry: {max_attempts: 3, initial_interval: 2s, non_retryable: [CBC.30050010, 403]}
          timeout: 1m
        steps:
          - id: reserve
            action: orders.reserve
            compensation: orders.release
          - id: charge
            action: payments.charge
            compensation:
              action: payments.refund
              retry: {max_attempts: 10}
              timeout: 30s
            retry: {multiplier: 1.5, jitter: none}
          - id: ship
            action: orders.ship
            pivot: true
            timeout: 1m30s
            priority: 7
        """

    @Test func linearFileRunsInFileOrder() throws {
        let definition = try WorkflowDefinitionLoader.load(yaml: Self.linear, file: "workflows/orders.yaml", knownActions: knownActions)
        #expect(definition.name == "orders")
        #expect(definition.description == "Reserve, charge and ship an order.")
        #expect(definition.planAction == "orders.plan")
        #expect(definition.concurrencyKeyTemplate == "order-{order_id}")
        #expect(definition.steps.map(\.id) == ["reserve", "charge", "ship"])
        #expect(definition.predecessors(of: "reserve") == [])
        #expect(definition.predecessors(of: "charge") == ["reserve"])
        #expect(definition.predecessors(of: "ship") == ["charge"])
        #expect(definition.successors(of: "reserve") == ["charge"])
        #expect(definition.successors(of: "ship") == [])
        #expect(definition.topologicalOrder() == ["reserve", "charge", "ship"])
        #expect(definition.source == Self.linear)
    }

    @Test func defaultsAndOverridesMergeFieldByField() throws {
        let definition = try WorkflowDefinitionLoader.load(yaml: Self.linear, file: "orders.yaml", knownActions: knownActions)
        let reserve = try #require(definition.step("reserve"))
        #expect(reserve.retry == RetryPolicy(maxAttempts: 3, initialInterval: .seconds(2), multiplier: 2,
                                             maxInterval: .seconds(300), jitter: .full,
                                             nonRetryableErrorCodes: ["CBC.30050010", "403"]))
        #expect(reserve.timeout == .seconds(60))
        #expect(reserve.compensation == CompensationDefinition(action: "orders.release", retry: reserve.retry, timeout: .seconds(60)))

        let charge = try #require(definition.step("charge"))
        #expect(charge.retry.maxAttempts == 3)
        #expect(charge.retry.multiplier == 1.5)
        #expect(charge.retry.jitter == RetryPolicy.Jitter.none)
        #expect(charge.compensation?.action == "payments.refund")
        #expect(charge.compensation?.retry.maxAttempts == 10)
        #expect(charge.compensation?.retry.initialInterval == .seconds(2))
        #expect(charge.compensation?.timeout == .seconds(30))

        let ship = try #require(definition.step("ship"))
        #expect(ship.isPivot)
        #expect(ship.priority == 7)
        #expect(ship.timeout == .seconds(90))
        #expect(ship.compensation == nil)
        #expect(definition.pivotStepID == "ship")
        #expect(definition.isBeforePivot("reserve"))
        #expect(definition.isBeforePivot("charge"))
        #expect(!definition.isBeforePivot("ship"))
    }

    @Test func inputsKeepFileOrderAndDeclarations() throws {
        let definition = try WorkflowDefinitionLoader.load(yaml: Self.linear, file: "orders.yaml", knownActions: knownActions)
        #expect(definition.inputs == [
            InputField(name: "order_id", type: .string, required: true, pattern: "^[0-9]+$", maxLength: 12),
            InputField(name: "express", type: .bool, defaultValue: false),
        ])
    }

    @Test func stepsWithoutSettingsGetBuiltInDefaults() throws {
        let definition = try WorkflowDefinitionLoader.load(yaml: """
            name: minimal
            steps:
              - id: only
                action: test.noop
            """, file: "minimal.yaml", knownActions: knownActions)
        let step = try #require(definition.step("only"))
        #expect(step.retry == .default)
        #expect(step.timeout == StepDefinition.defaultTimeout)
        #expect(step.after == [])
        #expect(!step.isPivot && step.priority == 0)
        #expect(definition.pivotStepID == nil)
        #expect(definition.isBeforePivot("only"))
        #expect(!definition.isBeforePivot("missing"))
    }

    @Test func dagUsesExplicitAfter() throws {
        let definition = try WorkflowDefinitionLoader.load(yaml: """
            name: fanout
            steps:
              - id: ship
                action: orders.ship
                after: [charge, reserve]
              - id: reserve
                action: orders.reserve
                compensation: orders.release
              - id: plan
                action: test.noop
              - id: charge
                action: payments.charge
                after: reserve
                pivot: true
            """, file: "fanout.yaml", knownActions: knownActions)
        #expect(definition.predecessors(of: "ship") == ["charge", "reserve"])
        #expect(definition.predecessors(of: "reserve") == [])
        #expect(definition.predecessors(of: "plan") == [])
        #expect(definition.predecessors(of: "charge") == ["reserve"])
        #expect(definition.successors(of: "reserve") == ["ship", "charge"])
        #expect(definition.topologicalOrder() == ["reserve", "plan", "charge", "ship"])
        // Only ancestors of the pivot are compensable.
        #expect(definition.isBeforePivot("reserve"))
        #expect(!definition.isBeforePivot("plan"))
        #expect(!definition.isBeforePivot("charge"))
        #expect(!definition.isBeforePivot("ship"))
    }

    @Test func dagPivotRejectsCompensationOnIndependentStep() throws {
        let error = try #require(loadError("""
            name: orders
            steps:
              - id: reserve
                action: orders.reserve
                compensation: orders.release
              - id: audit
                action: test.noop
                compensation: test.noop
              - id: charge
                action: payments.charge
                after: [reserve]
                pivot: true
            """))
        #expect(error.issues.map(\.description) == [
            "workflows/orders.yaml:8: steps[1].compensation: compensation declared on or after the pivot: 'audit' does not "
                + "come before the pivot 'charge' (the pivot does not depend on it); only steps before the point of no "
                + "return can be undone",
        ])
    }

    @Test func codableRoundTripKeepsEverything() throws {
        let definition = try WorkflowDefinitionLoader.load(yaml: Self.linear, file: "orders.yaml", knownActions: knownActions)
        let data = try JSONEncoder().encode(definition)
        let decoded = try JSONDecoder().decode(WorkflowDefinition.self, from: data)
        #expect(decoded == definition)
        // Durations are stored as seconds so the stored copy is readable.
        let json = try #require(String(data: data, encoding: .utf8))
        #expect(json.contains("\"timeout\":90"))
    }

    @Test func contentHashIsSHA256OfSourceBytes() throws {
        let yaml = "name: tiny\nsteps:\n  - {id: a, action: test.noop}\n"
        let first = try WorkflowDefinitionLoader.load(yaml: yaml, file: "tiny.yaml", knownActions: knownActions)
        let again = try WorkflowDefinitionLoader.load(yaml: yaml, file: "tiny.yaml", knownActions: knownActions)
        let changed = try WorkflowDefinitionLoader.load(yaml: yaml + "# comment\n", file: "tiny.yaml", knownActions: knownActions)
        #expect(first.contentHash == again.contentHash)
        #expect(first.contentHash != changed.contentHash)
        #expect(first.contentHash.count == 64)
        #expect(first.contentHash.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(WorkflowDefinitionLoader.contentHash(of: "")
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(WorkflowDefinitionLoader.contentHash(of: "abc")
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func concurrencyKeyRendering() throws {
        var definition = try WorkflowDefinitionLoader.load(yaml: Self.linear, file: "orders.yaml", knownActions: knownActions)
        #expect(definition.renderConcurrencyKey(input: ["order_id": "42"]) == "order-42")
        definition.concurrencyKeyTemplate = "{{literal}}/{domain}/{count}/{flag}/{missing}"
        #expect(definition.renderConcurrencyKey(input: ["domain": "d1", "count": 3, "flag": true])
            == "{literal}/d1/3/true/")
        definition.concurrencyKeyTemplate = nil
        #expect(definition.renderConcurrencyKey(input: ["order_id": "42"]) == nil)
    }

    @Test func exampleWorkflowInRepositoryIsValid() throws {
        // #filePath → Tests/UnwindCoreTests/…; the example lives in workflows/ at the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("workflows/example-linear.yaml").path
        let definition = try WorkflowDefinitionLoader.load(contentsOf: path, knownActions: ["test.noop", "test.sleep"])
        #expect(definition.name == "example-linear")
        #expect(definition.steps.count >= 2)
    }

    @Test func readmeFullExampleIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("workflows/README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```yaml\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let yaml = String(readme[start.upperBound..<end.lowerBound])
        // The actions the binary registers (SecMasterTeardownTests checks the example against the real registry).
        let actions: Set<String> = [
            "secmaster.plan", "secmaster.inventory", "secmaster.preflight", "secmaster.disable-auto-renew",
            "secmaster.restore-auto-renew", "secmaster.unsubscribe-asset-quotas", "secmaster.verify",
        ]
        let definition = try WorkflowDefinitionLoader.load(yaml: yaml, file: "my-teardown.yaml", knownActions: actions)
        #expect(definition.pivotStepID == "unsubscribe-asset-quotas")
        #expect(definition.inputs.map(\.name) == ["domain_id", "project_id", "region", "profile", "delete_volume", "accept"])
        let preflight = try #require(definition.step("preflight"))
        #expect(preflight.retry.maxAttempts == 3 && preflight.retry.maxInterval == .seconds(60))
        #expect(preflight.retry.nonRetryableErrorCodes == ["CBC.30050010"])
        #expect(definition.step("disable-auto-renew")?.compensation?.retry.maxAttempts == 10)
    }
}
