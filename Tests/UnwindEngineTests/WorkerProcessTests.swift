import Foundation
import Synchronization
import Testing
import UnwindCore
import UnwindEngine
import UnwindStore
import UnwindTesting

/// Real `unwind worker` processes against the test database: killed, stopped, and run side by side.
@Suite("Worker processes", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct WorkerProcessTests {
    /// Two live processes under one worker ID overwrote each other's row; a restarted process (the same ID once the
    /// first stopped, or gone from this host) still takes its ID back.
    @Test func aWorkerIDInUseByALiveWorkerIsRefusedAndFreeOnceItStopped() async throws {
        let engine = try EngineHarness()
        let first = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--worker-id", "dup-1"])
        try await engine.waitUntil(timeout: 60, "the first worker to register") { try engine.store.workers().contains { $0.id == "dup-1" } }
        let second = await runUnwind(["worker", "--worker-id", "dup-1", "--database-url", engine.database.url])
        #expect(second.status == 64, "\(second.combined)")
        #expect(second.stderr.contains("worker ID 'dup-1' is in use by a running worker"), "\(second.combined)")
        #expect(try engine.store.workers().first { $0.id == "dup-1" }?.state == "running", "the first worker's row is untouched")

        first.signal(SIGKILL)  // gone from this host: its row still says running
        _ = try await first.waitForExit()
        let heir = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--worker-id", "dup-1"])
        try await engine.waitUntil(timeout: 60, "the heir to take the ID") {
            try engine.store.workers().first { $0.id == "dup-1" }.map { $0.pid == Int(heir.pid) } ?? false
        }
        heir.signal(SIGTERM)
        #expect(try await heir.waitForExit() == 0, "\(heir.log)")
    }

    @Test func aStepOfAKilledWorkerIsFinishedByAnotherAfterItsLeaseExpires() async throws {
        let engine = try EngineHarness()
        // The first attempt of `reserve` outlasts anything a loaded machine can make the test wait for, so the
        // worker is always killed in the middle of it.
        let definition = try engine.definition(teardownLikeYAMLWithLongAttempts)
        let id = try engine.submit(definition, input: script(["reserve": ["sleep_ms": sleepsUntilStopped, "sleep_times": 1]]))
        let victim = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--lease", "2s"])
        try await engine.waitUntil("reserve to start on the first worker") {
            try engine.events(id).contains { $0.kind == "attempt_started" && $0.stepID == "reserve" }
        }
        let victimID = try #require(try engine.events(id).first { $0.kind == "attempt_started" && $0.stepID == "reserve" }?.workerID)
        // The heir is up and registered before the kill, so the time measured below is the lease's and the
        // claim's, not how long a process takes to start on a loaded machine.
        let heir = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--lease", "2s"])
        try await engine.waitUntil(timeout: 60, "the heir to register") { try engine.store.workers().count == 2 }
        let beforeKill = try engine.events(id).filter { $0.stepID == "reserve" }
        try #require(beforeKill.map(\.kind) == ["attempt_started"], "the victim's attempt must still be running: \(beforeKill.map(\.kind))")
        victim.signal(SIGKILL)
        #expect(try await victim.waitForExit() == 128 + SIGKILL)
        let killedAt = Date()

        try await engine.waitFor(id, in: ["succeeded"], timeout: 60)
        let events = try engine.events(id).filter { $0.stepID == "reserve" }
        let starts = events.filter { $0.kind == "attempt_started" }
        #expect(starts.count == 2)
        #expect(starts.last?.workerID != victimID)
        #expect(events.contains { $0.kind == "lease_expired" })
        // Recovered after the 2 s lease (plus back-off), well before the 30 s default lease would have allowed;
        // the margin is for a loaded machine, the figure itself is measured by `unwind bench`.
        let restarted = try #require(starts.last?.at)
        #expect(restarted.timeIntervalSince(killedAt) < 25)
        _ = heir
    }

    @Test func sigtermDrainsRunningStepsAndExitsZero() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let finishing = try engine.submit(definition, input: script(["prepare": ["sleep_ms": 500]]))
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--grace", "10s"])
        try await engine.waitUntil("prepare to start") {
            try engine.events(finishing).contains { $0.kind == "attempt_started" && $0.stepID == "prepare" }
        }
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
        // The running attempt was allowed to finish; nothing new was claimed after the signal.
        let prepare = try #require(try engine.store.steps(of: finishing).first { $0.stepID == "prepare" })
        #expect(prepare.state == "succeeded")
        #expect(worker.log.contains("stopping: finishing in-flight steps"))
        #expect(worker.log.contains("worker stopped"))
        #expect(try engine.store.workers().first?.state == "stopped")
    }

    /// A worker that stopped heartbeating without stopping (SIGKILL, a lost host) is not listed as running.
    @Test func aWorkerWithoutHeartbeatsIsListedUnresponsive() throws {
        let engine = try EngineHarness()
        try engine.store.registerWorker(id: "gone-1", hostname: "h", pid: 1, concurrency: 4, queues: ["default"], version: "test", heartbeatSeconds: 10)
        try engine.store.registerWorker(id: "alive-1", hostname: "h", pid: 2, concurrency: 4, queues: ["default"], version: "test", heartbeatSeconds: 10)
        _ = try engine.database.connect().query("UPDATE workers SET heartbeat_at = now() - interval '3 minutes' WHERE id = 'gone-1'")
        // A worker whose heartbeat is recent but which holds a step past its lease (hung, or cut off from the
        // database mid-attempt) is unresponsive too: a live one renews its leases.
        try engine.store.registerWorker(id: "stuck-1", hostname: "h", pid: 3, concurrency: 4, queues: ["default"], version: "test", heartbeatSeconds: 10)
        let id = try engine.submit(try engine.definition(teardownLikeYAML))
        _ = try engine.database.connect().query(
            "UPDATE steps SET state = 'running', lease_owner = 'stuck-1', lease_expires_at = now() - interval '5 seconds' WHERE workflow_id = $1 AND step_id = 'inventory'",
            [id])
        // Three missed heartbeats of the worker's own period make it unresponsive (a worker killed while idle holds
        // no lease that would give it away); a long period is still capped at two minutes.
        try engine.store.registerWorker(id: "quick-1", hostname: "h", pid: 4, concurrency: 4, queues: ["default"], version: "test", heartbeatSeconds: 2)
        try engine.store.registerWorker(id: "quick-2", hostname: "h", pid: 5, concurrency: 4, queues: ["default"], version: "test", heartbeatSeconds: 2)
        try engine.store.registerWorker(id: "slow-1", hostname: "h", pid: 6, concurrency: 4, queues: ["default"], version: "test", heartbeatSeconds: 60)
        try engine.store.registerWorker(id: "slow-2", hostname: "h", pid: 7, concurrency: 4, queues: ["default"], version: "test", heartbeatSeconds: 60)
        _ = try engine.database.connect().query("UPDATE workers SET heartbeat_at = now() - interval '8 seconds' WHERE id = 'quick-1'")
        _ = try engine.database.connect().query("UPDATE workers SET heartbeat_at = now() - interval '4 seconds' WHERE id = 'quick-2'")
        _ = try engine.database.connect().query("UPDATE workers SET heartbeat_at = now() - interval '100 seconds' WHERE id = 'slow-1'")
        _ = try engine.database.connect().query("UPDATE workers SET heartbeat_at = now() - interval '130 seconds' WHERE id = 'slow-2'")
        let states = Dictionary(uniqueKeysWithValues: try engine.store.workers().map { ($0.id, $0.state) })
        #expect(states["gone-1"] == "unresponsive")
        #expect(states["stuck-1"] == "unresponsive")
        #expect(states["alive-1"] == "running")
        #expect(states["quick-1"] == "unresponsive")
        #expect(states["quick-2"] == "running")
        #expect(states["slow-1"] == "running")
        #expect(states["slow-2"] == "unresponsive")
        // A worker registered by the previous version, which recorded no period, keeps the two-minute limit.
        try engine.store.registerWorker(id: "legacy-1", hostname: "h", pid: 8, concurrency: 4, queues: ["default"], version: "old", heartbeatSeconds: 10)
        _ = try engine.database.connect().query("UPDATE workers SET heartbeat_seconds = NULL, heartbeat_at = now() - interval '8 seconds' WHERE id = 'legacy-1'")
        #expect(try engine.store.workers().first { $0.id == "legacy-1" }?.state == "running")
    }

    /// A worker killed while idle is shown unresponsive within three of its heartbeats, not after two minutes
    /// (and `status` then says no live worker serves its queue).
    @Test func anIdleWorkerKilledIsListedUnresponsiveWithinThreeHeartbeats() async throws {
        let engine = try EngineHarness()
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--lease", "3s", "--worker-id", "idle-1"])
        try await engine.waitUntil("the worker to register") { try engine.store.workers().contains { $0.id == "idle-1" && $0.state == "running" } }
        worker.signal(SIGKILL)
        _ = try await worker.waitForExit()
        let killedAt = ContinuousClock.now
        try await engine.waitUntil(timeout: 30, "the killed worker to be listed unresponsive") {
            try engine.store.workers().first { $0.id == "idle-1" }?.state == "unresponsive"
        }
        // Its heartbeat is every second (a third of the lease) and goes with the next maintenance pass: 3 × 1.5 s.
        #expect(ContinuousClock.now - killedAt < .seconds(20))
    }

    /// A worker frozen past the silence rule whose ID another process took over: when it resumes, it stops instead
    /// of running on under a row that describes the other process.
    @Test func aWorkerWhoseIDWasTakenOverStops() async throws {
        let engine = try EngineHarness()
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--lease", "3s", "--worker-id", "taken-1"])
        try await engine.waitUntil("the worker to register") { try engine.store.workers().contains { $0.id == "taken-1" && $0.state == "running" } }
        // What a takeover does to the row: it describes the new process now.
        _ = try engine.database.connect().query("UPDATE workers SET pid = 999999, hostname = 'elsewhere' WHERE id = 'taken-1'")
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
        #expect(worker.log.contains("taken over by another process"), "\(worker.log)")
        let row = try #require(try engine.store.workers().first { $0.id == "taken-1" })
        #expect(row.hostname == "elsewhere" && row.state != "stopped", "the new holder's row is left as it is")
    }

    /// An attempt still running when the grace period runs out may have sent its change: it ends as failed without an
    /// outcome (`worker_stopped`), counted, and is retried after the usual back-off. (It used to be handed back as if
    /// it had never run: a cancel then compensated as though nothing had changed, or it ran again after the cancel.)
    @Test func aStepThatOutlivesTheGracePeriodEndsItsAttemptWithoutAnOutcome() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAMLWithLongAttempts)
        let id = try engine.submit(definition, input: script(["prepare": ["sleep_ms": sleepsUntilStopped, "sleep_times": 1]]))
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--grace", "300ms"])
        try await engine.waitUntil("prepare to start") {
            try engine.events(id).contains { $0.kind == "attempt_started" && $0.stepID == "prepare" }
        }
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
        let prepare = try #require(try engine.store.steps(of: id).first { $0.stepID == "prepare" })
        #expect(prepare.state == "ready")
        #expect(prepare.attempt == 1, "the stopped attempt counts: it may have changed something")
        let failed = try #require(try engine.events(id).first { $0.kind == "attempt_failed" && $0.stepID == "prepare" })
        #expect(failed.details?["code"]?.stringValue == "worker_stopped", "\(String(describing: failed.details))")
        #expect(!(try engine.kinds(id).contains("lease_released")))
        // Another worker runs it again, as attempt 2, under a new fencing token.
        let next = try WorkerProcess(databaseURL: engine.database.url)
        try await engine.waitUntil("another worker to start prepare") {
            try engine.events(id).filter { $0.kind == "attempt_started" && $0.stepID == "prepare" }.count == 2
        }
        let starts = try engine.events(id).filter { $0.kind == "attempt_started" && $0.stepID == "prepare" }
        #expect(starts.map(\.attempt) == [1, 2])
        #expect(Set(starts.compactMap(\.fencingToken)).count == 2)
        next.signal(SIGKILL)
    }

    /// The pivot timed out and waits an hour for its retry when the cancel comes, in another transaction: what the
    /// timed-out attempt did is read back from the history, so the pivot counts as crossed and nothing is compensated
    /// (it used to be cancelled as if it had never run, and the workflow ended `cancelled`).
    @Test func aCancelWhileThePivotWaitsForItsRetryAfterATimeoutCountsAsCrossed() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML.replacingOccurrences(
            of: "  - {id: commit, action: test.noop, pivot: true}",
            with: "  - {id: commit, action: test.noop, pivot: true, timeout: 1s, retry: {max_attempts: 3, initial_interval: 1h, max_interval: 1h, jitter: none}}"))
        let id = try engine.submit(definition, input: script(["commit": ["sleep_ms": sleepsUntilStopped, "sleep_times": 1]]))
        let worker = try WorkerProcess(databaseURL: engine.database.url)
        try await engine.waitUntil("the pivot to time out") {
            try engine.events(id).contains { $0.kind == "attempt_failed" && $0.stepID == "commit" }
        }
        #expect(try engine.store.steps(of: id).first { $0.stepID == "commit" }?.state == "ready")
        try engine.store.perform(OperatorAction(.cancel(force: false), actor: "test", reason: "stop"), on: id)
        let workflow = try engine.store.workflow(id)
        let kinds = try engine.kinds(id)
        #expect(workflow.state == "failed" && workflow.pivotCrossed, "\(workflow.state): \(kinds)")
        #expect(!kinds.contains { $0.hasPrefix("compensation_attempt") }, "nothing compensated: \(kinds)")
        worker.signal(SIGKILL)
    }

    /// A compensation outliving the grace period is handed back uncounted (compensations are idempotent and run again
    /// anyway): counted, a rolling restart could spend its last attempt and leave the workflow compensation_failed.
    @Test func aCompensationThatOutlivesTheGracePeriodIsHandedBackUncounted() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAMLWithLongAttempts)
        let id = try engine.submit(definition, input: script([
            "reserve": ["fail": "permanent"], "reserve:compensate": ["sleep_ms": sleepsUntilStopped, "sleep_times": 1],
        ]))
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--grace", "300ms"])
        try await engine.waitUntil("the compensation of reserve to start") {
            try engine.events(id).contains { $0.stepID == "reserve" && $0.phase == "compensate" && $0.kind.hasSuffix("started") }
        }
        let before = try #require(try engine.store.steps(of: id).first { $0.stepID == "reserve" })
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
        let after = try #require(try engine.store.steps(of: id).first { $0.stepID == "reserve" })
        #expect(after.phase == "compensate" && after.state == "ready", "\(after.state)")
        #expect(after.attempt == before.attempt - 1, "the handed-back compensation attempt is not counted")
        #expect(try engine.events(id).contains { $0.kind == "lease_released" && $0.stepID == "reserve" })
        #expect(!(try engine.events(id).contains { $0.stepID == "reserve" && $0.details?["code"]?.stringValue == "worker_stopped" }))
    }

    /// A cancel waits for the running pivot; its worker is stopped (SIGTERM) before the pivot finishes. The pivot may
    /// have made its change: it is not run again after the cancel, and the workflow fails past its point of no return
    /// with nothing compensated. Before, the pivot was handed back, another worker ran it again after the cancel (an
    /// unsubscription ordered after the operator said stop), or the cancel compensated as if nothing had changed.
    @Test func aPivotWhoseWorkerStopsWhileACancelWaitsIsNotRunAgain() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAMLWithLongAttempts)
        let id = try engine.submit(definition, input: script(["commit": ["sleep_ms": sleepsUntilStopped, "sleep_times": 1]]))
        let worker = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--grace", "300ms"])
        try await engine.waitUntil("the pivot to start") {
            try engine.events(id).contains { $0.kind == "attempt_started" && $0.stepID == "commit" }
        }
        try engine.store.perform(OperatorAction(.cancel(force: false), actor: "test", reason: "stop"), on: id)
        #expect(try engine.store.workflow(id).state == "compensating")
        worker.signal(SIGTERM)
        #expect(try await worker.waitForExit() == 0, "\(worker.log)")
        let heir = try WorkerProcess(databaseURL: engine.database.url)
        try await engine.waitUntil("the workflow to end") { try engine.store.workflow(id).state == "failed" }
        let workflow = try engine.store.workflow(id)
        let kinds = try engine.kinds(id)
        #expect(workflow.pivotCrossed, "\(kinds)")
        #expect(try engine.events(id).filter { $0.kind == "attempt_started" && $0.stepID == "commit" }.count == 1, "not run again after the cancel")
        #expect(!kinds.contains { $0.hasPrefix("compensation_attempt") }, "nothing compensated: \(kinds)")
        heir.signal(SIGKILL)
    }

    @Test func twoWorkerProcessesOn200WorkflowsNeverRunAStepAttemptTwiceAtOnce() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition("""
            name: many
            inputs: {test: {type: object, default: {}}}
            defaults: {retry: {max_attempts: 5, initial_interval: 50ms, jitter: full}}
            steps:
              - {id: a, action: test.noop}
              - {id: b, action: test.noop, after: [a]}
              - {id: c, action: test.noop, after: [a]}
              - {id: d, action: test.noop, after: [b, c]}
            """)
        let first = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--concurrency", "8"])
        let second = try WorkerProcess(databaseURL: engine.database.url, arguments: ["--concurrency", "8"])
        var ids: [UUID] = []
        for index in 0..<200 {
            // Every tenth workflow has a transiently failing step, so retries interleave too.
            let input = index % 10 == 0 ? script(["b": ["fail": "transient", "times": 1]]) : [:]
            ids.append(try engine.submit(definition, input: input))
        }
        try await engine.waitUntil(timeout: 120, "all 200 workflows to succeed") {
            try engine.store.list(WorkflowFilter(state: "succeeded", limit: 1000)).count == 200
        }
        var workersSeen = Set<String>()
        for id in ids {
            let events = try engine.events(id)
            let starts = events.filter { $0.kind == "attempt_started" }
            // Each attempt (step, fencing token) was started exactly once, by exactly one worker …
            let attempts = starts.map { "\($0.stepID ?? "")#\($0.fencingToken ?? -1)" }
            #expect(Set(attempts).count == attempts.count)
            workersSeen.formUnion(starts.compactMap(\.workerID))
            // … and attempts of one step never overlap: each ends before the next starts.
            for step in ["a", "b", "c", "d"] {
                let ordered = events.filter { $0.stepID == step }.map(\.kind)
                var open = 0
                for kind in ordered {
                    if kind == "attempt_started" { open += 1; #expect(open == 1, "overlapping attempts of \(step) in \(id)") }
                    if kind == "step_succeeded" || kind == "attempt_failed" || kind == "step_failed" { open -= 1 }
                }
                #expect(open == 0)
            }
            #expect(try engine.store.steps(of: id).allSatisfy { $0.state == "succeeded" })
        }
        #expect(workersSeen.count == 2, "both workers took part")
        _ = (first, second)
    }
}
