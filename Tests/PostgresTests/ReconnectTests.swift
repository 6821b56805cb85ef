import Dispatch
import Foundation
import Postgres
import Testing
import UnwindTesting

@Suite("Reconnecting", .enabled(if: TestEnvironment.hasDatabase))
struct ReconnectTests {
    @Test func aServerRestartFailsTheCallInFlightAndTheNextCallWorks() async throws {
        let cluster = try PrivateCluster()
        let connection = try PostgresConnection(configuration: try PostgresConfiguration(cluster.url))
        try connection.listen("after_restart")
        #expect(try connection.query("SELECT 1 AS one", name: "one").first?.decode("one", as: Int.self) == 1)
        try cluster.restart()
        let error = try #require(throws: PostgresError.self) { try connection.query("SELECT 1 AS one", name: "one") }
        #expect(error.isConnectionLost)
        #expect(!error.description.contains("unwind-test"), "the password must never be printed")
        #expect(try connection.query("SELECT 1 AS one", name: "one").first?.decode("one", as: Int.self) == 1)
        // The LISTEN was re-issued on the new session, and the waiter is told it may have missed notifications.
        let wait = try connection.waitForNotifications(timeout: .milliseconds(10))
        #expect(wait.reconnected)
        try PostgresConnection(configuration: try PostgresConfiguration(cluster.url)).notify("after_restart", payload: "hi")
        let next = try connection.waitForNotifications(timeout: .seconds(10))
        #expect(next.notifications.map(\.payload) == ["hi"])
    }

    @Test func aTerminatedBackendIsReportedAndReplaced() async throws {
        let database = try await TestDatabase.create()
        let victim = try database.connect()
        let pid = victim.backendPID
        try database.connect().query("SELECT pg_terminate_backend($1)", [Int(pid)], name: "terminate")
        let error = try #require(throws: PostgresError.self) { try victim.query("SELECT 1", name: "one") }
        #expect(error.isConnectionLost)
        #expect(try victim.query("SELECT 2 AS two", name: "two").first?.decode("two", as: Int.self) == 2)
        #expect(victim.backendPID != pid)
    }

    /// A pooled connection the server closed while it sat idle (here: `pg_terminate_backend`, as in a restart or a
    /// failover) is found out before it is lent, so the borrower's first statement works: a step's checkpoint
    /// after a database restart must not fail on a connection that died in the pool.
    @Test func aPooledConnectionClosedWhileIdleIsReplacedBeforeItIsLent() async throws {
        let database = try await TestDatabase.create()
        let pool = PostgresConnectionPool(configuration: try PostgresConfiguration(database.url), maximumConnections: 1)
        let pid = try pool.withConnection { $0.backendPID }
        let admin = try database.connect()
        try admin.query("SELECT pg_terminate_backend($1)", [Int(pid)], name: "terminate")
        // pg_terminate_backend only signals: wait until that backend has exited (and so closed the socket).
        let deadline = Date().addingTimeInterval(10)
        while try admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1", [Int(pid)], name: "alive").first?
            .decode("n", as: Int.self) != 0 {
            guard Date() < deadline else { throw TestFailure(description: "backend \(pid) did not exit") }
            usleep(10_000)
        }
        #expect(try pool.withConnection { try $0.query("SELECT 2 AS two", name: "two").first?.decode("two", as: Int.self) } == 2)
        #expect(try pool.withConnection { $0.backendPID } != pid)
    }

    @Test func whileTheServerIsDownCallsFailClearlyAndRecoverAfterwards() async throws {
        let cluster = try PrivateCluster()
        let connection = try PostgresConnection(configuration: try PostgresConfiguration(cluster.url))
        try cluster.stop()
        for _ in 0..<2 {
            let error = try #require(throws: PostgresError.self) { try connection.query("SELECT 1", name: "one") }
            #expect(error.isConnectionLost)
        }
        try cluster.start()
        #expect(try connection.query("SELECT 1 AS one", name: "one").first?.decode("one", as: Int.self) == 1)
    }
}
