import Foundation
import Postgres
import Testing
import UnwindCore
import UnwindEngine
import UnwindStore
import UnwindTesting

@Suite("Database outages", .enabled(if: TestEnvironment.hasDatabase))
struct DatabaseOutageTests {
    @Test func aWorkerRidesOutAThirtySecondOutageAndFinishesItsStep() async throws {
        // `reserve` is in flight when the server goes away; its result must be written once the server is back.
        let (cluster, store, id, worker) = try await Self.workerRunningReserve(["sleep_ms": 2000])
        try cluster.stop()
        // The outage the issue asks for: at least 30 seconds with the server down.
        try await Task.sleep(for: .seconds(30))
        #expect(kill(worker.pid, 0) == 0, "the worker is still running during the outage")
        try cluster.start()

        let state = try await Self.stateOnceSucceeded(id, store: store)
        #expect(state == "succeeded", "\(worker.log)")
        #expect(try store.events(of: id).filter { $0.kind == "attempt_started" && $0.stepID == "reserve" }.count == 1,
                "the step was not lost or run again")
        #expect(kill(worker.pid, 0) == 0, "no crash")
        // Whichever loop of the worker reconnects first says so; that may be just after the step's result.
        let logDeadline = Date().addingTimeInterval(20)
        while !worker.log.contains("database reachable again"), Date() < logDeadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = worker.log
        #expect(log.contains("database unavailable; waiting and retrying with back-off"))
        #expect(log.contains("database reachable again"), "\(log)")
        // Logged once per outage, not in a loop.
        #expect(log.components(separatedBy: "database unavailable").count - 1 <= 3, "\(log)")
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0)
    }

    /// The database goes away while a step's action runs and comes back later: the checkpoint the action saves
    /// meanwhile waits for it (the lease is long) instead of failing the attempt, which would lose what the
    /// attempt did (in a teardown, an order ID) and run the step again.
    @Test func aCheckpointSavedDuringAnOutageWaitsForTheDatabase() async throws {
        let (cluster, store, id, worker) = try await Self.workerRunningReserve(["sleep_ms": 1000, "checkpoint": true])
        try cluster.stop()
        // Down for longer than the step sleeps: its checkpoint is asked for while the server is away.
        try await Task.sleep(for: .seconds(4))
        try cluster.start()

        let state = try await Self.stateOnceSucceeded(id, store: store)
        #expect(state == "succeeded", "\(worker.log)")
        let events = try store.events(of: id).filter { $0.stepID == "reserve" }
        #expect(events.filter { $0.kind == "attempt_started" }.count == 1, "one attempt: \(events.map(\.kind))")
        #expect(events.contains { $0.kind == "checkpoint" })
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0)
    }

    /// A private cluster with a teardown-like workflow whose `reserve` step runs with `reserve` as its script, and a
    /// worker process (long lease) that has started that step.
    /// `submit --wait` follows the workflow through a database restart instead of exiting 5 while the workflow goes
    /// on in the workers.
    @Test func submitAndWaitRidesOutADatabaseRestart() async throws {
        let cluster = try PrivateCluster()
        try Migrator.embedded().migrate(connection: try PostgresConnection(configuration: try PostgresConfiguration(cluster.url)))
        let workflows = try TestEnvironment.makeScratchDirectory("wait-restart")
        try teardownLikeYAML.write(toFile: workflows + "/saga.yaml", atomically: true, encoding: .utf8)
        let worker = try WorkerProcess(databaseURL: cluster.url, arguments: ["--lease", "5m", "--poll-interval", "500ms"])
        // `reserve` parks in a durable wait of ten minutes: the workflow cannot end during the test, however slowly a
        // loaded machine stops and starts the server.
        let submit = try UnwindProcess(command: "submit", databaseURL: cluster.url, arguments: [
            "saga", "--workflows-dir", workflows, "--set", #"test={"reserve": {"wait_ms": 600000}}"#, "--wait",
        ])
        func until(_ text: String) async throws {
            let deadline = Date().addingTimeInterval(60)
            while !submit.log.contains(text), Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try await until("reserve (waiting")
        #expect(submit.log.contains("reserve (waiting"), "\(submit.log)")
        try cluster.stop()
        try await until("lost the database")
        try cluster.start()
        try await until("reachable again")
        #expect(submit.log.contains("lost the database") && submit.log.contains("reachable again"), "\(submit.log)")
        #expect(kill(submit.pid, 0) == 0, "still following the workflow: \(submit.log)")
        submit.signal(SIGKILL)
        worker.signal(SIGTERM)
        _ = try await worker.waitForExit()
    }

    static func workerRunningReserve(_ reserve: JSONValue) async throws -> (PrivateCluster, WorkflowStore, UUID, WorkerProcess) {
        let cluster = try PrivateCluster()
        let configuration = try PostgresConfiguration(cluster.url)
        try Migrator.embedded().migrate(connection: try PostgresConnection(configuration: configuration))
        let store = WorkflowStore(pool: PostgresConnectionPool(configuration: configuration, maximumConnections: 2))
        var registry = ActionRegistry()
        TestActions.register(into: &registry)
        let definition = try WorkflowDefinitionLoader.load(yaml: teardownLikeYAML, file: "test", knownActions: registry.names)
        let id = try WorkflowSubmitter(store: store).submit(definition, input: script(["reserve": reserve]), submittedBy: "test").workflowID
        let worker = try WorkerProcess(databaseURL: cluster.url, arguments: ["--lease", "5m", "--poll-interval", "500ms"])
        let deadline = Date().addingTimeInterval(30)
        while try !store.events(of: id).contains(where: { $0.kind == "attempt_started" && $0.stepID == "reserve" }), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return (cluster, store, id, worker)
    }

    /// The workflow's state once it succeeded, or the last one seen after a minute.
    static func stateOnceSucceeded(_ id: UUID, store: WorkflowStore) async throws -> String {
        let deadline = Date().addingTimeInterval(60)
        var state = ""
        while Date() < deadline {
            state = (try? store.workflow(id).state) ?? "unreachable"
            if state == "succeeded" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return state
    }
}
