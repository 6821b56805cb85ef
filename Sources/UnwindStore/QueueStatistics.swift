import Postgres
import UnwindCore

/// A snapshot of the work queue, for the `unwind_ready_steps`, `unwind_oldest_ready_step_age_seconds` and
/// `unwind_workflows` gauges.
public struct QueueStatistics: Sendable, Equatable {
    /// Steps that could be claimed now, on all queues.
    public var readySteps: Int
    /// Seconds since the longest-waiting claimable step became due; 0 when there is none.
    public var oldestReadyAgeSeconds: Double
    /// Workflows by state; every state appears, with 0 when there is none, so a gauge drops back to zero.
    public var workflowsByState: [String: Int]

    public init(readySteps: Int, oldestReadyAgeSeconds: Double, workflowsByState: [String: Int]) {
        self.readySteps = readySteps
        self.oldestReadyAgeSeconds = oldestReadyAgeSeconds
        self.workflowsByState = workflowsByState
    }

    /// Reads the snapshot on `connection` (two small aggregate queries, no transaction needed).
    public static func read(on connection: PostgresConnection) throws -> QueueStatistics {
        let depth = try connection.query(SQL.Observability.queueDepth.text, name: SQL.Observability.queueDepth.name).first
        var byState = Dictionary(uniqueKeysWithValues: WorkflowState.allCases.map { ($0.rawValue, 0) })
        for row in try connection.query(SQL.Observability.workflowsByState.text, name: SQL.Observability.workflowsByState.name).rows {
            byState[try row.decode("state", as: String.self)] = try row.decode("count", as: Int.self)
        }
        return QueueStatistics(
            readySteps: try depth?.decode("ready", as: Int.self) ?? 0,
            oldestReadyAgeSeconds: max(0, try depth?.decode("oldest_age_seconds", as: Double.self) ?? 0),
            workflowsByState: byState)
    }
}
