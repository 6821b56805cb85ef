import Foundation
import Postgres
import Testing
import UnwindCore
import UnwindEngine
import UnwindStore
import UnwindTesting

/// Real `unwind worker` processes with `--metrics-port`: the counters move, the probes answer, JSON logs parse,
/// and the drain under the service group still hands leases back.
@Suite("Worker observability", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct WorkerObservabilityTests {
    /// A step whose attempt ends just as the heartbeat extends the leases is no longer running, so its lease is
    /// not extended; that is not a lost lease. Long chains of instant steps under a short lease (a heartbeat
    /// every second) made one healthy worker report a dozen.
    @Test func stepsThatEndDuringAHeartbeatAreNotCountedAsLostLeases() async throws {
        let engine = try EngineHarness()
        let steps = (0..<300).map { "  - {id: s\($0), action: test.noop}" }.joined(separator: "\n")
        let definition = try engine.definition("name: longchain\nsteps:\n" + steps + "\n")
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--metrics-port", "0", "--lease", "3s"])
        let port = try await worker.metricsPort()
        for _ in 0..<4 {
            let id = try engine.submit(definition)
            try await engine.waitFor(id, in: ["succeeded"], timeout: 120)
        }
        let after = try await worker.scrape(port: port)
        #expect(after.value("unwind_leases_expired_total") == 0)
        worker.signal(SIGTERM)
        _ = try await worker.waitForExit()
        let log = worker.log
        #expect(!log.contains("lease lost"), "\(log.split(separator: "\n").filter { $0.contains("lease lost") }.prefix(3))")
    }

    @Test func stepCountersAndHistogramsMoveWhenAWorkflowRuns() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--metrics-port", "0"])
        let port = try await worker.metricsPort()
        let before = try await worker.scrape(port: port)
        // Always there, at zero, before any work: the unlabeled metrics and the sampled gauges.
        for name in ["unwind_leases_expired_total", "unwind_steps_rescued_total", "unwind_claim_duration_seconds_count"] {
            #expect(before.has(name), "\(name) is exported from the start")
        }

        // `finish` fails once with a retryable error, then succeeds: 6 attempts over 5 steps.
        let id = try engine.submit(definition, input: script(["finish": ["fail": "transient", "times": 1]]))
        try await engine.waitFor(id, in: ["succeeded"], timeout: 60)
        let steps = ["inventory", "prepare", "reserve", "commit", "finish"]
        // Counters are updated just after the result is written: poll briefly rather than assume.
        var after = try await worker.scrape(port: port)
        try await eventually("the finish step to be counted as completed") {
            after = try await worker.scrape(port: port)
            return after.value("unwind_steps_completed_total", ["step": "finish"]) == 1
        }

        func delta(_ name: String, _ labels: [String: String]) -> Double {
            after.value(name, labels) - before.value(name, labels)
        }
        for step in steps {
            let labels = ["workflow": "saga", "step": step, "phase": "forward"]
            let attempts: Double = step == "finish" ? 2 : 1
            #expect(delta("unwind_steps_started_total", labels) == attempts, "started \(step)")
            #expect(delta("unwind_steps_completed_total", labels) == 1, "completed \(step)")
            #expect(delta("unwind_step_duration_seconds_count", labels) == attempts, "duration samples of \(step)")
            #expect(after.value("unwind_step_duration_seconds_bucket", labels.merging(["le": "+Inf"]) { $1 }) == attempts)
        }
        #expect(delta("unwind_steps_failed_total", ["workflow": "saga", "step": "finish", "phase": "forward", "retryable": "true"]) == 1)
        #expect(delta("unwind_steps_failed_total", ["retryable": "false"]) == 0)
        #expect(delta("unwind_steps_retried_total", ["workflow": "saga", "step": "finish"]) == 1)
        #expect(delta("unwind_compensations_total", [:]) == 0)
        #expect(after.value("unwind_step_duration_seconds_sum", ["step": "finish"]) > 0)
        #expect(after.value("unwind_claim_duration_seconds_count") >= 6, "at least one claim per attempt")
        #expect(after.value("unwind_leases_expired_total") == 0)

        // The sampled gauges: workflows by state (every state present), pool usage, the queue.
        try await eventually("the sampler to see the succeeded workflow", timeout: 20) {
            after = try await worker.scrape(port: port)
            return after.value("unwind_workflows", ["state": "succeeded"]) == 1
        }
        for state in WorkflowState.allCases {
            #expect(after.contains { $0.name == "unwind_workflows" && $0.labels["state"] == state.rawValue }, "state \(state)")
        }
        #expect(after.value("unwind_ready_steps") == 0)
        #expect(after.has("unwind_oldest_ready_step_age_seconds"))
        #expect(after.contains { $0.name == "unwind_db_pool_connections" && $0.labels["state"] == "in_use" })
        // Lent-out versus idle depends on whether a claim was in flight when the sampler looked; their sum (the
        // connections the pool has open) does not: the workflow ran, so the pool has opened at least one.
        #expect(after.value("unwind_db_pool_connections", ["state": "in_use"])
            + after.value("unwind_db_pool_connections", ["state": "idle"]) >= 1)

        // The exposition carries HELP and TYPE lines from the catalogue.
        let text = try await HTTPProbe.fetch(port: port, path: "/metrics")
        #expect(text.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(text.body.contains("# TYPE unwind_steps_started_total counter"))
        #expect(text.body.contains("# TYPE unwind_step_duration_seconds histogram"))
        #expect(text.body.contains("# HELP unwind_steps_retried_total Failed attempts that will be retried"))

        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
    }

    @Test func aCompensationIsCounted() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--metrics-port", "0"])
        let port = try await worker.metricsPort()
        // `reserve` fails for good before the pivot: prepare is compensated.
        let id = try engine.submit(definition, input: script(["reserve": ["fail": "permanent"]]))
        try await engine.waitFor(id, in: ["compensated"], timeout: 60)
        var samples = try await worker.scrape(port: port)
        try await eventually("the compensation to be counted") {
            samples = try await worker.scrape(port: port)
            return samples.value("unwind_compensations_total", ["workflow": "saga", "step": "prepare"]) == 1
        }
        #expect(samples.value("unwind_steps_failed_total", ["step": "reserve", "retryable": "false"]) == 1)
        #expect(samples.value("unwind_steps_retried_total", ["step": "reserve"]) == 0)
        #expect(samples.value("unwind_steps_started_total", ["step": "prepare", "phase": "compensate"]) == 1)
        #expect(samples.value("unwind_steps_completed_total", ["step": "prepare", "phase": "compensate"]) == 1)
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
    }

    @Test func probesAnswerAndReadinessFollowsTheDatabase() async throws {
        let cluster = try await offThePool { try PrivateCluster() }
        try await offThePool {
            _ = try Migrator.embedded().migrate(connection: try PostgresConnection(configuration: try PostgresConfiguration(cluster.url)))
        }
        let worker = try WorkerProcess(databaseURL: cluster.url, arguments: ["--metrics-port", "0", "--poll-interval", "500ms"])
        let port = try await worker.metricsPort()

        #expect(try await HTTPProbe.fetch(port: port, path: "/healthz").status == 200)
        let ready = try await HTTPProbe.fetch(port: port, path: "/readyz")
        #expect(ready.status == 200)
        #expect(ready.headers["content-type"] == "application/json")
        #expect(try JSONSerialization.jsonObject(with: Data(ready.body.utf8)) as? [String: String] == ["status": "ready"])
        #expect(try await HTTPProbe.fetch(port: port, path: "/nothing-here").status == 404)

        try await offThePool { try cluster.stop() }
        var reply = try await HTTPProbe.fetch(port: port, path: "/readyz")
        try await eventually("/readyz to report the database down") {
            reply = try await HTTPProbe.fetch(port: port, path: "/readyz")
            return reply.status == 503
        }
        let reason = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: String])
        #expect(reason["status"] == "unavailable")
        #expect(reason["reason"]?.hasPrefix("database unreachable") == true, "\(reply.body)")
        #expect(reply.body.contains("unwind-test") == false, "no password in the reason")
        #expect(!reply.body.contains("127.0.0.1") && !reply.body.contains("user"), "no host or role either: \(reply.body)")
        #expect(try await HTTPProbe.fetch(port: port, path: "/healthz").status == 200, "alive while the database is down")
        #expect(try await HTTPProbe.fetch(port: port, path: "/metrics").status == 200)

        try await offThePool { try cluster.start() }
        try await eventually("/readyz to recover", timeout: 60) {
            try await HTTPProbe.fetch(port: port, path: "/readyz").status == 200
        }
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
    }

    /// Started next to a migration job (Kubernetes, compose), a worker waits for it instead of exiting into a
    /// restart loop; once running, a newer migration (the first step of an upgrade) does not take it out of
    /// service before its replacement is there.
    @Test func aWorkerWaitsForMigrationsAndStaysReadyWhenANewerOneLands() async throws {
        let database = try await TestDatabase.create()
        let worker = try WorkerProcess(databaseURL: database.url, arguments: ["--metrics-port", "0"])
        defer { worker.signal(SIGKILL) }
        try await eventually("the worker to say it waits for migrations") { worker.log.contains("waiting for migrations before starting") }
        #expect(kill(worker.pid, 0) == 0, "still running: \(worker.log)")
        #expect(!worker.log.contains("serving /metrics"), "not serving probes before the schema is current")

        let migrate = await runUnwind(["migrate", "--database-url", database.ownerURL])
        #expect(migrate.status == 0, "\(migrate.combined)")
        let port = try await worker.metricsPort()
        #expect(try await HTTPProbe.fetch(port: port, path: "/readyz").status == 200)

        try await offThePool {
            _ = try database.connect().query(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'from_the_future', 'x')", name: "newer_migration")
        }
        try await eventually("the worker to notice the newer migration", timeout: 30) {
            _ = try await HTTPProbe.fetch(port: port, path: "/readyz")
            return worker.log.contains("migrated by a newer version of Unwind")
        }
        #expect(try await HTTPProbe.fetch(port: port, path: "/readyz").status == 200, "still ready: \(worker.log)")
        // A process starting now refuses the newer schema, as a misconfiguration (exit 5).
        let list = await runUnwind(["list", "--database-url", database.url])
        #expect(list.status == 5, "\(list.combined)")
        #expect(list.stderr.contains("9999_from_the_future"), "\(list.combined)")
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
    }

    @Test func jsonLogLinesParseAndCarryTheStepContext() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let worker = try WorkerProcess(
            databaseURL: engine.database.url,
            arguments: ["--log-format", "json", "--worker-id", "json-worker-1", "--metrics-port", "0"])
        _ = try await worker.metricsPort()
        let id = try engine.submit(definition, input: script(["finish": ["fail": "transient", "times": 1]]))
        try await engine.waitFor(id, in: ["succeeded"], timeout: 60)
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")

        let lines = worker.log.split(separator: "\n").map(String.init)
        #expect(lines.count >= 4, "\(worker.log)")
        var objects: [[String: Any]] = []
        for line in lines {
            let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(parsed != nil, "not a JSON object: \(line)")
            if let parsed { objects.append(parsed) }
        }
        for object in objects {
            for key in ["ts", "level", "label", "message", "source"] {
                #expect(object[key] is String, "\(key) missing in \(object)")
            }
            #expect(object["worker.id"] as? String == "json-worker-1", "every line of a worker names it: \(object)")
        }
        let failed = try #require(objects.first { $0["message"] as? String == "attempt failed" })
        #expect(failed["workflow.id"] as? String == id.uuidString.lowercased())
        #expect(failed["step.id"] as? String == "finish")
        #expect(failed["step.attempt"] as? String == "1")
        #expect(failed["worker.id"] as? String == "json-worker-1")
        #expect(failed["level"] as? String == "info")
        #expect(failed["retryable"] as? String == "true")
        #expect(objects.contains { $0["message"] as? String == "worker started" && $0["worker.id"] as? String == "json-worker-1" })
        #expect(objects.contains { $0["message"] as? String == "worker stopped" })
    }

    @Test func badLogFormatIsAUsageError() async {
        let result = await runUnwind(["worker", "--log-format", "yaml", "--database-url", "postgres://127.0.0.1:1/none"])
        #expect(result.status == 64, "\(result.combined)")
        #expect(result.combined.contains("--log-format: unknown log format 'yaml'; use text or json"), "\(result.combined)")
    }

    @Test func aTakenMetricsPortStopsTheWorkerWithAReadableError() async throws {
        let engine = try EngineHarness()
        let first = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--metrics-port", "0"])
        let port = try await first.metricsPort()
        let second = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--metrics-port", "\(port)"])
        #expect(try await second.waitForExit(timeout: 30) == 64, "\(second.log)")
        #expect(second.log.contains("error: cannot serve /metrics on 127.0.0.1:\(port):"), "\(second.log)")
        #expect(second.log.contains("choose another --metrics-port"))
        // It never registered: `unwind workers` does not list a worker that never ran.
        #expect(try engine.store.workers().map(\.state) == ["running"], "only the first worker is listed")
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
    }

    @Test func sigtermUnderTheServiceGroupStillEndsUnfinishedAttempts() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAMLWithLongAttempts)
        let id = try engine.submit(definition, input: script(["prepare": ["sleep_ms": sleepsUntilStopped, "sleep_times": 1]]))
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--grace", "300ms", "--metrics-port", "0"])
        let port = try await worker.metricsPort()
        try await engine.waitUntil("prepare to start") {
            try engine.events(id).contains { $0.kind == "attempt_started" && $0.stepID == "prepare" }
        }
        let started = Date()
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
        #expect(Date().timeIntervalSince(started) < 60, "the drain is bounded by the grace period, not the half-hour step")
        let prepare = try #require(try engine.store.steps(of: id).first { $0.stepID == "prepare" })
        #expect(prepare.state == "ready")
        #expect(prepare.attempt == 1, "the stopped attempt counts: it may have changed something")
        #expect(try engine.events(id).contains { $0.kind == "attempt_failed" && $0.details?["code"]?.stringValue == "worker_stopped" })
        #expect(try engine.store.workers().first?.state == "stopped")
        #expect(worker.log.contains("grace period over; ending the unfinished attempts as stopped without an outcome"))
        // The listener is gone with the process.
        await #expect(throws: (any Error).self) { try await HTTPProbe.fetch(port: port, path: "/healthz", timeoutSeconds: 2) }
    }

    @Test func aSecondSignalExitsAtOnce() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAMLWithLongAttempts)
        let id = try engine.submit(definition, input: script(["prepare": ["sleep_ms": sleepsUntilStopped, "sleep_times": 1]]))
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--grace", "60s"])
        try await engine.waitUntil("prepare to start") {
            try engine.events(id).contains { $0.kind == "attempt_started" && $0.stepID == "prepare" }
        }
        worker.signal(SIGTERM)
        try await eventually("the worker to start draining") { worker.log.contains("stopping: finishing in-flight steps") }
        let second = Date()
        worker.signal(SIGINT)
        #expect(try await worker.waitForExit(timeout: 20) == 1, "\(worker.log)")
        #expect(Date().timeIntervalSince(second) < 15, "not the 60 s grace period")
        #expect(worker.log.contains("second signal: exiting now"))
    }
}
