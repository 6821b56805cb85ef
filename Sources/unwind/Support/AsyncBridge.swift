import Dispatch
import Synchronization

/// Runs `body` on the concurrency runtime and blocks the calling (main) thread until it is done.
///
/// ArgumentParser commands here are synchronous, while the services (`unwind serve`, the worker's service group)
/// are async: the main thread waits while they run on the concurrency pool.
func runAsyncBlocking(_ body: @escaping @Sendable () async throws -> Void) throws {
    let result = Mutex<Result<Void, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            try await body()
            result.withLock { $0 = .success(()) }
        } catch {
            result.withLock { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    try result.withLock { $0 }?.get()
}
