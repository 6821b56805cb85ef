import Foundation
import Testing
import UnwindTesting

/// The operator CLI end to end: the real `unwind` binary against the test database, with a real worker process.
@Suite("unwind workflow commands", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct WorkflowCommandsTests {
    /// A migrated database, a workflows directory with test definitions, and a worker process.
    final class Setup: Sendable {
        let database: TestDatabase
        let workflows: String
        let worker: WorkerProcess

        init() throws {
            database = try TestDatabase.create(migrated: true)
            workflows = try TestEnvironment.makeScratchDirectory("workflows")
            try Self.saga.write(toFile: workflows + "/saga.yaml", atomically: true, encoding: .utf8)
            try Self.planned.write(toFile: workflows + "/planned.yaml", atomically: true, encoding: .utf8)
            worker = try WorkerProcess(databaseURL: database.url, arguments: ["--lease", "5s"])
        }

        static let saga = """
            name: saga
            inputs:
              account: {type: string, required: true, pattern: "^[a-z0-9-]+$", max_length: 32}
              test: {type: object, default: {}}
            concurrency_key: "account:{account}"
            defaults: {retry: {max_attempts: 2, initial_interval: 50ms, jitter: none}}
            steps:
              - {id: prepare, action: test.noop, compensation: test.undo}
              - {id: commit, action: test.noop, pivot: true}
              - {id: finish, action: test.noop}
            """

        static let planned = """
            name: planned
            plan: test.plan
            inputs:
              fee: {type: number, default: 0}
              accept: {type: array, default: []}
            steps:
              - {id: only, action: test.noop}
            """

        func unwind(_ arguments: [String], environment: [String: String] = [:]) async -> CommandOutput {
            await runUnwind(arguments + ["--database-url", database.url], environment: ["UNWIND_WORKFLOWS_DIR": workflows].merging(environment) { $1 })
        }

        /// Without a database flag (plan needs none).
        func unwindOffline(_ arguments: [String]) async -> CommandOutput {
            await runUnwind(arguments, environment: ["UNWIND_WORKFLOWS_DIR": workflows])
        }

        func submittedID(_ output: CommandOutput) throws -> String {
            let line = try #require(output.stdout.split(separator: "\n").first { $0.hasPrefix("submitted ") }, "\(output.combined)")
            return String(line.split(separator: " ")[2])
        }

        func json(_ output: CommandOutput) throws -> Any {
            try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
        }
    }

    @Test func submitWaitStatusListAndHistoryInBothFormats() async throws {
        let setup = try Setup()
        let submit = await setup.unwind(["submit", "saga", "--set", "account=acme", "--label", "team=red", "--wait"])
        #expect(submit.status == 0, "\(submit.combined)")
        #expect(submit.stdout.contains("succeeded  3/3 steps"))
        let id = try setup.submittedID(submit)

        let status = await setup.unwind(["status", String(id.prefix(8))])
        #expect(status.status == 0)
        #expect(status.stdout.contains("state       succeeded"))
        #expect(status.stdout.contains("prepare  succeeded  1"))

        let statusJSON = try await #require(try setup.json(setup.unwind(["status", id, "--output", "json"])) as? [String: Any])
        let workflow = try #require(statusJSON["workflow"] as? [String: Any])
        #expect(workflow["state"] as? String == "succeeded")
        #expect(workflow["id"] as? String == id, "the same lower-case ID as the text output and submit print")
        #expect((statusJSON["steps"] as? [[String: Any]])?.map { $0["step_id"] as? String } == ["prepare", "commit", "finish"])

        let list = try await #require(try setup.json(setup.unwind(["list", "--label", "team=red", "--output", "json"])) as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["id"] as? String == id)
        #expect(list.first?["steps_done"] as? Int == 3)
        await #expect(setup.unwind(["list", "--state", "failed", "--output", "json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        await #expect(setup.unwind(["list"]).stdout.contains("saga"))

        let history = try await #require(try setup.json(setup.unwind(["history", id, "--output", "json"])) as? [[String: Any]])
        let kinds = history.compactMap { $0["kind"] as? String }
        #expect(kinds.first == "workflow_submitted")
        #expect(kinds.last == "workflow_succeeded")
        await #expect(setup.unwind(["history", String(id.prefix(6))]).stdout.contains("pivot_crossed"))

        let graph = await setup.unwind(["graph", id, "--format", "dot"])
        #expect(graph.stdout.contains("digraph \"saga\""))
        // Nodes are named by position (ids such as `a-b` and `a_b` stay apart); labels carry the ids.
        #expect(graph.stdout.contains("s0 [label=\"prepare\\nsucceeded\"") && graph.stdout.contains("s0 -> s1"), "\(graph.stdout)")
        await #expect(setup.unwind(["graph", id]).stdout.hasPrefix("flowchart TD"))
    }

    @Test func resumeAfterAnInjectedPermanentFailureAndSkip() async throws {
        let setup = try Setup()
        let broken = TestEnvironment.workDirectory + "/broken-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: broken, contents: Data()))
        let script = "{\"finish\": {\"fail\": \"permanent\", \"while_file_exists\": \"\(broken)\"}}"
        let submit = await setup.unwind(["submit", "saga", "--set", "account=beta", "--set", "test=\(script)", "--wait"])
        #expect(submit.status == 2, "a failed workflow exits 2: \(submit.combined)")
        #expect(submit.stdout.contains("next: unwind status"))
        let id = try setup.submittedID(submit)
        let failedStatus = await setup.unwind(["status", id])
        #expect(failedStatus.stdout.contains("next: fix the cause, then: unwind resume"))
        // A failed workflow waits for an operator: its duration is how long it ran, not a clock still running.
        #expect(failedStatus.stdout.contains(" until it stopped at "), "\(failedStatus.stdout)")
        #expect(!failedStatus.stdout.contains(" so far"))

        try FileManager.default.removeItem(atPath: broken)
        let resume = await setup.unwind(["resume", String(id.prefix(10)), "--reason", "fixed the quota", "--as", "alice", "--wait"])
        #expect(resume.status == 0, "\(resume.combined)")
        let events = try await #require(try setup.json(setup.unwind(["history", id, "--output", "json"])) as? [[String: Any]])
        let resumed = try #require(events.first { $0["kind"] as? String == "resume_requested" })
        #expect(resumed["actor"] as? String == "alice")
        #expect(resumed["reason"] as? String == "fixed the quota")

        // Skip: a second workflow fails permanently and the operator marks the step done by hand.
        let other = await setup.unwind(["submit", "saga", "--set", "account=gamma", "--set", "test={\"finish\": {\"fail\": \"permanent\"}}", "--wait"])
        let otherID = try setup.submittedID(other)
        // A step the workflow does not have is "not found" (exit 3), with the steps it does have.
        let noSuchStep = await setup.unwind(["skip", otherID, "finsh", "--reason", "typo"])
        #expect(noSuchStep.status == 3 && noSuchStep.stderr.contains("workflow has no step 'finsh'; its steps: "), "\(noSuchStep.combined)")
        let skip = await setup.unwind(["skip", otherID, "finish", "--reason", "deleted in the console"])
        #expect(skip.status == 0, "\(skip.combined)")
        await #expect(setup.unwind(["status", otherID]).stdout.contains("finish   skipped"))
        // Resuming a finished workflow is refused: exit 4 with the reason.
        let refused = await setup.unwind(["resume", otherID, "--reason", "again"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("only failed or compensation_failed workflows can be resumed"))

        // A transient failure on every attempt: the error is retryable, and the status says the retries are over.
        let exhausted = await setup.unwind(["submit", "saga", "--set", "account=delta", "--set", "test={\"finish\": {\"fail\": \"transient\"}}", "--wait"])
        #expect(exhausted.status == 2, "\(exhausted.combined)")
        let exhaustedStatus = await setup.unwind(["status", try setup.submittedID(exhausted)])
        #expect(exhaustedStatus.stdout.contains("(no attempts left)"), "\(exhaustedStatus.stdout)")
        #expect(!failedStatus.stdout.contains("(no attempts left)"), "a permanent failure was never going to be retried")
    }

    /// A fleet's failures are resumed together: `--all-failed` with `--label` resumes the failed workflows it selects,
    /// each recorded like a single resume, and leaves the others.
    @Test func resumeAllFailedSelectsByLabel() async throws {
        let setup = try Setup()
        let broken = TestEnvironment.workDirectory + "/broken-all-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: broken, contents: Data()))
        let script = "test={\"finish\": {\"fail\": \"permanent\", \"while_file_exists\": \"\(broken)\"}}"
        var ids: [String: String] = [:]
        for (account, batch) in [("ra1", "x"), ("ra2", "x"), ("ra3", "y")] {
            let submitted = await setup.unwind(["submit", "saga", "--set", "account=\(account)", "--set", script, "--label", "batch=\(batch)", "--wait"])
            #expect(submitted.status == 2, "\(submitted.combined)")
            ids[account] = try setup.submittedID(submitted)
        }
        try FileManager.default.removeItem(atPath: broken)
        await #expect(setup.unwind(["resume", "--reason", "no id"]).status == 64)
        await #expect(setup.unwind(["resume", ids["ra1"]!, "--all-failed", "--reason", "both"]).status == 64)
        let all = await setup.unwind(["resume", "--all-failed", "--label", "batch=x", "--reason", "credentials fixed"])
        #expect(all.status == 0, "\(all.combined)")
        #expect(all.stdout.contains("resumed \(ids["ra1"]!)") && all.stdout.contains("resumed \(ids["ra2"]!)"), "\(all.stdout)")
        #expect(all.stdout.contains("2 resumed, 0 refused") && !all.stdout.contains(ids["ra3"]!), "\(all.stdout)")
        await #expect(setup.unwind(["status", ids["ra3"]!]).stdout.contains("state       failed"))
        let history = try await #require(try setup.json(setup.unwind(["history", ids["ra1"]!, "--output", "json"])) as? [[String: Any]])
        #expect(history.contains { $0["kind"] as? String == "resume_requested" && $0["reason"] as? String == "credentials fixed" })
        let none = await setup.unwind(["resume", "--all-failed", "--label", "batch=z", "--reason", "nothing"])
        #expect(none.status == 0 && none.stdout.contains("nothing was resumed"), "\(none.combined)")
    }

    /// Running a fleet file again never submits a row anew, even one whose workflow was cancelled: the row's line
    /// says so, and the summary says how to run those rows again.
    @Test func aFleetRowWhoseWorkflowWasCancelledSaysHowToRunItAgain() async throws {
        let setup = try Setup()
        let file = setup.workflows + "/again.csv"
        try "account\nagain1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let first = await setup.unwind(["submit", "saga", "--fleet", file, "--not-before", "+1h"])
        let id = try #require(first.stdout.split(separator: "\n").first?.split(separator: "\t").last.map(String.init), "\(first.combined)")
        await #expect(setup.unwind(["cancel", id, "--reason", "wrong file"]).status == 0)
        let again = await setup.unwind(["submit", "saga", "--fleet", file])
        #expect(again.stdout.contains("line 2\texists\t\(id) (cancelled)"), "\(again.combined)")
        #expect(again.stderr.contains("1 row(s) exist as workflows that ended compensated or cancelled") && again.stderr.contains("new --idempotency-key"), "\(again.stderr)")
    }

    @Test func cancelBeforeAndAfterThePivot() async throws {
        let setup = try Setup()
        let before = await setup.unwind(["submit", "saga", "--set", "account=delta", "--set", "test={\"prepare\": {\"wait_ms\": 600000}}"])
        let beforeID = try setup.submittedID(before)
        let deadline = Date().addingTimeInterval(20)
        while await !setup.unwind(["status", beforeID]).stdout.contains("prepare  waiting"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        // prepare, before the pivot, waits: the workflow has not crossed, so the cancel compensates. (A pivot in a
        // durable wait would be waited for, like a running one: the state machine's tests cover it.)
        let cancel = await setup.unwind(["cancel", beforeID, "--reason", "wrong account"])
        #expect(cancel.status == 0, "\(cancel.combined)")

        let after = await setup.unwind(["submit", "saga", "--set", "account=eps", "--set", "test={\"finish\": {\"wait_ms\": 600000}}"])
        let afterID = try setup.submittedID(after)
        while await !setup.unwind(["status", afterID]).stdout.contains("finish   waiting"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let refused = await setup.unwind(["cancel", afterID, "--reason", "stop"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("past its point of no return"))
        #expect(refused.stderr.contains("--force"))
        let forced = await setup.unwind(["cancel", afterID, "--force", "--reason", "finishing by hand"])
        #expect(forced.status == 0)
        await #expect(setup.unwind(["status", afterID]).stdout.contains("state       cancelled"))
        let waitDeadline = Date().addingTimeInterval(20)
        while await !setup.unwind(["status", beforeID]).stdout.contains("state       cancelled"), Date() < waitDeadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        await #expect(setup.unwind(["status", beforeID]).stdout.contains("prepare  compensated"))

        // A cancel while the pivot waits is waited for; the pivot then crosses, so the workflow fails with no failed
        // step (the rest cancelled): the status offers a resume, not a skip of a step that cannot be skipped.
        let during = await setup.unwind(["submit", "saga", "--set", "account=zeta", "--set", "test={\"commit\": {\"wait_ms\": 3000}}"])
        let duringID = try setup.submittedID(during)
        while await !setup.unwind(["status", duringID]).stdout.contains("commit   waiting"), Date() < waitDeadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await setup.unwind(["cancel", duringID, "--reason", "changed my mind"]).status == 0)
        let failDeadline = Date().addingTimeInterval(30)
        var stopped = await setup.unwind(["status", duringID])
        while !stopped.stdout.contains("state       failed"), Date() < failDeadline {
            try await Task.sleep(for: .milliseconds(100))
            stopped = await setup.unwind(["status", duringID])
        }
        #expect(stopped.stdout.contains("state       failed") && stopped.stdout.contains("next: unwind resume"), "\(stopped.stdout)")
        #expect(!stopped.stdout.contains("unwind skip"), "\(stopped.stdout)")
    }

    @Test func planAndAcknowledgements() async throws {
        let setup = try Setup()
        let plan = await setup.unwindOffline(["plan", "planned", "--set", "fee=12.5"])
        #expect(plan.status == 0, "\(plan.combined)")
        #expect(plan.stdout.contains("acknowledgement NEEDED: --accept test-fee"))
        #expect(plan.stdout.contains("12.50"))
        await #expect(setup.unwindOffline(["plan", "planned", "--set", "fee=12.5", "--check"]).status == 4)
        let planJSON = try await #require(try setup.json(setup.unwindOffline(["plan", "planned", "--set", "fee=1", "--output", "json"])) as? [String: Any])
        #expect((planJSON["acknowledgements"] as? [[String: Any]])?.first?["flag"] as? String == "test-fee")

        let refused = await setup.unwind(["submit", "planned", "--set", "fee=12.5"])
        #expect(refused.status == 4, "\(refused.combined)")
        #expect(refused.stderr.contains("--accept test-fee"))
        #expect(refused.stderr.contains("nothing was submitted"))
        await #expect(setup.unwind(["list", "--output", "json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")

        let accepted = await setup.unwind(["submit", "planned", "--set", "fee=12.5", "--accept", "test-fee", "--wait"])
        #expect(accepted.status == 0, "\(accepted.combined)")
        let id = try setup.submittedID(accepted)
        let status = try await #require(try setup.json(setup.unwind(["status", id, "--output", "json"])) as? [String: Any])
        let input = (status["workflow"] as? [String: Any])?["input"] as? [String: Any]
        #expect(input?["accept"] as? [String] == ["test-fee"])
        await #expect(setup.unwind(["submit", "planned"]).status == 0, "no fee, nothing to acknowledge")

        // A plan asking for an acknowledgement of a workflow that has nowhere to put it: the refusal says how to
        // fix the definition, since no --accept can help.
        try Setup.planned.replacingOccurrences(of: "name: planned", with: "name: closed")
            .replacingOccurrences(of: "  accept: {type: array, default: []}\n", with: "")
            .write(toFile: setup.workflows + "/closed.yaml", atomically: true, encoding: .utf8)
        let closed = await setup.unwind(["submit", "closed", "--set", "fee=3"])
        #expect(closed.status == 4, "\(closed.combined)")
        #expect(closed.stderr.contains("declares no 'accept' input, so no acknowledgement can be given to it: add `accept: {type: array, default: []}`"), "\(closed.stderr)")
    }

    /// `list` says there is another page only when there is one, in the table and (on standard error) beside JSON:
    /// `--output json` used to stop at a page silently, and a full last page promised a page that was empty.
    @Test func listSaysWhenAnotherPageExists() async throws {
        let setup = try Setup()
        for account in ["p1", "p2", "p3"] { await #expect(setup.unwind(["submit", "saga", "--set", "account=\(account)"]).status == 0) }
        let partial = await setup.unwind(["list", "--limit", "2"])
        #expect(partial.stdout.contains("(more: --page 2)"), "\(partial.combined)")
        let whole = await setup.unwind(["list", "--limit", "3"])
        #expect(!whole.stdout.contains("more:"), "\(whole.combined)")
        let json = await setup.unwind(["list", "--limit", "2", "--output", "json"])
        #expect(json.stderr.contains("note: more workflows match: --page 2"), "\(json.combined)")
        #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.count == 2, "\(json.stdout)")
        let last = await setup.unwind(["list", "--limit", "2", "--page", "2", "--output", "json"])
        #expect(!last.stderr.contains("more"), "\(last.combined)")
    }

    /// A workflow sent to a queue no worker serves waits forever: `status` shows the queue and says how to serve it.
    @Test func statusSaysWhenNoWorkerServesTheQueue() async throws {
        let setup = try Setup()
        let submitted = await setup.unwind(["submit", "saga", "--set", "account=q1", "--queue", "lonely"])
        let id = try #require(submitted.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, "\(submitted.combined)")
        let status = await setup.unwind(["status", id])
        #expect(status.stdout.contains("queue       lonely"), "\(status.stdout)")
        #expect(status.stdout.contains("note: no live worker serves queue 'lonely'; start one with: unwind worker --queues lonely"), "\(status.stdout)")
    }

    @Test func fleetWithGoodDuplicateAndMalformedRows() async throws {
        let setup = try Setup()
        let file = setup.workflows + "/fleet.csv"
        try """
            account,label.owner
            acme,alice
            globex,bob
            acme,alice
            Bad Name,carol
            "initech,dave
            """.write(toFile: file, atomically: true, encoding: .utf8)
        // A bad or repeated row stops the whole file, each named, with nothing submitted.
        let refused = await setup.unwind(["submit", "saga", "--fleet", file])
        #expect(refused.status == 64, "\(refused.combined)")
        #expect(refused.stdout.split(separator: "\n").map(String.init) == [
            "line 4\tinvalid\tthe same input as line 2; remove the repeated row",
            "line 5\tinvalid\t'account': value \"Bad Name\" does not match pattern ^[a-z0-9-]+$",
            "line 6\tinvalid\ta quoted field is never closed",
        ], "\(refused.stdout)")
        #expect(refused.stderr.contains("3 invalid row(s)") && refused.stderr.contains("--skip-invalid"), "\(refused.stderr)")
        let nothing = await setup.unwind(["list", "--output", "json"])
        #expect(!nothing.stdout.contains("\"id\""), "nothing was submitted: \(nothing.stdout)")

        let first = await setup.unwind(["submit", "saga", "--fleet", file, "--skip-invalid"])
        #expect(first.status == 1, "a malformed row makes the exit non-zero: \(first.combined)")
        let lines = first.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("line 2\tsubmitted\t"))
        #expect(lines[1].hasPrefix("line 3\tsubmitted\t"))
        #expect(lines[2].hasPrefix("line 4\tinvalid\tthe same input as line 2"), "the repeated row is not submitted twice")
        #expect(lines[3].hasPrefix("line 5\tinvalid\t'account'"))
        #expect(lines[4] == "line 6\tinvalid\ta quoted field is never closed")
        #expect(lines.last == "2 submitted, 0 already existed, 0 refused, 3 invalid")

        let again = await setup.unwind(["submit", "saga", "--fleet", file, "--output", "json", "--skip-invalid"])
        let results = again.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(results.filter { $0["result"] as? String == "submitted" }.isEmpty, "re-running the file submits nothing twice")
        #expect(results.filter { $0["result"] as? String == "exists" }.count == 2)

        // Blanks around cells, as a hand-typed CSV has them, are not part of the values; a quoted cell keeps its
        // text exactly, and blanks may surround its quotes.
        let spaced = setup.workflows + "/spaced.csv"
        try "account , label.owner\n  hooli2 ,\teve \n \"initech2\" , \"dave, jr\"\n".write(toFile: spaced, atomically: true, encoding: .utf8)
        let spacedRun = await setup.unwind(["submit", "saga", "--fleet", spaced])
        #expect(spacedRun.status == 0, "\(spacedRun.combined)")
        #expect(spacedRun.stdout.contains("line 2\tsubmitted") && spacedRun.stdout.contains("line 3\tsubmitted"), "\(spacedRun.stdout)")
        let eve = await setup.unwind(["list", "--label", "owner=eve", "--output", "json"])
        #expect((eve.stdout.components(separatedBy: "\"id\"").count - 1) == 1, "\(eve.combined)")
        let dave = await setup.unwind(["list", "--label", "owner=dave, jr", "--output", "json"])
        #expect((dave.stdout.components(separatedBy: "\"id\"").count - 1) == 1, "\(dave.combined)")

        let jsonl = setup.workflows + "/fleet.jsonl"
        try "{\"account\": \"hooli\", \"_labels\": {\"owner\": \"erin\"}}\n[1,2]\n{\"account\": 7}\n".write(toFile: jsonl, atomically: true, encoding: .utf8)
        let mixed = await setup.unwind(["submit", "saga", "--fleet", jsonl, "--skip-invalid"])
        #expect(mixed.stdout.contains("line 1\tsubmitted"))
        #expect(mixed.stdout.contains("line 2\tinvalid\tnot a JSON object"))
        #expect(mixed.stdout.contains("line 3\tinvalid\t'account'"))

        // --label applies to every row, like --set; a row's own label wins.
        let labelled = setup.workflows + "/labelled.jsonl"
        try "{\"account\": \"umbrella\"}\n{\"account\": \"wayne\", \"_labels\": {\"team\": \"own\"}}\n".write(toFile: labelled, atomically: true, encoding: .utf8)
        let withLabels = await setup.unwind(["submit", "saga", "--fleet", labelled, "--label", "team=fleet", "--label", "ticket=OPS-9"])
        #expect(withLabels.status == 0, "\(withLabels.combined)")
        let team = await setup.unwind(["list", "--label", "team=fleet", "--output", "json"])
        #expect((team.stdout.components(separatedBy: "\"id\"").count - 1) == 1, "the other row's own team label wins: \(team.combined)")
        let ticket = await setup.unwind(["list", "--label", "ticket=OPS-9", "--output", "json"])
        #expect((ticket.stdout.components(separatedBy: "\"id\"").count - 1) == 2, "both rows carry the shared label: \(ticket.combined)")
        let own = await setup.unwind(["list", "--label", "team=own", "--output", "json"])
        #expect((own.stdout.components(separatedBy: "\"id\"").count - 1) == 1, "the row's own label wins: \(own.combined)")
    }

    /// Batches of 500 rows go to the database two at a time, with every row reported once, in file order. Two rows
    /// with one concurrency key, in batches that would run at once, are caught before either is stored: the later
    /// one is invalid (with --skip-invalid, the rest go on).
    @Test func aConcurrencyKeyTakenByTheOtherLaneIsRefusedNotAnError() async throws {
        let setup = try Setup()
        let file = setup.workflows + "/lanes.jsonl"
        var rows: [String] = []
        for line in 1...1200 {
            switch line {
            case 3: rows.append(#"{"account": "dup", "test": {"prepare": {"wait_ms": 600000}}}"#)
            case 900: rows.append(#"{"account": "dup", "test": {"prepare": {"wait_ms": 600001}}}"#)
            default: rows.append(#"{"account": "acct-\#(line)"}"#)
            }
        }
        try (rows.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let result = await setup.unwind(["submit", "saga", "--fleet", file, "--skip-invalid"])
        #expect(result.status == 1, "an invalid row makes the exit non-zero: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.last == "1199 submitted, 0 already existed, 0 refused, 1 invalid", "\(result.combined.suffix(600))")
        let numbers = lines.dropLast().compactMap { Int($0.split(separator: "\t").first?.dropFirst("line ".count) ?? "") }
        #expect(numbers == Array(1...1200), "every row reported once, in file order; got \(numbers.count) rows; \(result.stderr)")
        let duplicates = lines.filter { $0.hasPrefix("line 3\t") || $0.hasPrefix("line 900\t") }
        #expect(duplicates.filter { $0.contains("\tsubmitted\t") }.count == 1)
        #expect(duplicates.filter { $0.contains("\tinvalid\tshares the concurrency key 'account:dup' with line 3") }.count == 1, "\(duplicates)")
    }

    @Test func badInputGetsAClearErrorAndTheRightExitCode() async throws {
        let setup = try Setup()
        func expectError(_ arguments: [String], status: Int32, mentions text: String) async {
            let result = await setup.unwind(arguments)
            #expect(result.status == status, "\(arguments): \(result.combined)")
            #expect(result.stderr.contains(text), "\(arguments): \(result.stderr)")
            #expect(!result.combined.contains("Fatal error"))
            #expect(result.stderr.split(separator: "\n").count <= 4, "\(result.stderr)")
        }
        await expectError(["status", "0000abcd"], status: 3, mentions: "no workflow with ID '0000abcd'")
        await expectError(["status", "not-a-uuid!"], status: 64, mentions: "is not a workflow ID")
        await expectError(["submit", "no-such-workflow"], status: 3, mentions: "unknown workflow 'no-such-workflow'; known workflows: planned, saga")
        await expectError(["submit", "saga", "--set", "account=NOT OK"], status: 64, mentions: "'account'")
        await expectError(["submit", "saga"], status: 64, mentions: "account")
        await expectError(["submit", "saga", "--set", "account=x", "--set", "extra=1"], status: 64, mentions: "extra")
        await expectError(["submit", "saga", "--set", "novalue"], status: 64, mentions: "expected key=value")
        // A flag repeated with one key is refused, not last-one-wins.
        await expectError(["submit", "saga", "--set", "account=x", "--set", "account=y"], status: 64, mentions: "--set account is given twice")
        await expectError(["submit", "saga", "--set", "account=x", "--label", "team=red", "--label", "team=blue"], status: 64,
                          mentions: "--label team is given twice ('red' and 'blue')")
        await expectError(["list", "--label", "team=red", "--label", "team=blue"], status: 64, mentions: "--label team is given twice")
        await expectError(["submit", "saga", "--set", "account=x", "--not-before", "tomorrow"], status: 64, mentions: "is not a time")
        // Impossible fields used to roll over (February 30th ran on March 2nd, at once).
        await expectError(["submit", "saga", "--set", "account=x", "--not-before", "2026-02-30T00:00:00Z"], status: 64, mentions: "is not a real date and time")
        await expectError(["submit", "saga", "--set", "account=x", "--not-before", "2026-12-31T23:59:60+08:00"], status: 64, mentions: "is not a real date and time")
        await expectError(["submit", "saga", "--set", "account=x", "--not-before", "+0s"], status: 64, mentions: "is not a delay; use days, hours")
        // The message's own example, +1d, used to be refused; a delay of days, and more than 30 days, is taken.
        await expectError(["submit", "saga", "--set", "account=x", "--not-before", "+3651d"], status: 64, mentions: "at most 3650 days")
        for delay in ["+1d", "+40d12h"] {
            let later = await setup.unwind(["submit", "saga", "--set", "account=later\(delay.count)", "--not-before", delay])
            #expect(later.status == 0, "\(later.combined)")
        }
        await expectError(["list", "--state", "sideways"], status: 64, mentions: "sideways")
        await expectError(["resume", "0000abcd"], status: 64, mentions: "--reason")

        // A held concurrency key is refused with exit 4, naming the holder.
        let first = await setup.unwind(["submit", "saga", "--set", "account=zeta", "--set", "test={\"finish\": {\"wait_ms\": 600000}}"])
        let holder = try setup.submittedID(first)
        await expectError(["submit", "saga", "--set", "account=zeta"], status: 4, mentions: holder)

        // An ambiguous prefix lists the matches.
        var ids: [String] = []
        for index in 0..<40 {
            await ids.append(try setup.submittedID(setup.unwind(["submit", "saga", "--set", "account=a\(index)"])))
        }
        let byPrefix = Dictionary(grouping: ids) { String($0.prefix(4)) }
        if let (prefix, matches) = byPrefix.first(where: { $0.value.count > 1 }) {
            let result = await setup.unwind(["status", prefix])
            #expect(result.status == 64)
            for match in matches { #expect(result.stderr.contains(match)) }
        }
    }

    @Test func helpHasExamplesAndCompletionScriptsAreGenerated() async {
        for command in ["submit", "status", "list", "history", "resume", "cancel", "skip", "worker", "workers", "plan", "graph", "migrate", "doctor"] {
            let help = await runUnwind([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Example"), "\(command) --help has examples")
        }
        let bash = await runUnwind(["--generate-completion-script", "bash"])
        #expect(bash.status == 0)
        #expect(bash.stdout.contains("submit"))
    }
}
