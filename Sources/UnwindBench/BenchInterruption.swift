import Foundation
import Logging
import Postgres
import Synchronization

/// The processes a benchmark run started (workers, the simulator, pgbench, `unwind submit`), so that an
/// interrupted run can stop every one of them.
final class ChildRegistry: Sendable {
    private struct State {
        var running: Set<pid_t> = []
        var closed = false
    }
    private let state = Mutex(State())

    /// Records a started child. Once the run was interrupted, kills and reaps it instead and throws.
    func admit(_ pid: pid_t) throws(BenchError) {
        let admitted = state.withLock { state in
            guard !state.closed else { return false }
            state.running.insert(pid)
            return true
        }
        guard admitted else {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
            throw BenchError("interrupted")
        }
    }

    func remove(_ pid: pid_t) {
        _ = state.withLock { $0.running.remove(pid) }
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Refuses new children from now on and returns those still running.
    func close() -> Set<pid_t> {
        state.withLock { state in
            state.closed = true
            return state.running
        }
    }
}

/// Stops an interrupted benchmark from another thread (a SIGINT or SIGTERM handler): every child gets SIGTERM
/// (SIGKILL after `grace`), the scratch database is dropped and the scratch files are removed unless kept.
/// Without this, Ctrl-C left the workers running against a scratch database nobody would drop.
public struct BenchInterrupter: Sendable {
    let children: ChildRegistry
    let adminConfiguration: PostgresConfiguration
    let databaseName: String
    let workDirectory: String
    let keepFiles: Bool
    let logger: Logger

    /// Once an interruption began, the run's own thread must not finish first (it would exit with the failures
    /// the interruption caused, before the scratch database is dropped): it parks here until the handler exits.
    public func parkIfInterrupted() {
        guard children.isClosed else { return }
        while true { sleep(60) }
    }

    /// Returns what was done, for the message before exiting.
    public func stopEverything(grace: Duration = .seconds(10)) -> String {
        let pids = children.close()
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        var left = pids
        while !left.isEmpty {
            // The run's own thread may reap a child first (ECHILD): gone either way.
            left = left.filter { kill($0, 0) == 0 && waitpid($0, nil, WNOHANG) == 0 }
            if left.isEmpty { break }
            if ContinuousClock.now > deadline {
                for pid in left { kill(pid, SIGKILL) }
                for pid in left { waitpid(pid, nil, 0) }
                break
            }
            usleep(20_000)
        }
        let dropped = removeScratch()
            ? "dropped the scratch database \(databaseName)"
            : "the scratch database \(databaseName) could not be dropped (drop it by hand: DROP DATABASE \(databaseName))"
        return "stopped \(pids.count) child process\(pids.count == 1 ? "" : "es"), \(dropped)"
    }

    /// Drops the scratch database (ending its sessions first) and removes the scratch files unless kept: the end of
    /// every run, interrupted or not. False when the database could not be dropped.
    @discardableResult
    func removeScratch() -> Bool {
        var dropped = false
        if let admin = try? PostgresConnection(configuration: adminConfiguration, logger: logger) {
            _ = try? admin.query(BenchSQL.terminateSessions, [databaseName])
            dropped = (try? admin.executeScript(BenchSQL.dropDatabase(databaseName), name: "bench_drop_database")) != nil
        }
        if !keepFiles { try? FileManager.default.removeItem(atPath: workDirectory) }
        return dropped
    }
}
