import Foundation
import Postgres

/// A child process the benchmark started (a worker, the simulator). Output goes to a log file.
final class ChildProcess {
    let pid: pid_t
    let logPath: String
    let name: String
    private(set) var exitStatus: Int32?

    private let registry: ChildRegistry

    init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String, registry: ChildRegistry) throws {
        self.name = name
        self.logPath = logPath
        self.registry = registry
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let status = spawnWithCleanSignals(&pid, executable, &actions, argv, envp)
        guard status == 0 else {
            throw BenchError("cannot start \(name) (\(executable)): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        do {
            try registry.admit(pid)
        } catch {
            exitStatus = 128 + SIGKILL
            throw error
        }
    }

    /// True while it runs; reaps it once it has exited.
    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid || (result < 0 && errno == ECHILD) {
            exitStatus = status
            registry.remove(pid)
            return false
        }
        return result == 0
    }

    func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    func stop(grace: Duration = .seconds(30)) {
        signal(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                exitStatus = status
                registry.remove(pid)
                return
            }
            usleep(10_000)
        }
    }

    func kill9() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exitStatus = status
        registry.remove(pid)
    }

    /// The last lines of its log, for error messages.
    var logTail: String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(8).joined(separator: "\n")
    }

    /// VmHWM (peak resident set) from /proc/PID/status, in bytes.
    var peakResidentBytes: UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }
            return digits.map { $0 * 1024 }
        }
        return nil
    }

    deinit {
        kill9()
    }
}

/// posix_spawn with an empty signal mask and default signal dispositions. The bench runs on threads that block
/// most signals, and a child inherits that mask: pgbench -T then never sees its SIGALRM and runs forever.
func spawnWithCleanSignals(
    _ pid: inout pid_t, _ executable: String, _ actions: inout posix_spawn_file_actions_t,
    _ argv: [UnsafeMutablePointer<CChar>?], _ envp: [UnsafeMutablePointer<CChar>?]
) -> Int32 {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    return posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
}

/// Runs a program to completion (pgbench, `unwind submit --fleet`), its output in a file rather than a pipe.
struct CommandResult {
    var status: Int32
    var output: String
    var seconds: Double
}

func runCommand(
    _ executable: String, _ arguments: [String], environment: [String: String], discardOutput: Bool = false, children: ChildRegistry
) throws -> CommandResult {
    let outputPath = NSTemporaryDirectory() + "unwind-bench-cmd-" + UUID().uuidString
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if discardOutput {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
    }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }
    let start = ContinuousClock.now
    var pid: pid_t = 0
    let spawned = spawnWithCleanSignals(&pid, executable, &actions, argv, envp)
    guard spawned == 0 else {
        throw BenchError("cannot run \(executable): \(String(cString: strerror(spawned)))")
    }
    try children.admit(pid)
    defer { children.remove(pid) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = ContinuousClock.now - start
    let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return CommandResult(
        status: exitStatus, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
        seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

extension PostgresConfiguration {
    /// A libpq conninfo string for a child process, without the password (that goes in PGPASSWORD, so it never
    /// shows in a process listing).
    var conninfoWithoutPassword: String {
        options.filter { $0.keyword != "password" }.map { option in
            let escaped = option.value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(option.keyword)='\(escaped)'"
        }.joined(separator: " ")
    }

    /// The environment libpq clients (pgbench, psql, child `unwind` processes) need besides the conninfo.
    var libpqEnvironment: [String: String] {
        var environment: [String: String] = [:]
        let mapping = ["host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE",
                       "password": "PGPASSWORD", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
                       "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"]
        for (keyword, variable) in mapping {
            if let value = self[keyword] { environment[variable] = value }
        }
        return environment
    }
}

/// Finds a program: an explicit path, else PATH, else the newest /usr/lib/postgresql/*/bin.
func locateProgram(_ name: String, explicit: String?) -> String? {
    if let explicit { return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
        return "\(directory)/\(name)"
    }
    let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
        .compactMap(Int.init).sorted(by: >)
    for version in versions where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/\(name)") {
        return "/usr/lib/postgresql/\(version)/bin/\(name)"
    }
    return nil
}
