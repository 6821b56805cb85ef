import Foundation
import Postgres
import ProcessSpawning

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
        let pid: pid_t
        do {
            pid = try Spawn.start(executable, arguments, environment: environment, output: .file(logPath, append: false))
        } catch {
            throw BenchError("cannot start \(name) (\(executable)): \(String(cString: strerror(error.errorNumber)))")
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
    let start = ContinuousClock.now
    let pid: pid_t
    do {
        pid = try Spawn.start(
            executable, arguments, environment: environment,
            output: discardOutput ? .null : .file(outputPath, append: false),
            error: discardOutput ? .file(outputPath, append: false) : .standardOutput)
    } catch {
        throw BenchError(error.description)
    }
    try children.admit(pid)
    defer { children.remove(pid) }
    let exit = Spawn.Exit(waitStatus: Spawn.waitForExit(pid))
    let elapsed = ContinuousClock.now - start
    return CommandResult(
        status: exit.code, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
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
