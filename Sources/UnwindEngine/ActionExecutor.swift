import Dispatch

/// The executor step actions run on: a Dispatch queue of the worker's own, not Swift's shared cooperative
/// pool, so that other code in the process blocking cooperative threads (a test runner, a library) can never
/// stall a worker's actions, and actions cannot starve the rest of the process.
final class ActionExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, attributes: .concurrent)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { [self] in
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
