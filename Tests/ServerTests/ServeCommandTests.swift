import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import UnwindTesting

/// The real `unwind serve` binary: binds where told, reads the token from an owner-only file and never prints it,
/// and stops gracefully on SIGTERM.
@Suite("unwind serve", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct ServeCommandTests {
    /// A running `unwind serve`; stdout and stderr go to one log file.
    final class ServeProcess: Sendable {
        let pid: pid_t
        let logPath: String

        init(databaseURL: String, arguments: [String], environment extra: [String: String]) throws {
            logPath = TestEnvironment.workDirectory + "/serve-\(UUID().uuidString.prefix(8)).log"
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            let executable = TestEnvironment.binDirectory + "/unwind"
            let argv = ([executable, "serve", "--database-url", databaseURL] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var environment = ProcessInfo.processInfo.environment
            environment["UNWIND_API_TOKEN"] = nil
            environment["UNWIND_API_TOKEN_FILE"] = nil
            for (key, value) in extra { environment[key] = value }
            let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { envp.forEach { free($0) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, executable, &actions, nil, argv, envp) == 0 else { throw TestFailure(description: "cannot start unwind serve") }
            self.pid = pid
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        /// The port from the "listening on http://…:PORT" line.
        func port(timeout: TimeInterval = 30) async throws -> Int {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }),
                   let port = line.split(separator: ":").last.flatMap({ Int($0) }) {
                    return port
                }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { throw TestFailure(description: "unwind serve exited: \(log)") }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw TestFailure(description: "unwind serve did not report its port: \(log)")
        }

        func waitForExit(timeout: TimeInterval = 30) async throws -> Int32 {
            let deadline = Date().addingTimeInterval(timeout)
            var status: Int32 = 0
            while waitpid(pid, &status, WNOHANG) == 0 {
                if Date() > deadline {
                    kill(pid, SIGKILL)
                    throw TestFailure(description: "unwind serve did not exit: \(log)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }

        deinit {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, WNOHANG)
        }
    }

    static func get(_ url: String, token: String? = nil) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    @Test("token from an owner-only file; loopback by default; SIGTERM stops it with exit 0")
    func serveLifecycle() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let directory = try TestEnvironment.makeScratchDirectory("serve")
        let token = "serve-token-" + UUID().uuidString.lowercased()
        let tokenFile = directory + "/api-token"
        try (token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)

        // Readable by others: refused with the fix, before binding anything.
        chmod(tokenFile, 0o644)
        let refused = await runUnwind(["serve", "--database-url", database.url, "--port", "0"], environment: ["UNWIND_API_TOKEN_FILE": tokenFile])
        #expect(refused.status == 64, "\(refused.combined)")
        #expect(refused.stderr.contains("chmod 600"))
        #expect(!refused.combined.contains(token))

        chmod(tokenFile, 0o600)
        let server = try ServeProcess(
            databaseURL: database.url, arguments: ["--port", "0", "--grace", "5s", "--workflows-dir", directory],
            environment: ["UNWIND_API_TOKEN_FILE": tokenFile])
        let port = try await server.port()
        #expect(server.log.contains("listening on http://127.0.0.1:\(port)"))
        let base = "http://127.0.0.1:\(port)"
        #expect(try await Self.get(base + "/healthz") == 200)
        #expect(try await Self.get(base + "/readyz") == 200)
        #expect(try await Self.get(base + "/api/v1/workflows") == 401)
        #expect(try await Self.get(base + "/api/v1/workflows", token: token) == 200)
        #expect(try await Self.get(base + "/", token: nil) == 200)

        kill(server.pid, SIGTERM)
        #expect(try await server.waitForExit() == 0, "\(server.log)")
        #expect(!server.log.contains(token), "the token never appears in the log")
        #expect(server.log.contains("http request"), "requests are logged (method, path, status)")
    }

    @Test("UNWIND_API_PUBLIC_READS opens reads, not writes; without a token writes answer 403")
    func publicReadsFromEnvironment() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let directory = try TestEnvironment.makeScratchDirectory("serve-public")
        let server = try ServeProcess(
            databaseURL: database.url, arguments: ["--port", "0", "--workflows-dir", directory],
            environment: ["UNWIND_API_PUBLIC_READS": "true", "UNWIND_SERVE_HOST": "127.0.0.1"])
        let base = "http://127.0.0.1:\(try await server.port())"
        #expect(try await Self.get(base + "/api/v1/workflows") == 200)
        #expect(try await Self.get(base + "/api/v1/counts") == 200)
        var submit = HTTPClientRequest(url: base + "/api/v1/workflows")
        submit.method = .POST
        submit.headers.add(name: "Content-Type", value: "application/json")
        submit.body = .bytes(ByteBuffer(string: #"{"workflow": "saga"}"#))
        let response = try await HTTPClient.shared.execute(submit, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(response.status.code == 403)
        #expect(body.contains("no_token_configured"))
        #expect(server.log.contains("no API token configured"), "the operator is warned at start")
        kill(server.pid, SIGINT)
        #expect(try await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("bad configuration is one readable line and exit 64")
    func badConfiguration() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let short = await runUnwind(["serve", "--database-url", database.url], environment: ["UNWIND_API_TOKEN": "short"])
        #expect(short.status == 64)
        #expect(short.stderr.contains("shorter than 16 characters"))
        #expect(!short.combined.contains("short\n"))
        let port = await runUnwind(["serve", "--database-url", database.url], environment: ["UNWIND_SERVE_PORT": "eighty"])
        #expect(port.status == 64)
        #expect(port.stderr.contains("UNWIND_SERVE_PORT"))
        let flag = await runUnwind(["serve", "--database-url", database.url, "--port", "70000"])
        #expect(flag.status == 64)
    }
}
