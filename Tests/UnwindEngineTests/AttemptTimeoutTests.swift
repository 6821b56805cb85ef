import Foundation
import Testing
import UnwindCore
import UnwindStore
import UnwindTesting

/// A step's `timeout`: the attempt that overruns it fails (retryably) and its slot is free again at once, while
/// attempts with later deadlines in the same worker are not disturbed.
@Suite("Attempt timeouts", .enabled(if: TestEnvironment.hasDatabase))
struct AttemptTimeoutTests {
    static let slowThenFast = """
        name: slow-then-fast
        inputs:
          test: {type: object}
        steps:
          - id: slow
            action: test.sleep
            timeout: 500ms
            retry: {max_attempts: 2, initial_interval: 10ms}
          - id: after
            action: test.noop
            after: [slow]
        """

    @Test func anAttemptThatOverrunsItsTimeoutFailsAndTheRetrySucceeds() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(Self.slowThenFast)
        // The first attempt sleeps a minute; the retry does not sleep.
        let id = try engine.submit(definition, input: script(["slow": ["sleep_ms": 60_000, "sleep_times": 1]]))
        // A workflow whose step has the default (long) timeout, running beside it in the same worker.
        let other = try engine.submit(try engine.definition("""
            name: beside
            steps:
              - {id: a, action: test.sleep}
            """))
        engine.startWorker(concurrency: 2)
        // Generous waits: a loaded test machine may be slow to schedule this test. Whether the minute-long attempt
        // was waited for is read from the database's own timestamps, not from the test's clock.
        try await engine.waitFor(id, in: ["succeeded"], timeout: 120)
        try await engine.waitFor(other, in: ["succeeded"], timeout: 120)
        let slowEvents = try engine.events(id).filter { $0.stepID == "slow" && $0.attempt == 1 }
        let attemptStarted = try #require(slowEvents.first { $0.kind == "attempt_started" })
        let attemptFailed = try #require(slowEvents.first { $0.kind == "attempt_failed" })
        #expect(attemptFailed.at.timeIntervalSince(attemptStarted.at) < 30, "the minute-long attempt was not waited for")

        let slow = try #require(try engine.store.steps(of: id).first { $0.stepID == "slow" })
        #expect(slow.attempt == 2)
        let failures = try engine.events(id).filter { $0.kind == "attempt_failed" }
        #expect(failures.count == 1)
        #expect(failures.first?.details?["code"] == "timeout")
        #expect(failures.first?.details?["retryable"] == true)
        #expect(try engine.kinds(other).filter { $0 == "attempt_failed" }.isEmpty, "the step beside it was not timed out")
    }

    @Test func anAttemptThatAlwaysOverrunsFailsTheStepWithTheTimeout() async throws {
        let engine = try EngineHarness()
        let definition = try engine.definition(Self.slowThenFast)
        let id = try engine.submit(definition, input: script(["slow": ["sleep_ms": 60_000]]))
        engine.startWorker(concurrency: 1)
        let record = try await engine.waitFor(id, in: ["failed", "compensated"])
        let slow = try #require(try engine.store.steps(of: id).first { $0.stepID == "slow" })
        #expect(slow.attempt == 2)
        #expect(slow.lastError?["code"] == "timeout")
        #expect(record.error != nil)
        #expect(try engine.store.steps(of: id).first { $0.stepID == "after" }?.attempt == 0, "its successor never ran")
    }
}
