import Foundation
import UnwindStore

extension WorkflowStore {
    /// Whether a worker that heartbeated within the last minute serves `queue`: what `submit --wait` and `status`
    /// check before saying that no worker will run a workflow's steps.
    func liveWorkerServes(queue: String) throws -> Bool {
        try workers().contains { $0.state == "running" && $0.queues.contains(queue) && Date().timeIntervalSince($0.heartbeatAt) < 60 }
    }
}
