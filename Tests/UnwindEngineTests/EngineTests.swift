import Foundation
import Testing
import UnwindCore
import UnwindEngine
import UnwindStore
import UnwindTesting

@Suite("Saga engine on PostgreSQL", .enabled(if: TestEnvironment.hasDatabase))
struct EngineTests {
    @Test func aLinearWorkflowCompletes() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let id = try engine.submit(try engine.definition(teardownLikeYAML))
        let workflow = try await engine.waitFor(id, in: ["succeeded"])
        #expect(workflow.pivotCrossed)
        let steps = try engine.store.steps(of: id)
        #expect(steps.map(\.state) == Array(repeating: "succeeded", count: 5))
        #expect(steps.allSatisfy { $0.attempt == 1 })
        #expect(workflow.output?["step"] == "finish")
        let kinds = try engine.kinds(id)
        #expect(kinds.first == "workflow_submitted")
        #expect(kinds.last == "workflow_succeeded")
        #expect(kinds.filter { $0 == "attempt_started" }.count == 5)
    }

    /// `--priority` orders workflows' steps (plus each step's own priority within its definition): submitted in one
    /// order with no worker running, they run highest first. The workflow's priority used to be stored and never
    /// read, so they ran in submission order.
    @Test func aWorkflowsPriorityDecidesHowSoonItsStepsRun() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition("""
            name: single
            steps:
              - {id: only, action: test.noop}
            """)
        let priorities = [0, 5, -5, 1_000_000, 1]
        var ids: [Int: UUID] = [:]
        for priority in priorities {
            ids[priority] = try WorkflowSubmitter(store: engine.store).submit(definition, input: [:], submittedBy: "test", priority: priority).workflowID
        }
        let batch = try engine.store.submitBatch(definition: definition, requests: [
            SubmitRequest(definition: definition, input: [:], labels: [:], submittedBy: "test", priority: 3, queue: "default"),
        ])
        guard case .created(let batched) = batch.first else { Issue.record("\(batch)"); return }
        ids[3] = batched
        engine.startWorker(concurrency: 1)
        var started: [(Int, Date)] = []
        for (priority, id) in ids {
            _ = try await engine.waitFor(id, in: ["succeeded"])
            started.append((priority, try #require(try engine.store.steps(of: id).first?.startedAt)))
        }
        #expect(started.sorted { $0.1 < $1.1 }.map(\.0) == [1_000_000, 5, 3, 1, 0, -5])
    }

    @Test func independentDAGStepsRunConcurrently() async throws {
        let engine = try EngineHarness()
        engine.startWorker(concurrency: 4)
        let definition = try engine.definition("""
            name: dag
            inputs: {test: {type: object, default: {}}}
            steps:
              - {id: root, action: test.noop}
              - {id: left, action: test.noop, after: [root]}
              - {id: right, action: test.noop, after: [root]}
              - {id: join, action: test.noop, after: [left, right]}
            """)
        let id = try engine.submit(definition, input: script(["left": ["sleep_ms": 400], "right": ["sleep_ms": 400]]))
        try await engine.waitFor(id, in: ["succeeded"])
        let events = try engine.events(id)
        func at(_ kind: String, _ step: String) -> Date? { events.first { $0.kind == kind && $0.stepID == step }?.at }
        let leftStart = try #require(at("attempt_started", "left")), rightStart = try #require(at("attempt_started", "right"))
        let leftEnd = try #require(at("step_succeeded", "left")), rightEnd = try #require(at("step_succeeded", "right"))
        #expect(leftStart < rightEnd && rightStart < leftEnd, "the two branches overlapped in time")
        let joinStart = try #require(at("attempt_started", "join"))
        #expect(joinStart >= max(leftEnd, rightEnd), "join waits for both branches")
    }

    @Test func aTransientErrorIsRetriedWithBackoffThenSucceeds() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let id = try engine.submit(try engine.definition(teardownLikeYAML), input: script(["prepare": ["fail": "transient", "times": 2]]))
        try await engine.waitFor(id, in: ["succeeded"])
        let events = try engine.events(id).filter { $0.stepID == "prepare" }
        let starts = events.filter { $0.kind == "attempt_started" }.map(\.at)
        #expect(starts.count == 3)
        #expect(events.filter { $0.kind == "attempt_failed" }.count == 2)
        // Back-off 100ms then 200ms (no jitter): each retry starts no earlier than its delay.
        #expect(starts[1].timeIntervalSince(starts[0]) >= 0.1)
        #expect(starts[2].timeIntervalSince(starts[1]) >= 0.2)
        let failed = try #require(events.first { $0.kind == "attempt_failed" })
        #expect(failed.details?["code"] == "TEST.TRANSIENT")
        #expect(failed.details?["retry_at"] != nil)
    }

    @Test func aPermanentErrorBeforeThePivotCompensatesInReverseOrder() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let id = try engine.submit(try engine.definition(teardownLikeYAML), input: script(["commit": ["fail": "permanent"]]))
        let workflow = try await engine.waitFor(id, in: ["compensated"])
        #expect(workflow.error?["step"] == "commit")
        #expect(workflow.error?["code"] == "TEST.PERMANENT")
        let compensated = try engine.events(id).filter { $0.kind == "step_compensated" }.compactMap(\.stepID)
        #expect(compensated == ["reserve", "prepare"])
        let steps = Dictionary(uniqueKeysWithValues: try engine.store.steps(of: id).map { ($0.stepID, $0.state) })
        #expect(steps == ["inventory": "succeeded", "prepare": "compensated", "reserve": "compensated", "commit": "failed", "finish": "cancelled"])
    }

    @Test func aFailureAfterThePivotEndsFailedAndResumeCompletesIt() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let broken = TestEnvironment.workDirectory + "/broken-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: broken, contents: Data()))
        let id = try engine.submit(try engine.definition(teardownLikeYAML),
                                   input: script(["finish": ["fail": "permanent", "while_file_exists": .string(broken)]]))
        let failed = try await engine.waitFor(id, in: ["failed"])
        #expect(failed.error?["step"] == "finish")
        #expect(try engine.store.steps(of: id).filter { $0.state == "compensated" }.isEmpty, "nothing is compensated after the pivot")

        // Resuming before the cause is fixed fails again, with the attempt history kept.
        try FileManager.default.removeItem(atPath: broken)
        try engine.store.perform(OperatorAction(.resume(fromStep: nil), actor: "alice", reason: "ticket 42 fixed"), on: id)
        try await engine.waitFor(id, in: ["succeeded"])
        let resume = try #require(try engine.events(id).first { $0.kind == "resume_requested" })
        #expect(resume.actor == "alice")
        #expect(resume.reason == "ticket 42 fixed")
        #expect(try engine.events(id).filter { $0.kind == "attempt_started" && $0.stepID == "finish" }.count == 2)
    }

    @Test func aFailingCompensationEndsCompensationFailed() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let id = try engine.submit(try engine.definition(teardownLikeYAML), input: script([
            "commit": ["fail": "permanent"], "reserve:compensate": ["fail": "permanent"],
        ]))
        let workflow = try await engine.waitFor(id, in: ["compensation_failed"])
        #expect(workflow.error?["step"] == "reserve")
        let steps = Dictionary(uniqueKeysWithValues: try engine.store.steps(of: id).map { ($0.stepID, "\($0.state)/\($0.phase)") })
        #expect(steps["reserve"] == "failed/compensate")
        #expect(steps["prepare"] == "succeeded/forward", "the chain stops at the failed compensation")
        #expect(throws: StoreError.self) {
            try engine.store.perform(OperatorAction(.cancel(force: false), actor: "bob", reason: "x"), on: id)
        }
    }

    @Test func cancelBeforeThePivotCompensatesAndAfterItIsRefusedUnlessForced() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let definition = try engine.definition(teardownLikeYAML)
        let early = try engine.submit(definition, input: script(["reserve": ["wait_ms": 60_000]]))
        try await engine.waitUntil("reserve to park in a durable wait") {
            try engine.store.steps(of: early).first { $0.stepID == "reserve" }?.state == "waiting"
        }
        try engine.store.perform(OperatorAction(.cancel(force: false), actor: "carol", reason: "wrong account"), on: early)
        try await engine.waitFor(early, in: ["cancelled"])
        #expect(try engine.events(early).filter { $0.kind == "step_compensated" }.compactMap(\.stepID) == ["reserve", "prepare"])

        let late = try engine.submit(definition, input: script(["finish": ["wait_ms": 60_000]]))
        try await engine.waitUntil("finish to park") {
            try engine.store.steps(of: late).first { $0.stepID == "finish" }?.state == "waiting"
        }
        let refusal = try #require(throws: StoreError.self) {
            try engine.store.perform(OperatorAction(.cancel(force: false), actor: "carol", reason: "x"), on: late)
        }
        #expect(refusal.description.contains("past its point of no return"))
        #expect(try engine.store.workflow(late).state == "running")
        try engine.store.perform(OperatorAction(.cancel(force: true), actor: "carol", reason: "doing the rest by hand"), on: late)
        #expect(try engine.store.workflow(late).state == "cancelled")
        #expect(try engine.store.steps(of: late).filter { $0.state == "compensated" }.isEmpty)
    }

    @Test func skipMarksAFailedStepDoneAndTheWorkflowGoesOn() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let id = try engine.submit(try engine.definition(teardownLikeYAML), input: script(["finish": ["fail": "permanent"]]))
        try await engine.waitFor(id, in: ["failed"])
        try engine.store.perform(OperatorAction(.skip(step: "finish"), actor: "dan", reason: "done in the console"), on: id)
        try await engine.waitFor(id, in: ["succeeded"])
        #expect(try engine.store.steps(of: id).last?.state == "skipped")
    }

    @Test func aDurableWaitFreesTheWorkerAndResumesWithItsCheckpoint() async throws {
        let engine = try EngineHarness()
        engine.startWorker(concurrency: 1)
        let definition = try engine.definition(teardownLikeYAML)
        let waiting = try engine.submit(definition, input: script(["prepare": ["wait_ms": 600_000]]))
        try await engine.waitUntil("prepare to park in a durable wait") {
            try engine.store.steps(of: waiting).first { $0.stepID == "prepare" }?.state == "waiting"
        }
        // With one slot, another workflow runs to the end while the first is parked.
        let other = try engine.submit(definition)
        try await engine.waitFor(other, in: ["succeeded"])
        #expect(try engine.store.workflow(waiting).state == "running")
        // Advance the clock for the parked step: the worker wakes it up and it completes from its checkpoint.
        try engine.database.connect().query(
            "UPDATE steps SET due_at = now() WHERE workflow_id = $1 AND step_id = 'prepare'", [waiting], name: "advance")
        try await engine.waitFor(waiting, in: ["succeeded"])
        let prepare = try #require(try engine.store.steps(of: waiting).first { $0.stepID == "prepare" })
        #expect(prepare.attempt == 1, "a durable wait does not consume an attempt")
        #expect(prepare.checkpoint?["waited"] == true)
        #expect(try engine.kinds(waiting).contains("attempt_resumed"))
    }

    @Test func aScheduledWorkflowStartsAtItsTimeAndCanBeCancelledBefore() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let definition = try engine.definition(teardownLikeYAML)
        let startTime = Date().addingTimeInterval(1)
        let soon = try engine.submit(definition, notBefore: startTime)
        let later = try engine.submit(definition, notBefore: Date().addingTimeInterval(3600))
        #expect(try engine.store.workflow(soon).state == "scheduled")
        let done = try await engine.waitFor(soon, in: ["succeeded"])
        // Against the requested time, not created_at: on a loaded machine the insert itself can come late.
        // (PostgreSQL keeps microseconds; the millisecond allows for the rounding.)
        #expect(try #require(done.startedAt) >= startTime.addingTimeInterval(-0.001))
        try engine.store.perform(OperatorAction(.cancel(force: false), actor: "erin", reason: "not needed"), on: later)
        #expect(try engine.store.workflow(later).state == "cancelled")
    }

    @Test func aDuplicateIdempotencyKeyReturnsTheSameWorkflow() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let first = try WorkflowSubmitter(store: engine.store).submit(definition, input: [:], idempotencyKey: "ticket-7", submittedBy: "t")
        let second = try WorkflowSubmitter(store: engine.store).submit(definition, input: [:], idempotencyKey: "ticket-7", submittedBy: "t")
        #expect(first == .created(first.workflowID))
        #expect(second == .existing(first.workflowID))
        #expect(try engine.store.list(WorkflowFilter()).count == 1)
    }

    @Test func aSecondActiveWorkflowOnOneConcurrencyKeyIsRefused() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition("""
            name: keyed
            inputs: {account: {type: string, required: true}}
            concurrency_key: "account-{account}"
            steps:
              - {id: only, action: test.noop}
            """)
        let first = try engine.submit(definition, input: ["account": "acme"])
        let error = try #require(throws: StoreError.self) { try engine.submit(definition, input: ["account": "acme"]) }
        #expect(error == .concurrencyKeyHeld(key: "account-acme", holder: first, state: "running"))
        #expect(error.description.contains("already holds concurrency key 'account-acme'"))
        // Another account is fine; once the first finishes, the key is free again.
        try engine.submit(definition, input: ["account": "globex"])
        engine.startWorker()
        try await engine.waitFor(first, in: ["succeeded"])
        try engine.submit(definition, input: ["account": "acme"])
    }

    @Test func aDefinitionChangedAfterSubmitDoesNotAffectTheRunningWorkflow() async throws {
        let engine = try EngineHarness()
        let version1 = try engine.definition("""
            name: evolving
            steps:
              - {id: a, action: test.noop}
              - {id: b, action: test.noop}
            """)
        let version2 = try engine.definition("""
            name: evolving
            steps:
              - {id: a, action: test.noop}
              - {id: c, action: test.sleep}
              - {id: d, action: test.noop}
            """)
        #expect(version1.contentHash != version2.contentHash)
        let old = try engine.submit(version1, notBefore: Date().addingTimeInterval(0.5))
        let new = try engine.submit(version2)
        engine.startWorker()
        try await engine.waitFor(old, in: ["succeeded"])
        try await engine.waitFor(new, in: ["succeeded"])
        #expect(try engine.store.steps(of: old).map(\.stepID) == ["a", "b"])
        #expect(try engine.store.steps(of: new).map(\.stepID) == ["a", "c", "d"])
        #expect(try engine.store.workflow(old).definitionHash == version1.contentHash)
    }

    @Test func theFencingTokenRejectsALateWriteFromAWorkerThatLostItsLease() async throws {
        let engine = try EngineHarness()
        let id = try engine.submit(try engine.definition(teardownLikeYAML))
        let zombie = try #require(try engine.store.claim(queues: ["default"], limit: 1, workerID: "zombie", leaseSeconds: 0.2).first)
        // The zombie stops heartbeating; after its lease expires the rescuer returns the step to ready, and
        // after the retry back-off another worker claims it.
        try await engine.waitUntil("the lease to be rescued") { try engine.store.rescueExpiredLeases() > 0 }
        var claimed: ClaimedStep?
        try await engine.waitUntil("the step to be claimable again") {
            claimed = try engine.store.claim(queues: ["default"], limit: 1, workerID: "heir", leaseSeconds: 30).first
            return claimed != nil
        }
        let heir = try #require(claimed)
        #expect(heir.stepID == zombie.stepID)
        #expect(heir.fencingToken > zombie.fencingToken)
        #expect(try engine.store.record([AttemptResult(workflowID: id, stepID: heir.stepID, fencingToken: heir.fencingToken,
                                                      outcome: .succeeded(output: ["by": "heir"]))], workerID: "heir") == [.applied])
        let late = try engine.store.record([AttemptResult(workflowID: id, stepID: zombie.stepID, fencingToken: zombie.fencingToken,
                                                         outcome: .succeeded(output: ["by": "zombie"]))], workerID: "zombie")
        #expect(late == [.staleLease])
        let step = try #require(try engine.store.steps(of: id).first { $0.stepID == heir.stepID })
        #expect(step.output?["by"] == "heir")
        #expect(step.attempt == 2, "the lost attempt counts")
        let kinds = try engine.kinds(id)
        #expect(kinds.contains("lease_expired"))
        #expect(kinds.contains("stale_write_rejected"))
        // Heartbeats and checkpoints from the zombie are refused too.
        #expect(try engine.store.extendLeases([(id, zombie.stepID, zombie.fencingToken)], leaseSeconds: 30).count == 1)
        #expect(try !engine.store.saveCheckpoint(workflowID: id, stepID: zombie.stepID, fencingToken: zombie.fencingToken,
                                                 checkpoint: ["x": 1], irreversible: false, leaseSeconds: 30, workerID: "zombie"))
    }

    @Test func anIrreversibleCheckpointOnThePivotMeansForwardOnly() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let id = try engine.submit(try engine.definition(teardownLikeYAML), input: script(["commit": ["irreversible": true, "fail": "permanent"]]))
        let workflow = try await engine.waitFor(id, in: ["failed"])
        #expect(workflow.pivotCrossed)
        #expect(try engine.store.steps(of: id).filter { $0.state == "compensated" }.isEmpty)
        #expect(try engine.kinds(id).contains("pivot_crossed"))
        // The irreversible checkpoint names its attempt and fencing token, as every checkpoint does (the audit of the
        // most important one lacked them).
        let checkpoint = try #require(try engine.events(id).first { $0.kind == "checkpoint" && $0.stepID == "commit" })
        #expect(checkpoint.attempt == 1 && checkpoint.fencingToken != nil && checkpoint.phase == "forward", "\(checkpoint)")
    }

    @Test func pruneDeletesOnlyOldFinishedWorkflows() async throws {
        let engine = try EngineHarness()
        engine.startWorker()
        let definition = try engine.definition(teardownLikeYAML)
        let done = try engine.submit(definition)
        try await engine.waitFor(done, in: ["succeeded"])
        let running = try engine.submit(definition, notBefore: Date().addingTimeInterval(3600))
        // A finish time set by hand on a workflow that has not finished does not make it prunable.
        _ = try engine.database.connect().query("UPDATE workflows SET finished_at = now() - interval '400 days' WHERE id = $1", [running])
        #expect(try engine.store.prune(finishedBefore: Date().addingTimeInterval(-3600)) == 0)
        #expect(try engine.store.countPrunable(finishedBefore: Date().addingTimeInterval(1)) == 1, "what --dry-run reports")
        #expect(try engine.store.workflow(done).state == "succeeded", "counting deletes nothing")
        #expect(try engine.store.prune(finishedBefore: Date().addingTimeInterval(1)) == 1)
        #expect(throws: StoreError.self) { try engine.store.workflow(done) }
        #expect(try engine.events(done).isEmpty)
        #expect(try engine.store.steps(of: done).isEmpty, "its steps go with it")
        #expect(try engine.store.workflow(running).state == "scheduled")
        #expect(try engine.store.steps(of: running).count == definition.steps.count)
    }

    @Test func workflowIDPrefixesResolveLikeGitCommits() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(teardownLikeYAML)
        let ids = try (0..<40).map { _ in try engine.submit(definition) }
        let id = ids[0]
        #expect(try engine.store.resolveWorkflowID(String(id.uuidString.lowercased().prefix(13))) == id)
        #expect(try engine.store.resolveWorkflowID(id.uuidString.uppercased()) == id)
        #expect(throws: StoreError.malformedWorkflowID("zz-not-an-id")) { try engine.store.resolveWorkflowID("zz-not-an-id") }
        #expect(throws: StoreError.workflowNotFound("ffffffff-ffff")) { try engine.store.resolveWorkflowID("ffffffff-ffff") }
        // 40 random IDs share a 1-hex-digit prefix... but prefixes need 4 characters, so find an ambiguous one.
        let byPrefix = Dictionary(grouping: ids) { String($0.uuidString.lowercased().prefix(1)) }
        if let (prefix, _) = byPrefix.first(where: { $0.value.count > 1 }) {
            let error = try #require(throws: StoreError.self) { try engine.store.resolveWorkflowID(prefix + "") }
            #expect(error == .malformedWorkflowID(prefix), "a 1-character prefix is too short to be useful")
        }
    }
}
