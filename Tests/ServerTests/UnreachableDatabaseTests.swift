import AsyncHTTPClient
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Testing
import UnwindServer
import UnwindStore
import UnwindTesting

/// A server whose database is gone: it stays up (`/healthz`), says why it is not ready (`/readyz`), and answers
/// API calls with a JSON 503 rather than hanging or failing with a 500.
@Suite("Server without its database")
struct UnreachableDatabaseTests {
    @Test("/healthz 200, /readyz 503 with the reason, API reads 503 database_unavailable")
    func unreachable() async throws {
        // Port 1 on loopback: nothing listens there, so every connect is refused at once.
        var logger = Logger(label: "test.server")
        logger.logLevel = .critical
        let pool = PostgresConnectionPool(
            configuration: try PostgresConfiguration("postgres://unwind@127.0.0.1:1/unwind?connect_timeout=2"),
            maximumConnections: 2, logger: logger)
        let server = UnwindServer(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, publicReads: true),
            store: WorkflowStore(pool: pool, logger: logger), logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [server.application { _ = continuation.yield($0) }], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        func get(_ path: String) async throws -> (Int, String) {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(30))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        #expect(try await get("/healthz").0 == 200)
        let (readyStatus, readyBody) = try await get("/readyz")
        #expect(readyStatus == 503)
        #expect(readyBody.contains(#""status":"unavailable""#) && readyBody.contains("cannot be reached"), "\(readyBody)")
        #expect(!readyBody.contains("password"))
        let (listStatus, listBody) = try await get("/api/v1/workflows")
        #expect(listStatus == 503, "\(listBody)")
        #expect(listBody.contains("database_unavailable"))
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
