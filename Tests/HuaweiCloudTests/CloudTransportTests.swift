import Foundation
@testable import HuaweiCloud
import ProcessSpawning
import Testing

/// Reaching the cloud from a corporate network: a proxy from the environment, a CA of one's own, and what an
/// untrusted certificate says.
@Suite("Cloud transport")
struct CloudTransportTests {
    @Test func proxiesAndCAsComeFromTheEnvironment() throws {
        #expect(try CloudTransport.fromEnvironment([:]) == CloudTransport())
        #expect(try CloudTransport.fromEnvironment(["HTTPS_PROXY": "http://proxy.corp:3128"]).proxy == .http(host: "proxy.corp", port: 3128, user: nil, password: nil))
        #expect(try CloudTransport.fromEnvironment(["https_proxy": "proxy.corp:8080"]).proxy == .http(host: "proxy.corp", port: 8080, user: nil, password: nil))
        #expect(try CloudTransport.fromEnvironment(["HTTPS_PROXY": "http://me:p%40ss@proxy.corp:3128"]).proxy == .http(host: "proxy.corp", port: 3128, user: "me", password: "p@ss"))
        #expect(try CloudTransport.fromEnvironment(["HTTPS_PROXY": "socks5://127.0.0.1:1080"]).proxy == .socks5(host: "127.0.0.1", port: 1080))
        // A password that makes the URL unparseable (an unencoded #, a blank) is not shown either.
        for value in ["http://user:pa#S3CRET@proxy:80", "http://us er:S3C\"RET@pro xy:80"] {
            #expect {
                try CloudTransport.fromEnvironment(["HTTPS_PROXY": value])
            } throws: { error in
                "\(error)".contains("is not a proxy URL") && !"\(error)".contains("S3C")
            }
        }
        // Credentials for a SOCKS proxy would be dropped on the floor: refused, and the password not shown.
        #expect {
            try CloudTransport.fromEnvironment(["HTTPS_PROXY": "socks5://ops:s3cret-word@127.0.0.1:1080"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("not supported") && text.contains("ops:***@") && !text.contains("s3cret-word")
        }
        // An http:// endpoint (the simulator) goes through HTTP_PROXY, not HTTPS_PROXY; NO_PROXY names hosts that bypass.
        #expect(try CloudTransport.fromEnvironment(["HTTPS_PROXY": "http://p:1", "UNWIND_CLOUD_ENDPOINT": "http://127.0.0.1:8080"]).proxy == nil)
        #expect(try CloudTransport.fromEnvironment(["HTTP_PROXY": "http://p:1", "UNWIND_CLOUD_ENDPOINT": "http://sim.local:8080"]).proxy != nil)
        #expect(try CloudTransport.fromEnvironment(["HTTP_PROXY": "http://p:1", "NO_PROXY": "localhost,.local", "UNWIND_CLOUD_ENDPOINT": "http://sim.local:8080"]).proxy == nil)
        #expect(try CloudTransport.fromEnvironment(["HTTPS_PROXY": "http://p:1", "no_proxy": ".myhuaweicloud.com"]).proxy == nil)
        #expect(try CloudTransport.fromEnvironment(["HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"]).proxy == nil)
    }

    @Test func unusableSettingsAreRefusedWithTheirFix() throws {
        let https = #expect(throws: CloudTransport.SettingError.self) { try CloudTransport.fromEnvironment(["HTTPS_PROXY": "https://u:secret@proxy:443"]) }
        #expect(https?.description.contains("only http:// and socks5://") == true)
        #expect(https?.description.contains("secret") == false, "the proxy's password is not repeated")
        let missing = #expect(throws: CloudTransport.SettingError.self) { try CloudTransport.fromEnvironment(["UNWIND_CLOUD_CA_FILE": "/nonexistent/ca.pem"]) }
        #expect(missing?.description.contains("cannot be read") == true)
        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-ca-\(UUID().uuidString).pem").path
        try "hello".write(toFile: notPEM, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: notPEM) }
        let garbage = #expect(throws: CloudTransport.SettingError.self) { try CloudTransport.fromEnvironment(["UNWIND_CLOUD_CA_FILE": notPEM]) }
        #expect(garbage?.description.contains("holds no PEM certificate") == true)
    }

    /// Calls go through the proxy: an http:// endpoint nobody listens on is reached through a proxy that answers.
    @Test func callsGoThroughTheProxy() async throws {
        let answer = RawHTTPServer.response(status: "200 OK", headers: [("Content-Type", "application/json")], body: #"{"workspaces":[{"id":"w","name":"n"}],"count":1}"#)
        try await RawHTTPServer.with({ _ in .bytes(answer, close: false) }) { proxy in
            let pool = CloudConnectionPool(connectionsPerHost: 8, transport: CloudTransport(proxy: .http(host: "127.0.0.1", port: proxy.port, user: "me", password: "pw")))
            let endpoints = try CloudEndpoints(region: "cn-north-4", override: "http://cloud.invalid:9")
            let client = HuaweiCloudClient(endpoints: endpoints, credentials: TestSupport.credentials, httpClient: pool.httpClient,
                                           timeout: .seconds(60), logger: TestSupport.quietLogger)
            let workspaces = try await client.listWorkspaces(projectID: "p1")
            try await pool.shutdown()
            #expect(workspaces == [SecMasterWorkspace(id: "w", name: "n")])
            let head = try #require(proxy.requests.first?.head)
            // AsyncHTTPClient tunnels every request through the proxy (CONNECT), http:// targets included.
            #expect(head.hasPrefix("CONNECT cloud.invalid:9 HTTP/1.1"), "\(head)")
            #expect(head.lowercased().contains("proxy-authorization: basic bwu6chc="), "\(head)")
        }
    }

    /// A TLS server whose certificate no trusted CA signed: the error says so and how to trust it, and does not
    /// retry (it would fail the same way); with `UNWIND_CLOUD_CA_FILE` naming the CA, the handshake succeeds.
    @Test func anUntrustedCertificateIsPermanentAndACAFileTrustsIt() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unwind-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                           "-addext", "subjectAltName=DNS:localhost", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"])
        let port = Int.random(in: 20_000..<40_000)
        // Spawned with a clean signal mask: a child of the test process (Foundation's Process) inherits blocked
        // signals and never dies of the SIGTERM meant to stop it.
        let server = try Spawn.start("/usr/bin/openssl", ["s_server", "-quiet", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/cert.pem",
                                                          "-key", directory + "/key.pem", "-www"], output: .null, error: .null)
        defer { kill(server, SIGKILL); _ = Spawn.waitForExit(server) }
        let endpoints = try CloudEndpoints(region: "cn-north-4", override: "https://localhost:\(port)")
        func call(_ transport: CloudTransport) async throws -> CloudError? {
            let pool = CloudConnectionPool(connectionsPerHost: 8, transport: transport)
            let client = HuaweiCloudClient(endpoints: endpoints, credentials: TestSupport.credentials, httpClient: pool.httpClient,
                                           timeout: .seconds(60), logger: TestSupport.quietLogger)
            // Until the server listens (it starts in the background), a refused connection; then the real answer.
            var error: CloudError?
            for _ in 0..<200 {
                error = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") }
                guard error?.message.contains("connection refused") == true else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await pool.shutdown()
            return error
        }
        let untrusted = try #require(try await call(CloudTransport()))
        #expect(untrusted.message.contains("is not trusted"), "\(untrusted.message)")
        #expect(untrusted.classification == .permanent && untrusted.hint?.contains("UNWIND_CLOUD_CA_FILE") == true)
        // Trusted: the handshake passes and the server's HTML page (`-www`) is what fails the call.
        let trusted = try await call(try CloudTransport.fromEnvironment(["UNWIND_CLOUD_CA_FILE": directory + "/cert.pem"]))
        #expect(trusted.map { !$0.message.contains("TLS") } ?? true, "\(String(describing: trusted))")
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let pid = try Spawn.start(executable, arguments, output: .null, error: .null)
        guard Spawn.Exit(waitStatus: Spawn.waitForExit(pid)).code == 0 else {
            throw CloudTransport.SettingError(description: "\(executable) \(arguments.first ?? "") failed")
        }
    }
}
