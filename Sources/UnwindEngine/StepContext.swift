import Dispatch
import Foundation
import Logging
import Postgres
import UnwindCore
import UnwindStore

/// Everything an action gets for one attempt.
public struct StepContext: Sendable {
    public let workflowID: UUID
    public let workflowName: String
    public let stepID: String
    /// `.compensate` when this is the step's compensation running.
    public let phase: StepPhase
    /// The workflow's validated input.
    public let input: [String: JSONValue]
    /// Outputs of steps that completed earlier, by step id.
    public let outputs: [String: JSONValue]
    /// The last checkpoint this step saved (from an earlier attempt, a durable wait, or this attempt).
    public let checkpoint: JSONValue?
    /// 1-based attempt number within the current retry budget.
    public let attempt: Int
    public let maxAttempts: Int
    /// When this attempt times out.
    public let deadline: Date
    /// Stable for this step (and phase) across retries and workers: pass it to APIs that accept client
    /// tokens, or use it to recognise work already done.
    public let idempotencyKey: String
    /// A logger carrying `workflow.id`, `step.id`, `step.attempt` and `worker.id` metadata.
    public let logger: Logger
    let recorder: any CheckpointRecorder

    /// Saves `value` as this step's checkpoint, durably, before returning (e.g. "3 of 5 servers released,
    /// job ids …"). With `irreversible`, records that the step made a change that cannot be undone: for the
    /// pivot, the workflow is then past its point of no return even if the step later fails.
    /// Throws ``LeaseLost`` when this worker no longer owns the step; the action should stop.
    public func saveCheckpoint(_ value: JSONValue, irreversible: Bool = false) async throws {
        try await recorder.save(checkpoint: value, irreversible: irreversible)
    }

    /// Whether the workflow has stopped going forward since this attempt began: an operator cancelled it, or a
    /// failure elsewhere started its compensation. The attempt still runs to its end (its outcome decides what
    /// is compensated), but a step about to make a *new* change (say, asking again after a lost answer) can ask
    /// first and fail instead, so that the compensation goes on. Always false in a plan.
    public func workflowIsStopping() async throws -> Bool {
        try await recorder.workflowIsStopping()
    }

    /// Extends this attempt's lease now (the worker also does it periodically for every running step).
    public func heartbeat() async throws {
        try await recorder.heartbeat()
    }
}

/// Thrown to an action when its worker lost the lease on the step (it expired and someone else took it).
public struct LeaseLost: Error, CustomStringConvertible {
    public var description: String { "this worker no longer holds the step's lease; another worker took it over" }
}

protocol CheckpointRecorder: Sendable {
    func save(checkpoint: JSONValue, irreversible: Bool) async throws
    func heartbeat() async throws
    func workflowIsStopping() async throws -> Bool
}

/// Writes checkpoints and heartbeats for one claimed attempt, fenced by its token. The blocking database
/// call runs on a Dispatch queue, never on Swift's cooperative thread pool.
struct StoreCheckpointRecorder: CheckpointRecorder {
    let store: WorkflowStore
    let claimed: ClaimedStep
    let workerID: String
    let leaseSeconds: Double
    let queue: DispatchQueue

    func save(checkpoint: JSONValue, irreversible: Bool) async throws {
        let saved = try await waitingOutOutages {
            try store.saveCheckpoint(
                workflowID: claimed.workflowID, stepID: claimed.stepID, fencingToken: claimed.fencingToken,
                checkpoint: checkpoint, irreversible: irreversible, leaseSeconds: leaseSeconds, workerID: workerID)
        }
        if !saved { throw LeaseLost() }
    }

    func heartbeat() async throws {
        let lost = try await waitingOutOutages {
            try store.extendLeases([(claimed.workflowID, claimed.stepID, claimed.fencingToken)], leaseSeconds: leaseSeconds)
        }
        if !lost.isEmpty { throw LeaseLost() }
    }

    func workflowIsStopping() async throws -> Bool {
        try await waitingOutOutages { try store.workflowIsStopping(claimed.workflowID) }
    }

    /// A database that restarts or fails over while an attempt runs must not cost the attempt what it has done in
    /// the cloud (a checkpoint holding an order ID): the call is tried again until the database answers or the
    /// lease runs out. Each call is safe to repeat: a save is fenced by the attempt's token and overwrites the
    /// same checkpoint; once the lease is over, a save finds the step taken over and the attempt ends.
    private func waitingOutOutages<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let deadline = Date().addingTimeInterval(leaseSeconds)
        var pause = Duration.milliseconds(100)
        while true {
            do {
                return try await onQueue(body)
            } catch let error as PostgresError where (error.isConnectionLost || error.isServerUnavailable) && Date() < deadline {
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            }
        }
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
