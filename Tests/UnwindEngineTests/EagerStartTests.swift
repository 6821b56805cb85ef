import Foundation
import Testing
import UnwindCore
import UnwindStore
import UnwindTesting

/// A worker that finishes a step starts the workflow's next step itself, in the same transaction.
@Suite("Eager start of successors", .enabled(if: TestEnvironment.hasDatabase))
struct EagerStartTests {
    static let threeSteps = """
        name: chain
        inputs:
          account: {type: string}
        steps:
          - id: a
            action: test.noop
          - id: b
            action: test.noop
            after: [a]
          - id: c
            action: test.noop
            after: [b]
        """

    private func succeeded(_ step: ClaimedStep, _ output: JSONValue = ["ok": true]) -> AttemptResult {
        AttemptResult(workflowID: step.workflowID, stepID: step.stepID, fencingToken: step.fencingToken,
                      outcome: .succeeded(output: output))
    }

    @Test func theNextStepStartsInTheTransactionThatCompletesItsPredecessor() async throws {
        let engine = try EngineHarness()
        let id = try engine.submit(try engine.definition(Self.threeSteps), input: ["account": "acme"])
        let a = try #require(try engine.store.claim(queues: ["default"], limit: 4, workerID: "w1", leaseSeconds: 30).first)
        #expect(a.stepID == "a")

        let batch = try engine.store.complete([succeeded(a, ["found": 3])], thenClaim: 4, queues: ["default"],
                                              workerID: "w1", leaseSeconds: 30)
        #expect(batch.dispositions == [.applied])
        let b = try #require(batch.claimed.first)
        #expect(batch.claimed.count == 1, "c still waits for b")
        #expect(b.workflowID == id && b.stepID == "b" && b.phase == .forward)
        #expect(b.attempt == 1 && !b.isResumedWait)
        #expect(b.input["account"] == "acme")
        #expect(b.outputs["a"] == ["found": 3], "the predecessor's output, written in the same transaction")
        #expect(b.idempotencyKey == "\(id.uuidString.lowercased()):b")
        #expect(b.leaseExpiresAt > Date().addingTimeInterval(20))

        // The stored row is what a claim would have left: running under w1's lease, one attempt, a new token.
        let stored = try #require(try engine.store.steps(of: id).first { $0.stepID == "b" })
        #expect(stored.state == "running" && stored.leaseOwner == "w1" && stored.attempt == 1)
        #expect(stored.fencingToken == b.fencingToken && stored.startedAt != nil)
        let events = try engine.events(id).filter { $0.stepID != nil }.map { "\($0.kind):\($0.stepID!)" }
        #expect(events == ["attempt_started:a", "step_succeeded:a", "attempt_started:b"])
        let started = try #require(try engine.events(id).last)
        #expect(started.workerID == "w1" && started.attempt == 1 && started.fencingToken == b.fencingToken)

        // A heartbeat of the eagerly started attempt holds, and its result completes the workflow's next step.
        #expect(try engine.store.extendLeases([(id, "b", b.fencingToken)], leaseSeconds: 30).isEmpty)
        let next = try engine.store.complete([succeeded(b)], thenClaim: 1, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        let c = try #require(next.claimed.first)
        #expect(c.stepID == "c")
        _ = try engine.store.complete([succeeded(c)], thenClaim: 0, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        #expect(try engine.store.workflow(id).state == "succeeded")
        #expect(try engine.store.steps(of: id).allSatisfy { $0.attempt == 1 && $0.state == "succeeded" })
    }

    @Test func withoutAFreeSlotOrOnAnotherQueueTheSuccessorIsLeftForTheClaim() async throws {
        let engine = try EngineHarness()
        let id = try engine.submit(try engine.definition(Self.threeSteps))
        let a = try #require(try engine.store.claim(queues: ["default"], limit: 1, workerID: "w1", leaseSeconds: 30).first)

        // No free slot: b is made ready, not started.
        let full = try engine.store.complete([succeeded(a)], thenClaim: 0, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        #expect(full.claimed.isEmpty)
        #expect(try engine.store.steps(of: id).first { $0.stepID == "b" }?.state == "ready")
        let b = try #require(try engine.store.claim(queues: ["default"], limit: 1, workerID: "w2", leaseSeconds: 30).first)
        #expect(b.stepID == "b" && b.attempt == 1)

        // A worker of another queue finishing b does not start c (it could never have claimed it).
        let other = try engine.store.complete([succeeded(b)], thenClaim: 8, queues: ["bulk"], workerID: "w2", leaseSeconds: 30)
        #expect(other.claimed.isEmpty)
        #expect(try engine.store.steps(of: id).first { $0.stepID == "c" }?.state == "ready")
    }

    @Test func aStaleResultStartsNothing() async throws {
        let engine = try EngineHarness()
        let id = try engine.submit(try engine.definition(Self.threeSteps))
        let a = try #require(try engine.store.claim(queues: ["default"], limit: 1, workerID: "w1", leaseSeconds: 30).first)
        var stale = succeeded(a)
        stale.fencingToken += 7
        let batch = try engine.store.complete([stale], thenClaim: 4, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        #expect(batch.dispositions == [.staleLease])
        #expect(batch.claimed.isEmpty)
        #expect(try engine.store.steps(of: id).map(\.state) == ["running", "blocked", "blocked"])
    }

    @Test func withoutLookingForMoreOnlyTheSuccessorsStartAndTheClaimStillFindsTheRest() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(Self.threeSteps)
        let first = try engine.submit(definition, input: ["account": "first"])
        let a = try #require(try engine.store.claim(queues: ["default"], limit: 1, workerID: "w1", leaseSeconds: 30).first)
        #expect(a.workflowID == first)
        let second = try engine.submit(definition, input: ["account": "second"])

        // A quiet completion starts b of the first workflow, and leaves the second workflow's a for a claim.
        let quiet = try engine.store.complete([succeeded(a)], thenClaim: 4, queues: ["default"], workerID: "w1",
                                              leaseSeconds: 30, lookForMore: false)
        #expect(quiet.claimed.map { "\($0.workflowID == first ? "first" : "second"):\($0.stepID)" } == ["first:b"])
        #expect(try engine.store.steps(of: second).first { $0.stepID == "a" }?.state == "ready")

        // The next completion that looks for more claims it in the same transaction.
        let b = try #require(quiet.claimed.first)
        let looking = try engine.store.complete([succeeded(b)], thenClaim: 4, queues: ["default"], workerID: "w1", leaseSeconds: 30)
        #expect(Set(looking.claimed.map { "\($0.workflowID == first ? "first" : "second"):\($0.stepID)" }) == ["first:c", "second:a"])
    }

    @Test func startingAReadyStepIsOneMoreAttemptUnderANewToken() {
        var step = StepSnapshot(state: .ready, attempt: 2, attemptBase: 1, fencingToken: 5)
        step.startAttempt()
        #expect(step == StepSnapshot(state: .running, attempt: 3, attemptBase: 1, fencingToken: 6))
    }
}
