import AsyncHTTPClient
import Foundation
import NIOCore
import Postgres
import Testing
import UnwindStore
import UnwindTesting

/// The real `unwind serve` binary: binds where told, reads the token from an owner-only file and never prints it,
/// and stops gracefully on SIGTERM.
@Suite("unwind serve", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct ServeCommandTests {
    /// An operator's own token must not leak into the server under test.
    static let tokenVariables: Set<String> = ["UNWIND_API_TOKEN", "UNWIND_API_TOKEN_FILE"]

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

        // A file of two lines can never match one Authorization header: refused rather than answering 401 to all.
        try "aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb\n".write(toFile: directory + "/two-lines", atomically: true, encoding: .utf8)
        chmod(directory + "/two-lines", 0o600)
        let twoLines = await runUnwind(["serve", "--database-url", database.url, "--port", "0"], environment: ["UNWIND_API_TOKEN_FILE": directory + "/two-lines"])
        #expect(twoLines.status == 64 && twoLines.stderr.contains("holds more than one line or word"), "\(twoLines.combined)")

        chmod(tokenFile, 0o600)
        // A host it cannot listen on: a usage error naming the flag, not a raw socket error.
        let badHost = await runUnwind(["serve", "--database-url", database.url, "--port", "0", "--host", "999.1.1.1"], environment: ["UNWIND_API_TOKEN_FILE": tokenFile])
        #expect(badHost.status == 64, "\(badHost.combined)")
        #expect(badHost.stderr.contains("--host '999.1.1.1': not an address this machine can listen on"), "\(badHost.combined)")
        let server = try UnwindProcess(
            command: "serve", databaseURL: database.url, arguments: ["--port", "0", "--grace", "5s", "--workflows-dir", directory],
            environment: ["UNWIND_API_TOKEN_FILE": tokenFile], removingEnvironment: Self.tokenVariables)
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
        let server = try UnwindProcess(
            command: "serve", databaseURL: database.url, arguments: ["--port", "0", "--workflows-dir", directory],
            environment: ["UNWIND_API_PUBLIC_READS": "true", "UNWIND_SERVE_HOST": "127.0.0.1"], removingEnvironment: Self.tokenVariables)
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

    @Test("a server started while the database is down waits for it, then serves")
    func waitsForTheDatabase() async throws {
        let cluster = try PrivateCluster()
        try Migrator.embedded().migrate(connection: try PostgresConnection(configuration: try PostgresConfiguration(cluster.url)))
        try cluster.stop()
        let directory = try TestEnvironment.makeScratchDirectory("serve-wait")
        let server = try UnwindProcess(
            command: "serve", databaseURL: cluster.url, arguments: ["--port", "0", "--workflows-dir", directory],
            environment: ["UNWIND_API_PUBLIC_READS": "true"], removingEnvironment: Self.tokenVariables)
        let deadline = Date().addingTimeInterval(30)
        while !server.log.contains("database unavailable; waiting and retrying with back-off"), Date() < deadline {
            var status: Int32 = 0
            if waitpid(server.pid, &status, WNOHANG) == server.pid {
                Issue.record("the server exited instead of waiting:\n\(server.log)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.log.contains("database unavailable; waiting and retrying with back-off"), "\(server.log)")
        try cluster.start()
        let base = "http://127.0.0.1:\(try await server.port())"
        #expect(try await Self.get(base + "/readyz") == 200)
        #expect(try await Self.get(base + "/api/v1/workflows") == 200)
        kill(server.pid, SIGTERM)
        #expect(try await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("bad configuration is one readable line and exit 64")
    func badConfiguration() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let short = await runUnwind(["serve", "--database-url", database.url], environment: ["UNWIND_API_TOKEN": "short"])
        #expect(short.status == 64)
        #expect(short.stderr.contains("shorter than 16 characters"))
        #expect(!short.combined.contains("short\n"))
        let blank = await runUnwind(["serve", "--database-url", database.url], environment: ["UNWIND_API_TOKEN": "   "])
        #expect(blank.status == 64 && blank.stderr.contains("UNWIND_API_TOKEN holds only blanks"), "\(blank.combined)")
        let port = await runUnwind(["serve", "--database-url", database.url], environment: ["UNWIND_SERVE_PORT": "eighty"])
        #expect(port.status == 64)
        #expect(port.stderr.contains("UNWIND_SERVE_PORT"))
        let flag = await runUnwind(["serve", "--database-url", database.url, "--port", "70000"])
        #expect(flag.status == 64)
    }
}

extension UnwindProcess {
    /// The port from `unwind serve`'s "listening on http://…:PORT" line.
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
}
