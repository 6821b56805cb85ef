import Foundation
import Postgres
import Testing
import UnwindCore
import UnwindEngine
import UnwindStore
import UnwindTesting

/// Faults inside the engine's own transactions: they are the store's problem, never a step's.
@Suite("Faults in store transactions", .enabled(if: TestEnvironment.hasDatabase))
struct StoreFaultTests {
    /// Installs a trigger that runs `body` (PL/pgSQL) when a `step_succeeded` event is written, i.e. inside the
    /// transaction that records a step's completion. `nextval('fault_counter')` counts the firings; a sequence
    /// because it is not rolled back with the transaction the fault aborts.
    private func installFault(_ database: TestDatabase, _ body: String) throws {
        let admin = try database.connect()
        try admin.executeScript("""
            CREATE SEQUENCE fault_counter;
            CREATE FUNCTION inject_fault() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
            DECLARE n bigint := nextval('fault_counter');
            BEGIN
                \(body)
                RETURN NEW;
            END $$;
            CREATE TRIGGER inject_fault AFTER INSERT ON events FOR EACH ROW
                WHEN (NEW.kind = 'step_succeeded') EXECUTE FUNCTION inject_fault();
            """, name: "install_fault")
    }

    private func firings(_ database: TestDatabase) throws -> Int {
        try database.connect().query("SELECT last_value AS n FROM fault_counter").rows.first!.decode("n", as: Int.self)
    }

    @Test func deadlocksAndSerializationFailuresAreRetriedNotCountedAsStepFailures() async throws {
        let engine = try EngineHarness()
        // The first two completions deadlock, the next two fail serialization; later ones go through.
        try installFault(engine.database, """
            IF n <= 2 THEN RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01'; END IF;
            IF n <= 4 THEN RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001'; END IF;
            """)
        engine.startWorker()
        let id = try engine.submit(try engine.definition(teardownLikeYAML))
        let workflow = try await engine.waitFor(id, in: ["succeeded", "failed", "compensated"])
        #expect(workflow.state == "succeeded")
        let kinds = try engine.kinds(id)
        #expect(!kinds.contains("attempt_failed") && !kinds.contains("step_failed"), "\(kinds)")
        #expect(kinds.filter { $0 == "attempt_started" }.count == 5, "each of the five steps ran exactly once: \(kinds)")
        #expect(try firings(engine.database) >= 5, "the faults fired")
    }

    @Test func aBackendTerminatedMidTransactionUnderAWorkerProcess() async throws {
        let engine = try EngineHarness()
        // The first completion's backend terminates itself inside its transaction (as `pg_terminate_backend` from
        // an administrator, or a crashed backend, would): the worker's connection drops mid-transaction. Doing it
        // from inside the transaction, rather than by polling `pg_stat_activity` from the test, makes the fault
        // independent of when the test's own task gets to run on a loaded machine.
        try installFault(engine.database, """
            IF n = 1 THEN
                PERFORM pg_terminate_backend(pg_backend_pid());
                PERFORM pg_sleep(5);  -- the termination is taken at the next interrupt check, inside this sleep
            END IF;
            """)
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--lease", "1m", "--poll-interval", "500ms"])
        let id = try engine.submit(try engine.definition(teardownLikeYAML))

        let workflow = try await engine.waitFor(id, in: ["succeeded", "failed", "compensated"])
        #expect(workflow.state == "succeeded", "\(worker.log)")
        #expect(try firings(engine.database) == 6, "five completions, the first written twice: its first transaction was cut off")
        let kinds = try engine.kinds(id)
        #expect(kinds.filter { $0 == "attempt_started" }.count == 5, "no step ran twice and none was lost: \(kinds)")
        #expect(!kinds.contains("attempt_failed"), "\(kinds)")
        #expect(kill(worker.pid, 0) == 0, "the worker did not crash")
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0)
    }
}
