import Foundation
import Logging
import Postgres
import Testing
import UnwindCore
import UnwindEngine
import UnwindStore
import UnwindTesting

/// Rows edited or damaged by hand: the workflow they belong to is set aside and named, and every other workflow the
/// worker handles with it goes on as if nothing happened.
@Suite("Damaged rows", .enabled(if: TestEnvironment.hasDatabase))
struct DamagedRowTests {
    /// JSON nested `depth` levels, as SQL: deeper than Unwind reads back (512), which PostgreSQL stores anyway.
    private static func deeplyNested(_ depth: Int) -> String {
        "(repeat('{\"a\":', \(depth)) || '1' || repeat('}', \(depth)))::jsonb"
    }

    /// Every workflow's first step running on a worker that died a minute ago.
    private static func expireEveryFirstStep(_ admin: PostgresConnection) throws {
        _ = try admin.query("""
            UPDATE steps SET state = 'running', attempt = 1, fencing_token = 1, lease_owner = 'gone',
                   lease_expires_at = now() - interval '1 minute'
            WHERE step_id = 'inventory'
            """)
    }

    /// Whether the first step's expired lease was put off by more than `interval` (an SQL interval).
    private static func firstStepPutOff(_ workflow: UUID, by interval: String, _ admin: PostgresConnection) throws -> Bool? {
        try admin.query(
            "SELECT lease_expires_at > now() + interval '\(interval)' AS later FROM steps WHERE workflow_id = $1 AND step_id = 'inventory'",
            [workflow]).rows.first?.decode("later", as: Bool.self)
    }

    @Test func aClaimedStepWhoseRowCannotBeReadIsPutOffAloneAndTheOthersRun() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let damaged = try engine.submit(definition)
        let healthy = try (0..<3).map { _ in try engine.submit(definition) }
        _ = try engine.database.connect().query("UPDATE workflows SET input = \(Self.deeplyNested(600)) WHERE id = $1", [damaged])
        engine.startWorker()
        for id in healthy {
            #expect(try await engine.waitFor(id, in: ["succeeded", "failed", "compensated"]).state == "succeeded")
        }
        try await engine.waitUntil("the damaged workflow's step to be handed back") {
            try engine.kinds(damaged).contains("lease_released")
        }
        let inventory = try #require(try engine.store.steps(of: damaged).first { $0.stepID == "inventory" })
        #expect(inventory.state == "ready")
        #expect(inventory.attempt == 0, "an attempt that never ran is not counted")
        #expect(inventory.dueAt > Date().addingTimeInterval(240), "put off, not claimed again at once: \(inventory.dueAt)")
        #expect(inventory.lastError?["code"] == "not_run_as_stored", "status shows why: \(inventory.lastError?.canonicalJSON ?? "-")")
        let released = try #require(try engine.events(damaged).first { $0.kind == "lease_released" })
        #expect(released.reason?.contains("not run as stored") == true, "\(released.reason ?? "-")")
        #expect(released.reason?.contains("input") == true, "names the column: \(released.reason ?? "-")")
        let state = try engine.database.connect().query("SELECT state FROM workflows WHERE id = $1", [damaged]).rows.first?.decode("state", as: String.self)
        #expect(state == "running")
        // It can still be looked at (status, the API): the input says it cannot be read, the rest is shown.
        let shown = try engine.store.workflow(damaged)
        #expect(shown.state == "running")
        #expect(shown.input["(unreadable)"]?.stringValue?.contains("column 'input' cannot be read") == true, "\(shown.input)")
    }

    /// A stored input edited into another shape than its definition declares (a string for a boolean, a list for
    /// the whole input) reached the actions, whose defaults for what they could not read may be destructive: the
    /// step is handed back, put off and named instead.
    @Test func aStoredInputThatNoLongerFitsItsDefinitionIsNotRun() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let retyped = try engine.submit(definition)
        let listed = try engine.submit(definition)
        let healthy = try engine.submit(definition)
        let admin = try engine.database.connect()
        _ = try admin.query(#"UPDATE workflows SET input = input || '{"sleep_ms": "false"}' WHERE id = $1"#, [retyped])
        _ = try admin.query(#"UPDATE workflows SET input = '["a"]' WHERE id = $1"#, [listed])
        engine.startWorker()
        #expect(try await engine.waitFor(healthy, in: ["succeeded", "failed", "compensated"]).state == "succeeded")
        for (id, problem) in [(retyped, "does not fit its definition: 'sleep_ms': expected int, got string"),
                              (listed, "stored input is not a JSON object")] {
            try await engine.waitUntil("the step to be handed back") { try engine.kinds(id).contains("lease_released") }
            let released = try #require(try engine.events(id).first { $0.kind == "lease_released" })
            #expect(released.reason?.contains(problem) == true, "\(released.reason ?? "-")")
            #expect(try !engine.kinds(id).contains("step_succeeded"), "nothing ran")
        }
    }

    /// A step's output damaged while its workflow's next step runs: the worker that finishes that step used to fail
    /// its whole batch on starting the one after (reading the outputs it may use), again on every try, holding up
    /// every other workflow's results with it until their leases ran out.
    @Test func anOutputDamagedWhileTheNextStepRunsSetsOnlyItsWorkflowAside() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let damaged = try engine.submit(definition, input: script(["prepare": ["sleep_ms": 1000]]))
        let healthy = try engine.submit(definition, input: script(["prepare": ["sleep_ms": 2500]]))
        // The inventory's output is damaged the moment `prepare` starts (in that transaction, after the worker read
        // what `prepare` needs): from then on, starting `reserve` reads it.
        let admin = try engine.database.connect()
        _ = try admin.query("""
            CREATE FUNCTION damage_inventory() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE steps SET output = \(Self.deeplyNested(600)) WHERE workflow_id = NEW.workflow_id AND step_id = 'inventory';
                RETURN NULL;
            END $$
            """)
        _ = try admin.query("""
            CREATE TRIGGER damage_inventory AFTER UPDATE ON steps FOR EACH ROW
                WHEN (NEW.workflow_id = '\(damaged.uuidString.lowercased())' AND NEW.step_id = 'prepare' AND NEW.state = 'running'
                      AND OLD.state <> 'running')
                EXECUTE FUNCTION damage_inventory();
            """)
        engine.startWorker(concurrency: 4)
        #expect(try await engine.waitFor(healthy, in: ["succeeded", "failed", "compensated"]).state == "succeeded")
        try await engine.waitUntil("the damaged workflow's next step to be handed back") {
            try engine.kinds(damaged).contains("lease_released")
        }
        // Read with SQL: the store refuses to show the damaged workflow's steps (their output cannot be read).
        func step(_ id: UUID, _ stepID: String) throws -> (state: String, attempt: Int, putOff: Bool) {
            let row = try #require(try admin.query(
                "SELECT state, attempt, due_at > now() + interval '4 minutes' AS put_off FROM steps WHERE workflow_id = $1 AND step_id = $2",
                [id, stepID]).rows.first)
            return (try row.decode("state"), try row.decode("attempt"), try row.decode("put_off"))
        }
        for id in [damaged, healthy] {
            #expect(try !engine.kinds(id).contains("lease_expired"), "no attempt was lost waiting for a batch to be written")
            let prepare = try step(id, "prepare")
            #expect(prepare.state == "succeeded" && prepare.attempt == 1, "\(prepare.state) after \(prepare.attempt) attempts")
        }
        let reserve = try step(damaged, "reserve")
        #expect(reserve.state == "ready" && reserve.attempt == 0, "not started: \(reserve.state), \(reserve.attempt) attempts")
        #expect(reserve.putOff, "put off, not claimed again at once")
        let released = try #require(try engine.events(damaged).first { $0.kind == "lease_released" })
        #expect(released.reason?.contains("not run as stored") == true, "\(released.reason ?? "-")")
        #expect(released.reason?.contains("inventory") == true, "names the step whose output is damaged: \(released.reason ?? "-")")
    }

    /// Any row of a batch's workflows that cannot be read (here a workflow's error, edited by hand) sets aside that
    /// workflow's results alone; the others are written, and the steps they make ready start.
    @Test func aBatchWithAnUnreadableWorkflowWritesTheOthers() throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let damaged = try engine.submit(definition)
        let healthy = try engine.submit(definition)
        let claimed = try engine.store.claim(queues: ["default"], limit: 4, workerID: "w1", leaseSeconds: 30)
        #expect(Set(claimed.map(\.workflowID)) == [damaged, healthy])
        _ = try engine.database.connect().query("UPDATE workflows SET error = \(Self.deeplyNested(600)) WHERE id = $1", [damaged])
        let results = claimed.sorted { $0.workflowID == damaged && $1.workflowID != damaged }.map { step in
            AttemptResult(workflowID: step.workflowID, stepID: step.stepID, fencingToken: step.fencingToken, outcome: .succeeded(output: nil))
        }
        let batch = try engine.store.complete(results, thenClaim: 4, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        guard batch.dispositions.count == 2, case .unwritable(let reason) = batch.dispositions[0] else {
            Issue.record("the damaged workflow's result is not set aside: \(batch.dispositions)")
            return
        }
        #expect(reason.contains("nested deeper than 512"), "says what cannot be read: \(reason)")
        #expect(batch.dispositions[1] == .applied)
        #expect(batch.claimed.map(\.workflowID) == [healthy] && batch.claimed.first?.stepID == "prepare",
                "the healthy workflow's next step starts: \(batch.claimed.map(\.stepID))")
        let inventory = try #require(try engine.store.steps(of: healthy).first { $0.stepID == "inventory" })
        #expect(inventory.state == "succeeded")
    }

    @Test func aWorkflowWhoseDefinitionCannotBeReadDoesNotStopTheRescueOfOthers() throws {
        let engine = try EngineHarness()
        let damaged = try engine.submit(try engine.definition(teardownLikeYAML.replacingOccurrences(of: "name: saga", with: "name: damaged")))
        let healthy = try engine.submit(try engine.definition(teardownLikeYAML))
        let orphaned = try engine.submit(try engine.definition(teardownLikeYAML))
        let admin = try engine.database.connect()
        // Both first steps were running on a worker that died; the damaged workflow's definition no longer decodes.
        try Self.expireEveryFirstStep(admin)
        _ = try admin.query("UPDATE workflow_definitions SET compiled = '{}' WHERE name = 'damaged'")
        // And one workflow's row deleted by hand, its steps left behind.
        _ = try admin.query("DELETE FROM workflows WHERE id = $1", [orphaned])
        // A store of its own: the harness's store has the definition cached from the submission.
        let store = WorkflowStore(pool: PostgresConnectionPool(configuration: engine.database.configuration, maximumConnections: 2),
                                  logger: Logger(label: "test.rescue"))
        #expect(try store.rescueExpiredLeases() == 1)
        let rescued = try #require(try engine.store.steps(of: healthy).first { $0.stepID == "inventory" })
        #expect(rescued.state == "ready", "the healthy workflow's lost attempt is retried")
        #expect(try Self.firstStepPutOff(damaged, by: "4 minutes", admin) == true, "the damaged one is looked at again later, not on every pass")
        #expect(try Self.firstStepPutOff(orphaned, by: "12 hours", admin) == true, "steps without a workflow are not found again on every pass")
        #expect(try store.rescueExpiredLeases() == 0)
    }

    /// A result that cannot be written (its workflow's rows damaged meanwhile) was dropped: the lease ran out, the
    /// step ran again and again, each success thrown away, and the workflow compensated work that had succeeded.
    /// It is kept, with its lease, and written once the row is mended: the step runs once.
    @Test func aResultThatCannotBeWrittenIsKeptUntilTheRowIsMended() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let id = try engine.submit(definition, input: script(["prepare": ["sleep_ms": 1500]]))
        let admin = try engine.database.connect()
        // The damage lands the moment `prepare` starts: its result is the first that cannot be written.
        _ = try admin.query("""
            CREATE FUNCTION damage_counter() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE steps SET completed_seq = 2147483647 WHERE workflow_id = NEW.workflow_id AND step_id = 'finish';
                RETURN NULL;
            END $$
            """)
        _ = try admin.query("""
            CREATE TRIGGER damage_counter AFTER UPDATE ON steps FOR EACH ROW
                WHEN (NEW.step_id = 'prepare' AND NEW.state = 'running' AND OLD.state <> 'running')
                EXECUTE FUNCTION damage_counter();
            """)
        let worker = engine.startWorker(unwritableRetry: .milliseconds(300))
        try await engine.waitUntil("the result to be kept") { worker.parkedResults == 1 }
        _ = try admin.query("UPDATE steps SET completed_seq = NULL WHERE workflow_id = $1 AND step_id = 'finish'", [id])
        #expect(try await engine.waitFor(id, in: ["succeeded", "failed", "compensated"]).state == "succeeded")
        #expect(try !engine.kinds(id).contains("lease_expired"), "the lease was held meanwhile")
        #expect(try engine.events(id).filter { $0.kind == "attempt_started" && $0.stepID == "prepare" }.count == 1, "prepare ran once")
        #expect(worker.parkedResults == 0)
    }

    /// Scheduled workflows come due together: one with a step row deleted kept every other from starting.
    @Test func aScheduledWorkflowThatCannotBeReadDoesNotKeepOthersFromStarting() throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let damaged = try engine.submit(definition, notBefore: Date().addingTimeInterval(3600))
        let healthy = try engine.submit(definition, notBefore: Date().addingTimeInterval(3600))
        let admin = try engine.database.connect()
        _ = try admin.query("DELETE FROM steps WHERE workflow_id = $1 AND step_id = 'finish'", [damaged])
        _ = try admin.query("UPDATE workflows SET not_before = now() - interval '1 second'")
        #expect(try engine.store.startDueScheduledWorkflows() == 1)
        #expect(try engine.store.workflow(healthy).state == "running")
        let putOff = try admin.query("SELECT not_before > now() + interval '4 minutes' AS later FROM workflows WHERE id = $1", [damaged])
        #expect(try putOff.rows.first?.decode("later", as: Bool.self) == true, "looked at again later, not on every pass")
        #expect(try engine.store.startDueScheduledWorkflows() == 0)
    }

    /// A batch of one unreadable workflow alone is set aside too (it was handed back to the worker as a failed write,
    /// which paused every other write and claim of that worker for up to four leases).
    @Test func aBatchOfOneUnreadableWorkflowIsSetAside() throws {
        let engine = try EngineHarness()
        let damaged = try engine.submit(try engine.definition(teardownLikeYAML))
        let claimed = try #require(try engine.store.claim(queues: ["default"], limit: 4, workerID: "w1", leaseSeconds: 30).first)
        _ = try engine.database.connect().query("UPDATE workflows SET error = \(Self.deeplyNested(600)) WHERE id = $1", [damaged])
        let batch = try engine.store.complete(
            [AttemptResult(workflowID: damaged, stepID: claimed.stepID, fencingToken: claimed.fencingToken, outcome: .succeeded(output: nil))],
            thenClaim: 4, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        guard case .unwritable? = batch.dispositions.first else {
            Issue.record("not set aside: \(batch.dispositions)")
            return
        }
        #expect(batch.claimed.isEmpty)
    }

    /// A counter edited to its type's maximum made every batch holding that workflow's result fail on the write
    /// (out of range), and with it every other workflow's results: that workflow alone is set aside now. A step row
    /// deleted by hand let its workflow succeed without the step (or wait for it for ever): set aside too, named.
    @Test(arguments: [
        ("UPDATE steps SET completed_seq = 2147483647 WHERE workflow_id = $1 AND step_id = 'finish'", "out of range"),
        ("DELETE FROM steps WHERE workflow_id = $1 AND step_id = 'finish'", "has no row for step(s) finish"),
    ])
    func aDamagedWorkflowIsSetAsideAlone(_ damage: String, _ problem: String) throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let damaged = try engine.submit(definition)
        let healthy = try engine.submit(definition)
        let claimed = try engine.store.claim(queues: ["default"], limit: 4, workerID: "w1", leaseSeconds: 30)
        _ = try engine.database.connect().query(damage, [damaged])
        let results = claimed.map { step in
            AttemptResult(workflowID: step.workflowID, stepID: step.stepID, fencingToken: step.fencingToken, outcome: .succeeded(output: nil))
        }
        let batch = try engine.store.complete(results, thenClaim: 4, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        for (step, disposition) in zip(claimed, batch.dispositions) {
            if step.workflowID == damaged {
                guard case .unwritable(let reason) = disposition else {
                    Issue.record("not set aside: \(disposition)")
                    continue
                }
                #expect(reason.contains(problem), "\(reason)")
            } else {
                #expect(disposition == .applied)
            }
        }
        #expect(batch.claimed.map(\.workflowID) == [healthy])
    }

    /// A live worker whose row was deleted by hand (clearing out stopped workers) stopped, saying its ID had been
    /// taken over, and exited 0, which systemd does not restart: it registers again and carries on.
    @Test func aWorkerWhoseRowWasDeletedRegistersAgain() async throws {
        let engine = try EngineHarness()
        let worker = engine.startWorker()
        let admin = try engine.database.connect()
        func rows() throws -> Int { try admin.query("SELECT count(*) AS n FROM workers").rows.first!.decode("n", as: Int.self) }
        try await engine.waitUntil("the worker to register") { try rows() == 1 }
        _ = try admin.query("DELETE FROM workers")
        try await engine.waitUntil("the worker to register again") { try rows() == 1 }
        let id = try engine.submit(try engine.definition(teardownLikeYAML))
        #expect(try await engine.waitFor(id, in: ["succeeded", "failed"]).state == "succeeded", "still working")
        #expect(worker.runningSteps == 0)
    }

    /// A step of a finished workflow set back to `ready` by hand ran again (after a forced cancel: cloud calls the
    /// operator had stopped): it is handed back and named instead.
    @Test func aReadyStepOfAFinishedWorkflowIsNotRun() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let done = try engine.submit(definition)
        engine.startWorker()
        #expect(try await engine.waitFor(done, in: ["succeeded", "failed"]).state == "succeeded")
        _ = try engine.database.connect().query(
            "UPDATE steps SET state = 'ready', due_at = now() WHERE workflow_id = $1 AND step_id = 'finish'", [done])
        _ = try engine.database.connect().query("SELECT pg_notify('unwind_ready', 'default')")
        try await engine.waitUntil("the step to be handed back") { try engine.kinds(done).contains("lease_released") }
        let released = try #require(try engine.events(done).first { $0.kind == "lease_released" })
        #expect(released.reason?.contains("its workflow has ended (succeeded)") == true, "\(released.reason ?? "-")")
        #expect(try engine.events(done).filter { $0.kind == "step_succeeded" && $0.stepID == "finish" }.count == 1, "not run again")
    }

    /// A running step whose lease end was removed by hand was never rescued: nothing ran it again, ever.
    @Test func aRunningStepWithoutALeaseEndIsRescued() throws {
        let engine = try EngineHarness()
        let id = try engine.submit(try engine.definition(teardownLikeYAML))
        let admin = try engine.database.connect()
        try Self.expireEveryFirstStep(admin)
        _ = try admin.query("UPDATE steps SET lease_expires_at = NULL WHERE workflow_id = $1 AND step_id = 'inventory'", [id])
        #expect(try engine.store.rescueExpiredLeases() == 1)
        let inventory = try #require(try engine.store.steps(of: id).first { $0.stepID == "inventory" })
        #expect(inventory.state == "ready", "retried as a lost attempt: \(inventory.state)")
        #expect(try engine.kinds(id).contains("lease_expired"))
    }

    /// A workflow row held locked (a frozen worker mid-transaction, an operator's psql session) used to make every
    /// worker's rescue wait behind it, heartbeats included, for as long as the lock was held.
    @Test(.timeLimit(.minutes(1))) func aWorkflowHeldLockedDoesNotHoldUpTheRescueOfOthers() throws {
        let engine = try EngineHarness()
        let held = try engine.submit(try engine.definition(teardownLikeYAML))
        let free = try engine.submit(try engine.definition(teardownLikeYAML))
        let admin = try engine.database.connect()
        try Self.expireEveryFirstStep(admin)
        let locker = try engine.database.connect()
        try locker.transaction { locker in
            _ = try locker.query("SELECT id FROM workflows WHERE id = $1 FOR UPDATE", [held])
            #expect(try engine.store.rescueExpiredLeases() == 1, "the free one is rescued at once; the held one waits for the next pass")
            #expect(try engine.store.steps(of: free).first { $0.stepID == "inventory" }?.state == "ready")
        }
        #expect(try engine.store.rescueExpiredLeases() == 1, "released, it is rescued on the next pass")
        #expect(try engine.store.steps(of: held).first { $0.stepID == "inventory" }?.state == "ready")
    }

    /// Every session bounds how long a frozen or vanished client can hold its locks.
    @Test func sessionsEndTransactionsLeftIdleByAClientThatIsGone() throws {
        let engine = try EngineHarness()
        let row = try engine.store.pool.withConnection { connection in
            try connection.query("SELECT current_setting('idle_in_transaction_session_timeout') AS idle").rows.first
        }
        #expect(try row?.decode("idle", as: String.self) == "1min")
    }

    /// A label edited by hand into a number: the listing shows it as JSON text instead of failing for every
    /// workflow on the page.
    @Test func aLabelEditedIntoANonStringDoesNotBreakTheListing() throws {
        let engine = try EngineHarness()
        let edited = try engine.submit(try engine.definition(teardownLikeYAML))
        let other = try engine.submit(try engine.definition(teardownLikeYAML))
        _ = try engine.database.connect().query(#"UPDATE workflows SET labels = '{"team": 5, "tags": ["a"]}' WHERE id = $1"#, [edited])
        let listed = try engine.store.list(WorkflowFilter())
        #expect(Set(listed.map(\.id)) == [edited, other])
        #expect(listed.first { $0.id == edited }?.labels == ["team": "5", "tags": #"["a"]"#])
        #expect(try engine.store.workflow(edited).labels["team"] == "5")
        // Labels that cannot be read at all, or are not an object, are shown as such; the rest is still listed.
        _ = try engine.database.connect().query(#"UPDATE workflows SET labels = '{"x": 1e400}' WHERE id = $1"#, [edited])
        _ = try engine.database.connect().query(#"UPDATE workflows SET labels = '[1, 2]' WHERE id = $1"#, [other])
        let again = try engine.store.list(WorkflowFilter())
        #expect(again.first { $0.id == edited }?.labels == ["(labels)": "cannot be read (edited by hand?)"])
        #expect(again.first { $0.id == other }?.labels == ["(labels)": "[1,2]"])
    }

    @Test func counterValuesNoWorkflowReachesAreRefusedByTheDatabase() throws {
        let engine = try EngineHarness()
        let id = try engine.submit(try engine.definition(teardownLikeYAML))
        let admin = try engine.database.connect()
        for assignment in ["fencing_token = 9223372036854775807", "attempt = 2147483647", "attempt_base = -1"] {
            #expect(throws: PostgresError.self, "\(assignment)") {
                try admin.query("UPDATE steps SET \(assignment) WHERE workflow_id = $1 AND step_id = 'inventory'", [id])
            }
        }
    }

    @Test func aStoredDefinitionWithImpossibleDurationsIsRefusedNotTrappedOn() throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let compiled = try JSONValue(parsing: String(decoding: try JSONEncoder().encode(definition), as: UTF8.self))
        guard case .object(var root) = compiled, case .array(var steps) = root["steps"], case .object(var first) = steps[0],
              case .object(let retry) = first["retry"] else {
            Issue.record("unexpected compiled shape")
            return
        }
        for (key, value) in [("timeout", 1e300), ("timeout", -1.0)] {
            var step = first
            step[key] = .number(value)
            steps[0] = .object(step)
            root["steps"] = .array(steps)
            #expect(throws: DecodingError.self, "\(key) \(value)") {
                try JSONDecoder().decode(WorkflowDefinition.self, from: Data(JSONValue.object(root).canonicalJSON.utf8))
            }
        }
        for (key, value) in [("initialInterval", 1e15), ("maxInterval", 1e300), ("multiplier", 1e308), ("maxAttempts", 1e12)] {
            var changed = retry
            changed[key] = .number(value)
            first["retry"] = .object(changed)
            steps[0] = .object(first)
            root["steps"] = .array(steps)
            #expect(throws: DecodingError.self, "\(key) \(value)") {
                try JSONDecoder().decode(WorkflowDefinition.self, from: Data(JSONValue.object(root).canonicalJSON.utf8))
            }
        }
    }
}
