import Foundation

/// Runs blocking work (waiting for a child process, initdb, pg_ctl, socket reads) on a Dispatch thread.
///
/// Swift Testing runs every test of the process on Swift's cooperative pool, which has one thread per core: on a
/// 2-core CI machine two tests blocked in `waitpid` stall every other test, and the async HTTP tests then time
/// out for no reason of their own. Blocking work goes through here so the pool stays free.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// ``offThePool(_:)`` for work that cannot throw.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}

/// ``runCommand(_:_:environment:removingEnvironment:)`` from async code: the wait happens off the cooperative pool.
public func runCommand(
    _ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
    removingEnvironment removed: Set<String> = []
) async -> CommandOutput {
    await offThePool { runCommand(executable, arguments, environment: extra, removingEnvironment: removed) as CommandOutput }
}

/// ``runUnwind(_:environment:)`` from async code: the wait happens off the cooperative pool.
public func runUnwind(_ arguments: [String], environment: [String: String] = [:]) async -> CommandOutput {
    await offThePool { runUnwind(arguments, environment: environment) as CommandOutput }
}
