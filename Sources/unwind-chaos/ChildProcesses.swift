import Foundation

/// A long-running child (a worker or the simulator) whose output goes to a log file.
///
/// `posix_spawn` and `waitpid` rather than Foundation's `Process`: the run kills children with SIGKILL and
/// must reap them itself to tell "killed by us" from "crashed".
final class Child {
    let name: String
    let pid: pid_t
    let logPath: String
    private(set) var exit: Exit?

    enum Exit: Equatable, CustomStringConvertible {
        case status(Int32)
        case signal(Int32)

        var description: String {
            switch self {
            case .status(let code): "exit status \(code)"
            case .signal(let signal): "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            }
        }
    }

    init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw ChaosError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.name = name
        self.pid = pid
        self.logPath = logPath
    }

    /// Reaps the child if it has exited; true while it runs.
    var isRunning: Bool {
        if exit != nil { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exit = Self.decode(status)
            return false
        }
        return true
    }

    func signal(_ signal: Int32) { if exit == nil { kill(pid, signal) } }

    /// Waits for the child to exit, up to `timeout`; sends SIGKILL after that.
    @discardableResult
    func wait(timeout: Double) -> Exit {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                exit = Self.decode(status)
                break
            }
            usleep(20_000)
        }
        return exit!
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    private static func decode(_ status: Int32) -> Exit {
        // WIFEXITED / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .status((status >> 8) & 0xff) : .signal(signal)
    }
}

/// Runs a program to completion and returns its exit status and combined output.
func runToCompletion(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
    let path = NSTemporaryDirectory() + "unwind-chaos-\(UUID().uuidString)"
    defer { unlink(path) }
    let child = try Child(name: executable, executable: executable, arguments: arguments, environment: environment, logPath: path)
    let exit = child.wait(timeout: 600)
    let output = child.log
    switch exit {
    case .status(let code): return (code, output)
    case .signal(let signal): return (128 + signal, output)
    }
}

struct ChaosError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
