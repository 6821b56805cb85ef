@testable import SecMasterTeardown
import Testing
import UnwindCore
import UnwindEngine

/// What a teardown step saved is what its retries, its durable waits and its compensation go on from: a
/// checkpoint that cannot be read is refused, never taken for a fresh start.
@Suite struct CheckpointStateTests {
    @Test func aMissingCheckpointStartsFresh() throws {
        let state = try StepContext.state(from: nil, fresh: TeardownActions.AutoRenewState(), stepID: "disable-auto-renew", phase: .forward)
        #expect(state.turnedOff.isEmpty)
        #expect(try StepContext.state(from: .null, fresh: TeardownActions.AutoRenewState(), stepID: "s", phase: .forward).turnedOff.isEmpty)
    }

    @Test func aSavedCheckpointIsReadBack() throws {
        let saved: JSONValue = ["turnedOff": ["sm-quota-1"], "restored": []]
        let state = try StepContext.state(from: saved, fresh: TeardownActions.AutoRenewState(), stepID: "s", phase: .compensate)
        #expect(state.turnedOff == ["sm-quota-1"])
    }

    /// Read as fresh, the compensation turned nothing back on and reported success: the customer's subscriptions
    /// then ran out.
    @Test func aDamagedCheckpointIsRefusedNotTakenAsFresh() {
        let damaged: JSONValue = ["turnedOff": "sm-quota-1", "asked": ["x": 1]]
        #expect {
            try StepContext.state(from: damaged, fresh: TeardownActions.AutoRenewState(), stepID: "disable-auto-renew", phase: .compensate)
        } throws: { error in
            guard let failure = error as? StepFailure else { return false }
            return failure.code == "checkpoint_unreadable" && !failure.retryable
                && failure.message.contains("disable-auto-renew") && failure.message.contains("unwind history")
        }
    }
}
