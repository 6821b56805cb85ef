import Foundation

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// A running `unwind worker` child process; its log goes to a file.
public typealias WorkerProcess = UnwindProcess

/// A running `unwind <command>` child process (worker, serve); stdout and stderr go to one log file.
public final class UnwindProcess: Sendable {
    public let pid: pid_t
    public let logPath: String
    private let command: String

    /// `unwind worker --database-url URL --log-level info ARGUMENTS`.
    public convenience init(databaseURL: String, arguments: [String] = [], environment extra: [String: String] = [:]) throws {
        try self.init(command: "worker", databaseURL: databaseURL, arguments: ["--log-level", "info"] + arguments, environment: extra)
    }

    /// `unwind COMMAND --database-url URL ARGUMENTS`, with `extra` set and `removed` unset in its environment.
    public init(
        command: String, databaseURL: String, arguments: [String], environment extra: [String: String] = [:],
        removingEnvironment removed: Set<String> = []
    ) throws {
        self.command = command
        logPath = TestEnvironment.workDirectory + "/\(command)-\(UUID().uuidString.prefix(8)).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        let executable = TestEnvironment.binDirectory + "/unwind"
        let argv = ([executable, command, "--database-url", databaseURL] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        var environment = ProcessInfo.processInfo.environment
        for key in removed { environment[key] = nil }
        for (key, value) in extra { environment[key] = value }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard status == 0 else { throw TestFailure(description: "cannot start unwind \(command): \(status)") }
        self.pid = pid
    }

    public func signal(_ number: Int32) { kill(pid, number) }

    /// Waits for the process to exit and returns its exit status (128+n for signal n).
    public func waitForExit(timeout: TimeInterval = 30) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                throw TestFailure(description: "unwind \(command) (pid \(pid)) did not exit within \(timeout)s; log: \(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

