import Foundation
import ProcessSpawning

/// A long-running child (a worker or the simulator) whose output goes to a log file.
///
/// The run kills children with SIGKILL and reaps them itself to tell "killed by us" from "crashed".
final class Child {
    let name: String
    let pid: pid_t
    let logPath: String
    private(set) var exit: Spawn.Exit?

    init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String) throws {
        do {
            pid = try Spawn.start(executable, arguments, environment: environment, output: .file(logPath, append: true))
        } catch {
            throw ChaosError(error.description)
        }
        self.name = name
        self.logPath = logPath
    }

    /// Reaps the child if it has exited; true while it runs.
    var isRunning: Bool {
        if exit != nil { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exit = Spawn.Exit(waitStatus: status)
            return false
        }
        return true
    }

    func signal(_ signal: Int32) { if exit == nil { kill(pid, signal) } }

    /// Waits for the child to exit, up to `timeout`; sends SIGKILL after that.
    @discardableResult
    func wait(timeout: Double) -> Spawn.Exit {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline {
                kill(pid, SIGKILL)
                exit = Spawn.Exit(waitStatus: Spawn.waitForExit(pid))
                break
            }
            usleep(20_000)
        }
        return exit!
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// Runs a program to completion and returns its exit status and combined output.
func runToCompletion(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
    let path = NSTemporaryDirectory() + "unwind-chaos-\(UUID().uuidString)"
    defer { unlink(path) }
    let child = try Child(name: executable, executable: executable, arguments: arguments, environment: environment, logPath: path)
    let exit = child.wait(timeout: 600)
    return (exit.code, child.log)
}

struct ChaosError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
