import Foundation
import Postgres
import UnwindCore

extension WorkflowStore {
    /// How many workflows are in each state (every state present, zero when none), optionally of one definition.
    public func countsByState(workflow: String? = nil) throws -> [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: WorkflowState.allCases.map { ($0.rawValue, 0) })
        try pool.withConnection { connection in
            for row in try connection.query(SQL.API.workflowCounts.text, [workflow], name: SQL.API.workflowCounts.name).rows {
                counts[try row.decode("state", as: String.self)] = try row.decode("workflows", as: Int.self)
            }
        }
        return counts
    }
}

extension StepRecord {
    /// How far an unfinished step got, as its action last checkpointed it (e.g. "collection ECS 2/3 released");
    /// shown by `unwind status` and the dashboard. Nil once the step succeeded or when the action says nothing.
    public var progressNote: String? {
        guard state != "succeeded", let note = checkpoint?["progress"]?.stringValue, !note.isEmpty else { return nil }
        return note
    }
}
