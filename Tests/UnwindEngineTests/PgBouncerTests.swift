import Foundation
import Testing
import UnwindCore
import UnwindStore
import UnwindTesting

@Suite("Behind PgBouncer", .enabled(if: TestEnvironment.hasDatabase))
struct PgBouncerTests {
    /// A real PgBouncer in transaction pooling mode in front of the test server.
    final class Bouncer: Sendable {
        let directory: String
        let port: Int

        init() throws {
            directory = try TestEnvironment.makeScratchDirectory("pgbouncer")
            port = Int.random(in: 20_000...40_000)
            let postgresPort = URLComponents(string: TestEnvironment.databaseURL ?? "")?.port ?? 5432
            let started = runCommand(TestEnvironment.repositoryRoot + "/scripts/pg-test-cluster.sh",
                                     ["pgbouncer-start", directory, String(port), String(postgresPort)])
            guard started.status == 0 else { throw TestFailure(description: "pgbouncer did not start: \(started.combined)") }
        }

        func url(database: String) -> String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }

        deinit {
            _ = runCommand(TestEnvironment.repositoryRoot + "/scripts/pg-test-cluster.sh", ["pgbouncer-stop", directory])
        }
    }

    @Test func listenSilentlyFailingIsDetectedAndTheWorkerPolls() async throws {
        let engine = try EngineHarness()
        let bouncer = try Bouncer()
        let worker = try WorkerProcess(
            databaseURL: bouncer.url(database: engine.database.name), arguments: ["--poll-interval", "200ms"],
            environment: ["UNWIND_DB_PREPARED_STATEMENTS": "off"])
        let definition = try engine.definition(teardownLikeYAML)
        let ids = try (0..<3).map { _ in try engine.submit(definition) }
        for id in ids { try await engine.waitFor(id, in: ["succeeded"], timeout: 60) }
        try await engine.waitUntil("the warning to be logged") { worker.log.contains("falling back to polling") }
        #expect(worker.log.contains("LISTEN/NOTIFY does not work on this connection"))
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
    }

    @Test func aDirectListenConnectionKeepsInstantWakeups() async throws {
        let engine = try EngineHarness()
        let bouncer = try Bouncer()
        let worker = try WorkerProcess(
            databaseURL: bouncer.url(database: engine.database.name), arguments: ["--poll-interval", "30s"],
            environment: ["UNWIND_DB_PREPARED_STATEMENTS": "off", "UNWIND_LISTEN_DATABASE_URL": engine.database.url])
        let definition = try engine.definition(teardownLikeYAML)
        // Generous: under a full parallel test run the worker starting behind PgBouncer has taken over 30 s.
        try await engine.waitUntil(timeout: 90, "the worker to register") { try !engine.store.workers().isEmpty }
        // With a 30 s poll interval, only a working LISTEN gets this done quickly.
        let id = try engine.submit(definition)
        try await engine.waitFor(id, in: ["succeeded"], timeout: 20)
        #expect(!worker.log.contains("falling back to polling"))
        worker.signal(SIGTERM)
        _ = try await worker.waitForExit()
    }
}
