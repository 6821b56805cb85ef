import Foundation
import Postgres
import UnwindCore
import UnwindStore

/// Follows a workflow until it needs no more work (finished, or waiting for an operator), printing a line
/// whenever its progress changes: steps done / total, the current step and attempt, elapsed time.
struct WaitProgress {
    let store: WorkflowStore
    /// Standard output, or standard error when standard output carries a JSON document.
    var out: Terminal.Stream
    /// On a terminal the progress line is redrawn in place (coloured unless NO_COLOR is set); otherwise a
    /// plain line is printed whenever the progress changes.
    var interactive: Bool
    var color: Bool

    init(store: WorkflowStore, toStandardError: Bool = false) {
        self.store = store
        out = toStandardError ? Terminal.standardError : Terminal.standardOutput
        interactive = isatty(toStandardError ? STDERR_FILENO : STDOUT_FILENO) == 1
        color = interactive && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    private func paint(_ text: String, state: String) -> String {
        guard color else { return text }
        let code: String
        switch state {
        case "succeeded": code = "32"
        case "failed", "compensation_failed": code = "31"
        case "compensating", "compensated", "cancelled": code = "33"
        default: code = "36"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    func wait(for id: UUID) throws -> WorkflowState {
        let started = Date()
        var lastLine = ""
        var hinted = false
        var unreachableSince: Date?
        while true {
            let workflow: WorkflowRecord, steps: [StepRecord]
            do {
                (workflow, steps) = (try store.workflow(id), try store.steps(of: id))
                if unreachableSince != nil {
                    out.write((interactive ? "\r\u{1B}[2K" : "") + "note: the database is reachable again\n")
                    unreachableSince = nil
                }
            } catch let error as PostgresError where error.isConnectionLost || error.isServerUnavailable {
                // A database restart or failover: the workflow runs on in the workers; keep following it for a while.
                let since = unreachableSince ?? Date()
                if unreachableSince == nil {
                    out.write((interactive ? "\r\u{1B}[2K" : "") + "note: lost the database (\(error.message.prefix(120))); the workflow goes on in the workers; retrying\n")
                }
                unreachableSince = since
                guard Date().timeIntervalSince(since) < Self.unreachableLimit else {
                    throw CLIError(
                        description: "the database has been unreachable for \(Int(Self.unreachableLimit)) s: \(error.message)\nthe workflow was submitted and goes on in the workers; follow it later with: unwind status \(id.uuidString.lowercased().prefix(8))",
                        status: .databaseUnreachable)
                }
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            let state = WorkflowState(rawValue: workflow.state) ?? .running
            let done = steps.filter { $0.state == "succeeded" || $0.state == "skipped" }.count  // as `unwind list` counts them
            let current = steps.first { $0.state == "running" } ?? steps.first { $0.state == "ready" || $0.state == "waiting" }
            var line = "\(workflow.state)  \(done)/\(steps.count) steps"
            if let current {
                line += "  \(current.phase == "compensate" ? "compensating " : "")\(current.stepID) (\(current.state), attempt \(max(1, current.attempt - current.attemptBase)))"
            }
            let finished = state.isTerminal || state.needsAttention
            if interactive {
                let text = "[\(Self.elapsed(since: started))] " + paint(workflow.state, state: workflow.state) + String(line.dropFirst(workflow.state.count))
                out.write("\r\u{1B}[2K" + text + (finished ? "\n" : ""))
            } else if line != lastLine {
                out.write("[\(Self.elapsed(since: started))] \(line)\n")
                lastLine = line
            }
            // Nothing has started for a while: say so if no live worker serves the queue (a new user's first
            // `--wait` otherwise just sits there).
            if !hinted, state == .running, Date().timeIntervalSince(started) > 5,
               !steps.contains(where: { $0.attempt > 0 || $0.state == "running" }) {
                hinted = true
                if (try? store.liveWorkerServes(queue: workflow.queue)) == false {
                    out.write((interactive ? "\r\u{1B}[2K" : "") + "note: no live worker serves queue '\(workflow.queue)'; start one with: unwind worker --queues \(workflow.queue)\n")
                }
            }
            if finished {
                if let error = workflow.error, state != .succeeded {
                    out.write("error: \(error["message"]?.stringValue ?? error.canonicalJSON)\n")
                }
                if state.needsAttention {
                    out.write("next: unwind status \(id.uuidString.lowercased().prefix(8)), then unwind resume \(id.uuidString.lowercased().prefix(8)) --reason \"…\"\n")
                }
                return state
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// How long `--wait` rides out a database it cannot reach (a restart, a failover) before it gives up.
    static let unreachableLimit: TimeInterval = 120

    static func elapsed(since start: Date) -> String {
        let seconds = Int(Date().timeIntervalSince(start))
        return String(format: "%02d:%02d", seconds / 60, seconds % 60)
    }
}
