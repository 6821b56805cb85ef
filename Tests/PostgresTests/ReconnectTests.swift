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
