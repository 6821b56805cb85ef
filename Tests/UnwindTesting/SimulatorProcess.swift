import Foundation

/// A running `unwind-cloudsim` child process on a free loopback port, with its admin API at hand.
public final class SimulatorProcess: Sendable {
    public let pid: pid_t
    public let url: String
    public let logPath: String

    /// Starts the simulator with `seed` (a path) and extra arguments.
    public init(seed: String, arguments: [String] = []) throws {
        let directory = try TestEnvironment.makeScratchDirectory("sim")
        let outPath = directory + "/stdout"
        logPath = directory + "/stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let executable = TestEnvironment.binDirectory + "/unwind-cloudsim"
        let argv = ([executable, "--seed", seed, "--port", "0", "--log-level", "warning"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else {
            throw TestFailure(description: "cannot start \(executable)")
        }
        self.pid = pid
        let deadline = Date().addingTimeInterval(20)
        var found: String?
        while found == nil && Date() < deadline {
            if let text = try? String(contentsOfFile: outPath, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                found = String(line.dropFirst("listening on ".count))
            } else {
                usleep(50_000)
            }
        }
        guard let found else {
            kill(pid, SIGKILL)
            throw TestFailure(description: "the simulator did not start: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
        url = found
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Calls the admin API (`/_sim/...`) and returns the decoded JSON.
    @discardableResult
    public func admin(_ method: String, _ path: String, body: Any? = nil) throws -> Any {
        var arguments = ["-s", "-X", method, url + path, "-H", "Content-Type: application/json"]
        if let body {
            arguments += ["--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)]
        }
        let result = runCommand("/usr/bin/curl", arguments)
        guard result.status == 0 else { throw TestFailure(description: "curl \(method) \(path): \(result.combined)") }
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])) ?? result.stdout
    }

    /// The ledger entries of one account (by name or domain id).
    public func ledger(account: String) throws -> [[String: Any]] {
        let ledger = try admin("GET", "/_sim/ledger?account=\(account)") as? [String: Any]
        return ledger?["entries"] as? [[String: Any]] ?? []
    }

    /// `(resource_id, action)` pairs whose effect changed something more than once: must be empty.
    public func changedTwice(account: String) throws -> [String] {
        var counts: [String: Int] = [:]
        for entry in try ledger(account: account) {
            for effect in entry["effects"] as? [[String: Any]] ?? [] where effect["changed"] as? Bool == true {
                counts["\(effect["resource_id"] ?? "")/\(effect["action"] ?? "")", default: 0] += 1
            }
        }
        return counts.filter { $0.value > 1 }.map(\.key).sorted()
    }
}
