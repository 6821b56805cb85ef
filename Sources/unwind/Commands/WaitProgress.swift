import Foundation
import UnwindCore
import UnwindStore

/// Follows a workflow until it needs no more work (finished, or waiting for an operator), printing a line
/// whenever its progress changes: steps done / total, the current step and attempt, elapsed time.
struct WaitProgress {
    let store: WorkflowStore

    func wait(for id: UUID) throws -> WorkflowState {
        let started = Date()
        var lastLine = ""
        while true {
            let workflow = try store.workflow(id)
            let steps = try store.steps(of: id)
            let state = WorkflowState(rawValue: workflow.state) ?? .running
            let done = steps.filter { $0.state == "succeeded" || $0.state == "skipped" || $0.state == "compensated" }.count
            let current = steps.first { $0.state == "running" } ?? steps.first { $0.state == "ready" || $0.state == "waiting" }
            var line = "\(workflow.state)  \(done)/\(steps.count) steps"
            if let current {
                line += "  \(current.phase == "compensate" ? "compensating " : "")\(current.stepID) (\(current.state), attempt \(max(1, current.attempt - current.attemptBase)))"
            }
            if line != lastLine {
                Terminal.standardOutput.write("[\(Self.elapsed(since: started))] \(line)\n")
                lastLine = line
            }
            if state.isTerminal || state.needsAttention {
                if let error = workflow.error, state != .succeeded {
                    Terminal.standardOutput.write("error: \(error["message"]?.stringValue ?? error.canonicalJSON)\n")
                }
                if state.needsAttention {
                    Terminal.standardOutput.write("next: unwind status \(id.uuidString.lowercased().prefix(8)), then unwind resume \(id.uuidString.lowercased().prefix(8)) --reason \"…\"\n")
                }
                return state
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    static func elapsed(since start: Date) -> String {
        let seconds = Int(Date().timeIntervalSince(start))
        return String(format: "%02d:%02d", seconds / 60, seconds % 60)
    }
}
