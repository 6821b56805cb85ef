import Testing
import UnwindCore

/// Each invalid definition yields exactly the expected messages, with file, line and path.
@Suite("Validation errors")
struct DefinitionValidationTests {
    private func messages(_ yaml: String, file: String = "workflows/orders.yaml") throws -> [String] {
        try #require(loadError(yaml, file: file)).issues.map(\.description)
    }

    @Test func unknownActionSuggestsClosest() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: charge
                action: payments.chrage
            """) == ["workflows/orders.yaml:4: steps[0].action: unknown action 'payments.chrage'; did you mean 'payments.charge'?"])
    }

    /// A step's action named as the plan (and a plan as a step's action) passed validation, then failed every plan and
    /// submission at run time; a loader told which actions are plans refuses both with the fix.
    @Test func planAndStepActionsAreNotInterchangeable() throws {
        func issues(_ yaml: String) -> [String] {
            do {
                _ = try WorkflowDefinitionLoader.load(yaml: yaml, file: "workflows/orders.yaml", knownActions: knownActions, planActions: ["orders.plan"])
                return []
            } catch {
                return error.issues.map(\.description)
            }
        }
        #expect(issues("""
            name: orders
            plan: orders.reserve
            steps:
              - {id: a, action: orders.plan}
            """) == [
                "workflows/orders.yaml:2: plan: 'orders.reserve' is a step's action, not a plan; name a plan action ('orders.plan')",
                "workflows/orders.yaml:4: steps[0].action: 'orders.plan' is a plan (read-only, for `unwind plan`), not a step's action; name it under the definition's `plan:` instead",
            ])
        #expect(issues("""
            name: orders
            plan: orders.plan
            steps:
              - {id: a, action: orders.reserve}
            """).isEmpty)
    }

    @Test func unknownActionWithoutCloseMatch() throws {
        #expect(try messages("""
            name: orders
            plan: totally.different
            steps:
              - {id: a, action: test.noop}
            """) == ["workflows/orders.yaml:2: plan: unknown action 'totally.different'"])
    }

    @Test func unknownKeySuggestsClosest() throws {
        let error = try #require(loadError("""
            name: orders
            steps:
              - id: a
                action: test.noop
              - id: b
                action: test.noop
              - id: c
                action: test.noop
                retyr: {max_attempts: 2}
            """))
        #expect(error.issues.map(\.description) == ["workflows/orders.yaml:9: steps[2].retyr: unknown key 'retyr'; did you mean 'retry'?"])
        #expect(error.issues.first?.column == 5)
    }

    @Test func unknownKeysAtEveryLevel() throws {
        #expect(try messages("""
            name: orders
            descripton: x
            inputs:
              n: {type: int, requird: true}
            defaults:
              retry: {max_atempts: 2}
            steps:
              - id: a
                action: test.noop
                compensation: {action: test.noop, timout: 2s}
            """) == [
                "workflows/orders.yaml:2: descripton: unknown key 'descripton'; did you mean 'description'?",
                "workflows/orders.yaml:4: inputs.n.requird: unknown key 'requird'; did you mean 'required'?",
                "workflows/orders.yaml:6: defaults.retry.max_atempts: unknown key 'max_atempts'; did you mean 'max_attempts'?",
                "workflows/orders.yaml:10: steps[0].compensation.timout: unknown key 'timout'; did you mean 'timeout'?",
            ])
    }

    @Test func duplicateStepID() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: charge
                action: payments.charge
              - id: charge
                action: payments.charge
            """) == ["workflows/orders.yaml:5: steps[1].id: duplicate step id 'charge' (first declared at line 3)"])
    }

    @Test func cycleReportsPath() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: a
                action: test.noop
                after: [c]
              - id: b
                action: test.noop
                after: [a]
              - id: c
                action: test.noop
                after: [b]
              - id: d
                action: test.noop
            """) == ["workflows/orders.yaml:5: steps[0].after: cycle in step dependencies: a → b → c → a"])
    }

    @Test func selfDependencyIsACycle() throws {
        #expect(try messages("""
            name: orders
            steps:
              - {id: a, action: test.noop, after: [a]}
            """) == ["workflows/orders.yaml:3: steps[0].after: cycle in step dependencies: a → a"])
    }

    @Test func missingAfterTargetSuggestsClosest() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: charge
                action: payments.charge
              - id: ship
                action: orders.ship
                after:
                  - chrage
            """) == ["workflows/orders.yaml:8: steps[1].after: step 'chrage' does not exist; did you mean 'charge'?"])
    }

    @Test func aPredecessorListedThreeTimesIsOneProblem() throws {
        #expect(try messages("""
            name: orders
            steps:
              - {id: b, action: payments.charge}
              - {id: c, action: orders.ship, after: [b, b, b]}
            """) == ["workflows/orders.yaml:4: steps[1].after: step 'b' is listed more than once"])
    }

    @Test func compensationOnPivot() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: charge
                action: payments.charge
                pivot: true
                compensation: payments.refund
            """) == ["workflows/orders.yaml:6: steps[0].compensation: compensation declared on or after the pivot: "
                + "'charge' is the pivot itself; only steps before the point of no return can be undone"])
    }

    @Test func compensationAfterPivotInLinearFile() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: charge
                action: payments.charge
                pivot: true
              - id: ship
                action: orders.ship
                compensation: orders.release
            """) == ["workflows/orders.yaml:8: steps[1].compensation: compensation declared on or after the pivot: "
                + "'ship' does not come before the pivot 'charge' (the pivot does not depend on it); only steps "
                + "before the point of no return can be undone"])
    }

    @Test func morePivotsThanOne() throws {
        #expect(try messages("""
            name: orders
            steps:
              - {id: a, action: test.noop, pivot: true}
              - {id: b, action: test.noop, pivot: true}
            """) == ["workflows/orders.yaml:4: steps[1].pivot: more than one pivot: 'b' and 'a' are both marked "
                + "pivot: true; a workflow has at most one point of no return"])
    }

    @Test(arguments: ["10x", "0s", "-5", "31d", "2592001", "1m1m", "30s1m", "ms", "1.5.2s", "\"\""])
    func badDuration(_ value: String) throws {
        let issues = try messages("""
            name: orders
            steps:
              - id: a
                action: test.noop
                timeout: \(value)
            """)
        #expect(issues.count == 1)
        #expect(issues.first?.hasPrefix("workflows/orders.yaml:5: steps[0].timeout: bad duration '") == true)
    }

    @Test func badDurationNamesTheValue() throws {
        #expect(try messages("""
            name: orders
            defaults: {timeout: 5 minutes}
            steps:
              - {id: a, action: test.noop}
            """) == ["workflows/orders.yaml:2: defaults.timeout: bad duration '5 minutes': use a number of seconds or "
                + "units like 500ms, 2s, 1m30s, 1h; it must be at least 1ms and at most 30 days"])
    }

    @Test func wrongTypes() throws {
        #expect(try messages("""
            name: orders
            steps:
              - id: a
                action: [test.noop]
                pivot: yes
                priority: high
                retry:
                  max_attempts: "3"
                  multiplier: 0.5
                  jitter: some
                after: {x: 1}
            """) == [
                "workflows/orders.yaml:4: steps[0].action: expected a string, got a list",
                "workflows/orders.yaml:5: steps[0].pivot: expected true or false, got 'yes'",
                "workflows/orders.yaml:6: steps[0].priority: expected an integer, got 'high'",
                "workflows/orders.yaml:8: steps[0].retry.max_attempts: expected an integer, got '3'",
                "workflows/orders.yaml:9: steps[0].retry.multiplier: must be between 1 and 100, got '0.5'",
                "workflows/orders.yaml:10: steps[0].retry.jitter: jitter must be 'full' or 'none', got 'some'",
                "workflows/orders.yaml:11: steps[0].after: expected a list of step ids, got a mapping",
            ])
    }

    @Test func documentAndStepsMustHaveTheRightShape() throws {
        #expect(try messages("- just\n- a list\n") == ["workflows/orders.yaml:1: expected the document (a mapping), got a list"])
        #expect(try messages("name: orders\nsteps: []\n") == ["workflows/orders.yaml:2: steps: a workflow needs at least one step"])
        #expect(try messages("name: orders\nsteps: {a: 1}\n") == ["workflows/orders.yaml:2: steps: expected a list of steps, got a mapping"])
        #expect(try messages("name: orders\n") == ["workflows/orders.yaml:1: missing required key 'steps'"])
        #expect(try messages("steps:\n  - {action: test.noop}\n") == [
            "workflows/orders.yaml:1: missing required key 'name'",
            "workflows/orders.yaml:2: steps[0]: missing required key 'id'",
        ])
        #expect(try messages("") == ["workflows/orders.yaml: file is empty; a workflow needs at least 'name' and 'steps'"])
    }

    @Test func nameMustMatchFileStemAndSyntax() throws {
        #expect(try messages("name: orders-v2\nsteps: [{id: a, action: test.noop}]\n") == [
            "workflows/orders.yaml:1: name: workflow name 'orders-v2' does not match the file name; rename the file "
                + "to 'orders-v2.yaml' or the workflow to 'orders'",
        ])
        #expect(try messages("name: Orders_V2\nsteps: [{id: a, action: test.noop}]\n", file: "Orders_V2.yml") == [
            "Orders_V2.yml:1: name: workflow name 'Orders_V2' must match [a-z0-9][a-z0-9-]* and be at most 64 characters",
        ])
        // Sources that are not .yaml files (e.g. stdin) are exempt from the stem rule.
        #expect(loadError("name: anything\nsteps: [{id: a, action: test.noop}]\n", file: "<stdin>") == nil)
    }

    @Test func inputDeclarationsAreChecked() throws {
        #expect(try messages("""
            name: orders
            concurrency_key: "{domian_id}"
            inputs:
              domain_id: {type: strng}
              size: {type: int, default: big}
              mode: {type: string, enum: [fast, slow], default: medium}
              code: {type: string, pattern: "(", max_length: -1}
              9lives: {type: bool}
            steps: [{id: a, action: test.noop}]
            """) == [
                "workflows/orders.yaml:2: concurrency_key: placeholder '{domian_id}' does not name a declared input; did you mean 'domain_id'?",
                "workflows/orders.yaml:4: inputs.domain_id.type: unknown input type 'strng'; expected one of string, int, bool, number, object, array; did you mean 'string'?",
                "workflows/orders.yaml:5: inputs.size.default: default expected int, got string",
                "workflows/orders.yaml:6: inputs.mode.default: default value \"medium\" is not one of \"fast\", \"slow\"",
                "workflows/orders.yaml:7: inputs.code.pattern: '(' is not a valid regular expression: missing ')'",
                "workflows/orders.yaml:7: inputs.code.max_length: must be ≥ 0, got -1",
                "workflows/orders.yaml:8: inputs.9lives: input name '9lives' must be letters, digits and '_', not starting with a digit",
            ])
    }

    @Test func anUnmatchedBraceInTheConcurrencyKeyIsRefused() throws {
        for (template, brace) in [("lock-{a", "{"), ("lock-}", "}"), ("{a{b}", "{")] {
            let found = try messages("name: orders\nconcurrency_key: \"\(template)\"\ninputs: {a: {type: string}, b: {type: string}}\nsteps: [{id: a, action: test.noop}]\n")
            #expect(found.contains { $0.contains("unmatched '\(brace)'") && $0.contains("'\(brace)\(brace)' for a literal brace") }, "\(template): \(found)")
        }
        #expect(loadError("name: orders\nconcurrency_key: \"{{lock}}-{a}\"\ninputs: {a: {type: string}}\nsteps: [{id: a, action: test.noop}]\n") == nil)
    }

    @Test func retryIntervalsMustBeOrdered() throws {
        #expect(try messages("""
            name: orders
            defaults:
              retry: {max_interval: 10s}
            steps:
              - id: a
                action: test.noop
                retry: {initial_interval: 1m}
            """) == ["workflows/orders.yaml:7: steps[0].retry: initial_interval (1m) is longer than max_interval (10s)"])
    }

    @Test func collectsEveryIssueInLineOrder() throws {
        let error = try #require(loadError("""
            name: orders
            steps:
              - id: reserve
                action: orders.reserv
                timeout: soon
              - id: reserve
                action: orders.reserve
                retyr: {}
              - id: ship
                action: orders.ship
                after: [charge]
                pivot: true
                compensation: orders.release
              - id: audit
                action: test.noop
                pivot: true
            """))
        // Every problem in one pass, including the graph's: the second 'reserve' (line 6) is a duplicate even
        // though the first failed its own checks, and 'ship' names a step no step declares (line 11).
        #expect(error.issues.map(\.line) == [4, 5, 6, 8, 11, 13, 16])
        #expect(error.description.split(separator: "\n").count == 7)
        #expect(error.description.contains("duplicate step id 'reserve'"))
        #expect(error.description.contains("step 'charge' does not exist"))
    }

    @Test func aReferenceIsNotCalledMissingWhenSomeStepsIdIsUnreadable() throws {
        let error = try #require(loadError("""
            name: orders
            steps:
              - action: orders.reserve
              - id: ship
                action: orders.ship
                after: [reserve]
            """))
        // The first step has no id: it may be the 'reserve' that 'ship' waits for.
        #expect(!error.description.contains("does not exist"), "\(error.description)")
        #expect(error.description.contains("missing required key 'id'"))
    }

    @Test func graphIssuesAreReportedTogether() throws {
        // Steps parse cleanly, so every graph problem is reported at once.
        #expect(try messages("""
            name: orders
            steps:
              - {id: reserve, action: orders.reserve}
              - {id: reserve, action: orders.reserve}
              - {id: ship, action: orders.ship, after: [chrage], pivot: true, compensation: orders.release}
              - {id: audit, action: test.noop, pivot: true}
            """) == [
                "workflows/orders.yaml:4: steps[1].id: duplicate step id 'reserve' (first declared at line 3)",
                "workflows/orders.yaml:5: steps[2].after: step 'chrage' does not exist",
                "workflows/orders.yaml:5: steps[2].compensation: compensation declared on or after the pivot: 'ship' is the pivot itself; only steps before the point of no return can be undone",
                "workflows/orders.yaml:6: steps[3].pivot: more than one pivot: 'audit' and 'ship' are both marked pivot: true; a workflow has at most one point of no return",
            ])
    }
}
