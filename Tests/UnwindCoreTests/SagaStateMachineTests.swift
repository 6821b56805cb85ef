import Foundation
import Testing
@testable import UnwindCore

/// Event → state tables for the saga rules, with no database: the store applies exactly these transitions.
@Suite("Saga state machine")
struct SagaStateMachineTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    func definition(_ yaml: String) throws -> WorkflowDefinition {
        try WorkflowDefinitionLoader.load(yaml: yaml, file: "test", knownActions: ["a", "undo"])
    }

    /// prepare (compensable) → reserve (compensable) → commit (pivot) → finish.
    func teardown() throws -> WorkflowDefinition {
        try definition("""
            name: t
            defaults: {retry: {max_attempts: 3, initial_interval: 1s, multiplier: 2, max_interval: 10s, jitter: none}}
            steps:
              - {id: prepare, action: a, compensation: undo}
              - {id: reserve, action: a, compensation: {action: undo, retry: {max_attempts: 2, jitter: none}}}
              - {id: commit, action: a, pivot: true}
              - {id: finish, action: a}
            """)
    }

    struct Driver {
        let machine: SagaStateMachine
        var snapshot: SagaSnapshot
        var events: [SagaEventRecord] = []
        var now = SagaStateMachineTests.now

        init(_ definition: WorkflowDefinition, startAt: Date? = nil) {
            machine = SagaStateMachine(definition: definition)
            snapshot = SagaSnapshot.initial(for: definition, startAt: startAt, now: SagaStateMachineTests.now)
        }

        /// What the store's claim query does: ready/waiting → running, one more attempt (not for a wake-up).
        mutating func claim(_ id: String) {
            var step = snapshot.steps[id]!
            precondition(step.state.isClaimable, "\(id) is \(step.state)")
            if step.state == .ready { step.attempt += 1 }
            step.state = .running
            step.fencingToken += 1
            snapshot.steps[id] = step
        }

        mutating func apply(_ event: SagaStateMachine.Event) throws {
            let outcome = try machine.apply(event, to: snapshot, now: now, random: { 0.5 })
            snapshot = outcome.snapshot
            events += outcome.events
        }

        mutating func succeed(_ id: String) throws {
            claim(id)
            try apply(.attemptSucceeded(step: id))
        }

        mutating func fail(_ id: String, retryable: Bool, code: String? = nil) throws {
            claim(id)
            try apply(.attemptFailed(step: id, failure: StepFailure(code: code, message: "boom", retryable: retryable)))
        }

        func state(_ id: String) -> StepState { snapshot.steps[id]!.state }
        func phase(_ id: String) -> StepPhase { snapshot.steps[id]!.phase }
        var kinds: [String] { events.map(\.kind) }
        var ready: [String] { snapshot.steps.filter { $0.value.state == .ready }.map(\.key).sorted() }
    }

    @Test func aLinearWorkflowRunsStepByStepToSuccess() throws {
        var run = Driver(try teardown())
        #expect(run.snapshot.state == .running)
        #expect(run.ready == ["prepare"])
        for id in ["prepare", "reserve", "commit", "finish"] {
            #expect(run.ready == [id])
            try run.succeed(id)
        }
        #expect(run.snapshot.state == .succeeded)
        #expect(run.snapshot.pivotCrossed)
        #expect(run.kinds.contains("pivot_crossed"))
        #expect(run.kinds.last == "workflow_succeeded")
    }

    @Test func independentDAGStepsAreReadyTogether() throws {
        var run = Driver(try definition("""
            name: d
            steps:
              - {id: root, action: a}
              - {id: left, action: a, after: [root]}
              - {id: right, action: a, after: [root]}
              - {id: join, action: a, after: [left, right]}
            """))
        try run.succeed("root")
        #expect(run.ready == ["left", "right"])
        try run.succeed("left")
        #expect(run.ready == ["right"])
        try run.succeed("right")
        #expect(run.ready == ["join"])
    }

    @Test func aTransientErrorIsRetriedWithBackoffThenSucceeds() throws {
        var run = Driver(try teardown())
        try run.fail("prepare", retryable: true)
        #expect(run.state("prepare") == .ready)
        #expect(run.snapshot.steps["prepare"]!.dueAt == Self.now.addingTimeInterval(1))
        try run.fail("prepare", retryable: true)
        #expect(run.snapshot.steps["prepare"]!.dueAt == Self.now.addingTimeInterval(2))
        try run.succeed("prepare")
        #expect(run.state("prepare") == .succeeded)
        #expect(run.kinds.filter { $0 == "attempt_failed" }.count == 2)
    }

    @Test func retryLaterHonoursNotBefore() throws {
        var run = Driver(try teardown())
        run.claim("prepare")
        let later = Self.now.addingTimeInterval(120)
        try run.apply(.attemptFailed(step: "prepare", failure: StepFailure(code: "APIGW.0308", message: "throttled", notBefore: later)))
        #expect(run.snapshot.steps["prepare"]!.dueAt == later)
    }

    @Test func nonRetryableCodesInThePolicyStopRetries() throws {
        var run = Driver(try definition("""
            name: n
            steps:
              - {id: only, action: a, retry: {max_attempts: 5, non_retryable: [CBC.30050010]}}
            """))
        try run.fail("only", retryable: true, code: "CBC.30050010")
        #expect(run.state("only") == .failed)
        #expect(run.snapshot.state == .compensated)
    }

    @Test func aPermanentErrorBeforeThePivotCompensatesInReverseCompletionOrder() throws {
        var run = Driver(try teardown())
        try run.succeed("prepare")
        try run.succeed("reserve")
        try run.fail("commit", retryable: false)
        #expect(run.snapshot.state == .compensating)
        #expect(run.ready == ["reserve"])
        #expect(run.phase("reserve") == .compensate)
        try run.succeed("reserve")
        #expect(run.state("reserve") == .compensated)
        #expect(run.ready == ["prepare"])
        try run.succeed("prepare")
        #expect(run.snapshot.state == .compensated)
        #expect(run.state("finish") == .cancelled)
        #expect(run.kinds.suffix(2) == ["step_compensated", "workflow_compensated"])
    }

    @Test func exhaustedAttemptsCountAsFailingForGood() throws {
        var run = Driver(try teardown())
        for _ in 0..<3 { try run.fail("prepare", retryable: true) }
        #expect(run.kinds.filter { $0 == "attempt_failed" }.count == 2)
        #expect(run.kinds.contains("step_failed"))
        // prepare started and has a compensation, so its (idempotent) compensation runs for partial effects.
        #expect(run.snapshot.state == .compensating)
        #expect(run.phase("prepare") == .compensate)
        try run.succeed("prepare")
        #expect(run.snapshot.state == .compensated)
    }

    @Test func aFailingCompensationEndsCompensationFailedAndCanBeResumed() throws {
        var run = Driver(try teardown())
        try run.succeed("prepare")
        try run.succeed("reserve")
        try run.fail("commit", retryable: false)
        try run.fail("reserve", retryable: true)   // compensation attempt 1 of 2
        #expect(run.snapshot.state == .compensating)
        try run.fail("reserve", retryable: true)   // attempt 2 of 2: exhausted
        #expect(run.snapshot.state == .compensationFailed)
        #expect(run.snapshot.error?["step"] == "reserve")
        #expect(run.state("prepare") == .succeeded, "the chain stops at the failed compensation")
        try run.apply(.resume(fromStep: nil))
        #expect(run.snapshot.state == .compensating)
        #expect(run.ready == ["reserve"])
        try run.succeed("reserve")
        try run.succeed("prepare")
        #expect(run.snapshot.state == .compensated)
    }

    @Test func aFailureAfterThePivotEndsFailedAndResumeCompletesIt() throws {
        var run = Driver(try teardown())
        for id in ["prepare", "reserve", "commit"] { try run.succeed(id) }
        for _ in 0..<3 { try run.fail("finish", retryable: true) }
        #expect(run.snapshot.state == .failed)
        #expect(run.state("prepare") == .succeeded, "nothing is compensated after the pivot")
        #expect(run.snapshot.error?["step"] == "finish")
        try run.apply(.resume(fromStep: nil))
        #expect(run.snapshot.state == .running)
        #expect(run.ready == ["finish"])
        // A fresh attempt budget: three more failures are allowed before failing again.
        try run.fail("finish", retryable: true)
        #expect(run.state("finish") == .ready)
        try run.succeed("finish")
        #expect(run.snapshot.state == .succeeded)
    }

    @Test func resumeFromAStepReRunsItAndEverythingAfterIt() throws {
        var run = Driver(try teardown())
        for id in ["prepare", "reserve", "commit"] { try run.succeed(id) }
        try run.fail("finish", retryable: false)
        try run.apply(.resume(fromStep: "commit"))
        #expect(run.ready == ["commit"])
        #expect(run.state("finish") == .blocked)
        try run.succeed("commit")
        try run.succeed("finish")
        #expect(run.snapshot.state == .succeeded)
    }

    /// `--from` a step after the failed one would run it before its predecessor succeeded, and leave the failed
    /// step behind with the workflow running for ever: refused, naming the step to resume from or skip.
    @Test func resumeFromAStepAfterTheFailedOneIsRefused() throws {
        let definition = try definition("""
            name: t
            steps:
              - {id: prepare, action: a, compensation: undo}
              - {id: commit, action: a, pivot: true}
              - {id: release, action: a}
              - {id: endpoints, action: a}
              - {id: verify, action: a}
            """)
        var run = Driver(definition)
        for id in ["prepare", "commit"] { try run.succeed(id) }
        try run.fail("release", retryable: false)
        for later in ["endpoints", "verify"] {
            let refusal = try #require(throws: SagaStateMachine.Refusal.self) { try run.apply(.resume(fromStep: later)) }
            #expect(refusal.description.contains("cannot resume from '\(later)': step 'release' has not succeeded"), "\(refusal)")
            #expect(refusal.description.hasSuffix("or skip 'release' first (unwind skip)"), "the failed step can be skipped: \(refusal)")
            #expect(run.snapshot.state == .failed)
        }
        // From the failed step or one before it, and after skipping it, resuming works.
        var fromEarlier = run
        try fromEarlier.apply(.resume(fromStep: "commit"))
        #expect(fromEarlier.ready == ["commit"])
        try run.apply(.skip(step: "release"))
        #expect(run.ready == ["endpoints"])
    }

    @Test func aPivotThatRecordedAnIrreversibleChangeCountsAsCrossed() throws {
        var run = Driver(try teardown())
        try run.succeed("prepare")
        try run.succeed("reserve")
        run.claim("commit")
        try run.apply(.irreversibleCheckpoint(step: "commit"))
        try run.apply(.attemptFailed(step: "commit", failure: StepFailure(message: "half done", retryable: false)))
        #expect(run.snapshot.state == .failed)
        #expect(run.state("prepare") == .succeeded)
        #expect(run.state("reserve") == .succeeded)
    }

    /// Only the pivot's irreversible checkpoint, saved while it runs forward, crosses the point of no return. A
    /// compensation's used to stop the compensation half-way (and a resume then ran the pivot with what it needs
    /// undone); another step's made a workflow without a pivot uncancellable ("pivot '-'").
    @Test func anIrreversibleCheckpointOfAnotherStepOrACompensationIsNotThePivots() throws {
        var compensating = Driver(try teardown())
        try compensating.succeed("prepare")
        try compensating.succeed("reserve")
        try compensating.fail("commit", retryable: false)
        #expect(compensating.snapshot.state == .compensating)
        compensating.claim("reserve")
        #expect(compensating.phase("reserve") == .compensate)
        try compensating.apply(.irreversibleCheckpoint(step: "reserve"))
        #expect(!compensating.snapshot.pivotCrossed)
        try compensating.apply(.attemptSucceeded(step: "reserve"))
        try compensating.succeed("prepare")
        #expect(compensating.snapshot.state == .compensated, "\(compensating.kinds)")

        var beforeThePivot = Driver(try teardown())
        beforeThePivot.claim("prepare")
        try beforeThePivot.apply(.irreversibleCheckpoint(step: "prepare"))
        try beforeThePivot.apply(.attemptSucceeded(step: "prepare"))
        #expect(!beforeThePivot.snapshot.pivotCrossed)
        try beforeThePivot.apply(.cancel(force: false))
        #expect(beforeThePivot.snapshot.state == .compensating)
    }

    /// The pivot's last attempt ended without an outcome (its worker died, or it timed out): it may have made its
    /// change, so the workflow fails past the point of no return instead of compensating the steps before it.
    @Test func aPivotsLastAttemptWithoutAnOutcomeCountsAsCrossed() throws {
        for code in ["lease_expired", "timeout", "refused"] {
            var run = Driver(try definition("""
                name: t
                defaults: {retry: {max_attempts: 1}}
                steps:
                  - {id: prepare, action: a, compensation: undo}
                  - {id: commit, action: a, pivot: true}
                  - {id: finish, action: a}
                """))
            try run.succeed("prepare")
            if code == "lease_expired" {
                run.claim("commit")
                try run.apply(.leaseExpired(step: "commit"))
            } else {
                try run.fail("commit", retryable: code == "timeout", code: code)
            }
            if code == "refused" {
                #expect(run.snapshot.state == .compensating, "a clean refusal changed nothing: compensate")
            } else {
                #expect(run.snapshot.state == .failed, "\(code): \(run.kinds)")
                #expect(run.snapshot.pivotCrossed, "\(code)")
                #expect(run.state("prepare") == .succeeded, "\(code): not compensated")
            }
        }
    }

    /// The same with attempts left while a cancel waits for the pivot: no attempt follows to settle what it did, so
    /// the workflow fails past the point of no return; it used to compensate and end `cancelled` while BSS had
    /// unsubscribed the quota.
    @Test func aPivotWithoutAnOutcomeWhileACancelWaitsCountsAsCrossed() throws {
        for code in ["lease_expired", "timeout"] {
            var run = Driver(try teardown())
            try run.succeed("prepare")
            try run.succeed("reserve")
            run.claim("commit")
            try run.apply(.cancel(force: false))
            if code == "lease_expired" {
                try run.apply(.leaseExpired(step: "commit"))
            } else {
                try run.apply(.attemptFailed(step: "commit", failure: StepFailure(code: code, message: "timed out", retryable: true)))
            }
            #expect(run.snapshot.state == .failed && run.snapshot.pivotCrossed, "\(code): \(run.kinds)")
            #expect(run.state("prepare") == .succeeded && run.state("reserve") == .succeeded, "\(code): nothing compensated")
        }
    }

    /// A cancel while the pivot is parked for a retry after an attempt without an outcome (its worker died or stopped,
    /// it timed out): no attempt will settle what that attempt did, so the pivot counts as crossed and nothing before
    /// it is compensated. It used to be cancelled like a step parked after a clean refusal, and the workflow ended
    /// `cancelled` while BSS had booked the unsubscription. After a clean retryable refusal it is still cancelled.
    @Test func aCancelWhileThePivotIsParkedAfterAnAttemptWithoutAnOutcomeCountsAsCrossed() throws {
        for code in ["lease_expired", "worker_stopped", "timeout", "throttled"] {
            var run = Driver(try teardown())
            try run.succeed("prepare")
            try run.succeed("reserve")
            run.claim("commit")
            if code == "lease_expired" {
                try run.apply(.leaseExpired(step: "commit"))
            } else {
                try run.apply(.attemptFailed(step: "commit", failure: StepFailure(code: code, message: code, retryable: true)))
            }
            #expect(run.state("commit") == .ready, "\(code): parked for a retry")
            try run.apply(.cancel(force: false))
            if code == "throttled" {
                #expect(!run.snapshot.pivotCrossed, "a refusal changed nothing: \(run.kinds)")
                #expect(run.snapshot.state == .compensating, "\(code): \(run.kinds)")
            } else {
                #expect(run.snapshot.pivotCrossed && run.snapshot.state == .failed, "\(code): \(run.kinds)")
                #expect(run.state("prepare") == .succeeded && run.state("reserve") == .succeeded, "\(code): nothing compensated")
            }
        }
    }

    /// The attempt without an outcome is not settled by a later attempt that fails retryably before changing anything
    /// (a throttled read): the pivot still counts as crossed when a cancel comes, or a `--force` one. A refusal for
    /// good is the action's verdict (the teardown's pivots read the cloud again first) and settles it: compensated,
    /// as the chaos run's unpaid-order accounts expect after a worker was killed mid-pivot.
    @Test func anEarlierAttemptWithoutAnOutcomeIsNotSettledByALaterRetryableFailure() throws {
        for ending in ["cancel", "force", "refused"] {
            var run = Driver(try teardown())
            try run.succeed("prepare")
            try run.succeed("reserve")
            run.claim("commit")
            try run.apply(.leaseExpired(step: "commit"))
            run.claim("commit")
            switch ending {
            case "refused":
                try run.apply(.attemptFailed(step: "commit", failure: StepFailure(code: "CBC.30050010", message: "unpaid", retryable: false)))
            default:
                try run.apply(.attemptFailed(step: "commit", failure: StepFailure(code: "throttled", message: "throttled", retryable: true)))
                #expect(run.state("commit") == .ready)
                try run.apply(.cancel(force: ending == "force"))
            }
            if ending == "refused" {
                #expect(!run.snapshot.pivotCrossed && run.snapshot.state == .compensating, "\(ending): \(run.kinds)")
            } else {
                #expect(run.snapshot.pivotCrossed, "\(ending): \(run.kinds)")
                #expect(run.state("prepare") == .succeeded && run.state("reserve") == .succeeded, "\(ending): nothing compensated")
            }
        }
    }

    /// A failure in one branch while the pivot ran, the pivot then crossed: compensation stopped and the workflow
    /// failed. Skipping the failed branch goes on with the steps the stopped compensation had cancelled; they
    /// stayed cancelled, and the workflow ran for good with nothing left to run.
    @Test func skippingAfterAStoppedCompensationGoesOnWithTheCancelledSteps() throws {
        var run = Driver(try definition("""
            name: dag
            steps:
              - {id: root, action: a, compensation: undo}
              - {id: side, action: a, after: [root]}
              - {id: piv, action: a, after: [root], pivot: true}
              - {id: tail, action: a, after: [piv, side]}
            """))
        try run.succeed("root")
        run.claim("piv")
        try run.fail("side", retryable: false)
        #expect(run.snapshot.state == .compensating)
        try run.apply(.attemptSucceeded(step: "piv"))
        #expect(run.snapshot.state == .failed)
        #expect(run.state("tail") != .ready)
        try run.apply(.skip(step: "side"))
        #expect(run.snapshot.state == .running)
        #expect(run.ready == ["tail"])
        try run.succeed("tail")
        #expect(run.snapshot.state == .succeeded)
    }

    @Test func cancelBeforeThePivotCompensatesThenEndsCancelled() throws {
        var run = Driver(try teardown())
        try run.succeed("prepare")
        try run.apply(.cancel(force: false))
        #expect(run.snapshot.state == .compensating)
        #expect(run.state("reserve") == .cancelled)
        try run.succeed("prepare")
        #expect(run.snapshot.state == .cancelled)
    }

    @Test func cancelAfterThePivotIsRefusedUnlessForced() throws {
        var run = Driver(try teardown())
        for id in ["prepare", "reserve", "commit"] { try run.succeed(id) }
        run.claim("finish")
        #expect(throws: SagaStateMachine.Refusal.self) { try run.apply(.cancel(force: false)) }
        #expect(run.snapshot.state == .running)
        let token = run.snapshot.steps["finish"]!.fencingToken
        try run.apply(.cancel(force: true))
        #expect(run.snapshot.state == .cancelled)
        #expect(run.state("finish") == .cancelled)
        #expect(run.snapshot.steps["finish"]!.fencingToken == token + 1, "the running worker's late write is fenced off")
        #expect(run.state("prepare") == .succeeded)
    }

    /// A forced cancel cuts running attempts off from their results; a pivot caught running may have changed the
    /// cloud, so it counts as crossed, and the history names what was interrupted.
    @Test func aForcedCancelWhileThePivotRunsCountsItAsCrossed() throws {
        var run = Driver(try teardown())
        for id in ["prepare", "reserve"] { try run.succeed(id) }
        run.claim("commit")
        try run.apply(.cancel(force: true))
        #expect(run.snapshot.state == .cancelled)
        #expect(run.snapshot.pivotCrossed)
        let cancelled = try #require(run.events.last { $0.kind == "workflow_cancelled" })
        #expect(cancelled.details?["interrupted"] == ["commit"])
        // Before anything ran past the earlier steps, a forced cancel does not claim a crossing.
        var early = Driver(try teardown())
        early.claim("prepare")
        try early.apply(.cancel(force: true))
        #expect(!early.snapshot.pivotCrossed)
    }

    @Test func aRunningStepFinishesBeforeCompensationProceeds() throws {
        var run = Driver(try definition("""
            name: p
            steps:
              - {id: left, action: a, compensation: undo, after: []}
              - {id: right, action: a, compensation: undo, after: []}
            """))
        run.claim("left")
        try run.fail("right", retryable: false)
        #expect(run.snapshot.state == .compensating)
        #expect(run.ready.isEmpty, "waits for the running step")
        try run.apply(.attemptSucceeded(step: "left"))
        #expect(run.ready == ["left"])
        #expect(run.phase("left") == .compensate)
    }

    /// A wait or a `Retry-After` far in the future is cut to the longest duration a definition may give (30 days):
    /// a cloud answering `Retry-After: 10000000000000` put a step's due time in a year the database cannot hold.
    @Test func aDueTimeFarInTheFutureIsCutToThirtyDays() throws {
        let latest = Self.now.addingTimeInterval(Duration.maximumDefinitionDuration.timeInterval)
        for ending in ["fails", "waits"] {
            var run = Driver(try teardown())
            run.claim("prepare")
            let never = Self.now.addingTimeInterval(4e11)
            if ending == "fails" {
                try run.apply(.attemptFailed(step: "prepare", failure: StepFailure(code: "APIGW.0308", message: "throttled", retryable: true, notBefore: never)))
            } else {
                try run.apply(.attemptWaiting(step: "prepare", until: never))
            }
            #expect(run.snapshot.steps["prepare"]?.dueAt == latest, "\(ending)")
        }
    }

    /// A cancel while a step runs: when that attempt fails (say, it timed out), it is not tried again, and
    /// compensation starts with it; the same when it asks to wait.
    @Test func aStepRunningWhenCancelledIsNotRetriedNorParked() throws {
        for ending in ["fails", "waits"] {
            var run = Driver(try teardown())
            try run.succeed("prepare")
            run.claim("reserve")
            try run.apply(.cancel(force: false))
            #expect(run.snapshot.state == .compensating)
            #expect(run.ready.isEmpty, "compensation waits for the running step")
            if ending == "fails" {
                try run.apply(.attemptFailed(step: "reserve", failure: StepFailure(code: "timeout", message: "timed out", retryable: true)))
            } else {
                try run.apply(.attemptWaiting(step: "reserve", until: Self.now.addingTimeInterval(60)))
            }
            #expect(run.phase("reserve") == .compensate, "\(ending): the stopped step is compensated first (it had started)")
            #expect(run.ready == ["reserve"], "\(ending): no new forward attempt")
            try run.succeed("reserve")
            try run.succeed("prepare")
            #expect(run.snapshot.state == .cancelled, "\(ending)")
        }
    }

    /// A cancel while the pivot runs: if the pivot then succeeds, or records an irreversible change and fails, the
    /// cloud is past the point of no return and the steps before it are not compensated. The workflow fails,
    /// resumable forward; if the pivot's attempt ends without crossing, the cancel compensates as usual.
    @Test func aPivotThatCrossesWhileACancelWaitsForItStopsTheCompensation() throws {
        for ending in ["succeeds", "irreversible then fails", "fails cleanly"] {
            var run = Driver(try teardown())
            try run.succeed("prepare")
            try run.succeed("reserve")
            run.claim("commit")
            try run.apply(.cancel(force: false))
            #expect(run.snapshot.state == .compensating)
            #expect(run.state("finish") == .cancelled)
            switch ending {
            case "succeeds":
                try run.apply(.attemptSucceeded(step: "commit"))
            case "irreversible then fails":
                try run.apply(.irreversibleCheckpoint(step: "commit"))
                try run.apply(.attemptFailed(step: "commit", failure: StepFailure(message: "lost", retryable: true)))
            default:
                try run.apply(.attemptFailed(step: "commit", failure: StepFailure(message: "refused", retryable: false)))
            }
            if ending == "fails cleanly" {
                #expect(run.phase("reserve") == .compensate, "nothing crossed: the cancel goes on")
                continue
            }
            #expect(run.snapshot.state == .failed, "\(ending)")
            #expect(run.snapshot.pivotCrossed)
            #expect(!run.events.contains { $0.kind == "compensation_scheduled" }, "\(ending): nothing is compensated")
            #expect(run.state("prepare") == .succeeded && run.state("reserve") == .succeeded, "\(ending)")
            #expect(run.snapshot.error?["message"]?.stringValue?.contains("resume the workflow") == true)
            // Resuming finishes forward.
            try run.apply(.resume(fromStep: nil))
            if ending != "succeeds" { try run.succeed("commit") }
            try run.succeed("finish")
            #expect(run.snapshot.state == .succeeded, "\(ending)")
        }
    }

    /// A pivot in a durable wait (following what it asked for) is in the middle of its attempt, as a running one
    /// is: a cancel waits for it rather than compensating around a change that may go through, and a forced
    /// cancel counts it as crossed.
    @Test func aPivotInADurableWaitIsWaitedForByACancel() throws {
        for ending in ["succeeds", "fails cleanly", "forced"] {
            var run = Driver(try teardown())
            try run.succeed("prepare")
            try run.succeed("reserve")
            run.claim("commit")
            try run.apply(.attemptWaiting(step: "commit", until: Self.now.addingTimeInterval(30)))
            if ending == "forced" {
                try run.apply(.cancel(force: true))
                #expect(run.snapshot.state == .cancelled && run.snapshot.pivotCrossed)
                let cancelled = try #require(run.events.last { $0.kind == "workflow_cancelled" })
                #expect(cancelled.details?["interrupted"] == ["commit"])
                continue
            }
            try run.apply(.cancel(force: false))
            #expect(run.snapshot.state == .compensating)
            #expect(run.state("commit") == .waiting, "the pivot keeps waiting")
            #expect(!run.events.contains { $0.kind == "compensation_scheduled" }, "\(ending): nothing compensated while the pivot waits")
            // The wait ends: the pivot looks again, waits once more, then ends.
            run.claim("commit")
            try run.apply(.attemptWaiting(step: "commit", until: Self.now.addingTimeInterval(60)))
            #expect(run.state("commit") == .waiting && !run.events.contains { $0.kind == "compensation_scheduled" })
            run.claim("commit")
            if ending == "succeeds" {
                try run.apply(.attemptSucceeded(step: "commit"))
                #expect(run.snapshot.state == .failed && run.snapshot.pivotCrossed)
                #expect(!run.events.contains { $0.kind == "compensation_scheduled" })
            } else {
                try run.apply(.attemptFailed(step: "commit", failure: StepFailure(message: "refused", retryable: false)))
                #expect(run.phase("reserve") == .compensate, "nothing crossed: the cancel goes on")
            }
        }
    }

    @Test func skipMarksAFailedStepDoneAndGoesOn() throws {
        var run = Driver(try teardown())
        for id in ["prepare", "reserve", "commit"] { try run.succeed(id) }
        try run.fail("finish", retryable: false)
        #expect(throws: SagaStateMachine.Refusal.self) { try run.apply(.skip(step: "prepare")) }
        try run.apply(.skip(step: "finish"))
        #expect(run.state("finish") == .skipped)
        #expect(run.snapshot.state == .succeeded)
    }

    @Test func aScheduledWorkflowStartsAtItsTimeAndCanBeCancelledBefore() throws {
        var run = Driver(try teardown(), startAt: Self.now.addingTimeInterval(3600))
        #expect(run.snapshot.state == .scheduled)
        #expect(run.ready.isEmpty)
        try run.apply(.start)
        #expect(run.ready == ["prepare"])

        var cancelled = Driver(try teardown(), startAt: Self.now.addingTimeInterval(3600))
        try cancelled.apply(.cancel(force: false))
        #expect(cancelled.snapshot.state == .cancelled)
    }

    @Test func anExpiredLeaseCountsTheLostAttempt() throws {
        var run = Driver(try teardown())
        run.claim("prepare")
        try run.apply(.leaseExpired(step: "prepare"))
        #expect(run.state("prepare") == .ready)
        #expect(run.kinds.contains("lease_expired"))
        run.claim("prepare")
        try run.apply(.leaseExpired(step: "prepare"))
        run.claim("prepare")
        try run.apply(.leaseExpired(step: "prepare"))
        #expect(run.kinds.contains("step_failed"), "three lost attempts exhaust a budget of three")
        #expect(run.snapshot.state == .compensating)
    }

    @Test func waitingDoesNotConsumeAnAttempt() throws {
        var run = Driver(try teardown())
        run.claim("prepare")
        try run.apply(.attemptWaiting(step: "prepare", until: Self.now.addingTimeInterval(5)))
        #expect(run.state("prepare") == .waiting)
        run.claim("prepare")
        #expect(run.snapshot.steps["prepare"]!.attempt == 1)
        try run.apply(.attemptSucceeded(step: "prepare"))
        #expect(run.state("prepare") == .succeeded)
    }

    @Test func lateResultsForStepsNoLongerRunningAreIgnored() throws {
        var run = Driver(try teardown())
        try run.succeed("prepare")
        let before = run.snapshot
        try run.apply(.attemptSucceeded(step: "prepare"))
        try run.apply(.attemptFailed(step: "reserve", failure: StepFailure(message: "late")))
        #expect(run.snapshot == before)
    }

    @Test func operatorsGetClearRefusals() throws {
        var run = Driver(try teardown())
        let resume = try #require(throws: SagaStateMachine.Refusal.self) { try run.apply(.resume(fromStep: nil)) }
        #expect(resume.description.contains("only failed or compensation_failed workflows can be resumed; this one is running"))
        for id in ["prepare", "reserve", "commit", "finish"] { try run.succeed(id) }
        let cancel = try #require(throws: SagaStateMachine.Refusal.self) { try run.apply(.cancel(force: true)) }
        #expect(cancel.description.contains("has already ended (succeeded)"))
    }
}
