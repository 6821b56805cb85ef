import Dispatch
import Foundation
import Postgres
import Synchronization
import Testing
import UnwindTesting

@Suite("LISTEN/NOTIFY", .enabled(if: TestEnvironment.hasDatabase))
struct NotificationTests {
    @Test func aNotificationWakesTheWaiterWellBeforeItsTimeout() async throws {
        let database = try await TestDatabase.create()
        let listener = try database.connect()
        try listener.listen("work_ready")
        let sender = try database.connect()
        let started = ContinuousClock.now
        let received = DispatchGroup()
        let result = Mutex<PostgresConnection.NotificationWait?>(nil)
        received.enter()
        DispatchQueue.global().async {
            let wait = try? listener.waitForNotifications(timeout: .seconds(30))
            result.withLock { $0 = wait }
            received.leave()
        }
        try sender.notify("work_ready", payload: "step-42")
        #expect(received.wait(timeout: .now() + 30) == .success)
        let elapsed = ContinuousClock.now - started
        let notifications = result.withLock { $0?.notifications } ?? []
        #expect(notifications.map(\.payload) == ["step-42"])
        #expect(notifications.first?.channel == "work_ready")
        #expect(elapsed < .seconds(10))
    }

    @Test func theTimeoutFiresWhenNothingIsSent() async throws {
        let listener = try await TestDatabase.create().connect()
        try listener.listen("quiet")
        let started = ContinuousClock.now
        let result = try listener.waitForNotifications(timeout: .milliseconds(300))
        #expect(result.notifications.isEmpty)
        #expect(ContinuousClock.now - started >= .milliseconds(290))
    }

    @Test func aWakeupEndsTheWaitEarly() async throws {
        let listener = try await TestDatabase.create().connect()
        try listener.listen("quiet")
        let wakeup = PostgresWakeup()
        wakeup.signal()
        let started = ContinuousClock.now
        let result = try listener.waitForNotifications(timeout: .seconds(30), wakeup: wakeup)
        #expect(result.notifications.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func channelNamesAreQuotedNotInterpolated() async throws {
        let database = try await TestDatabase.create()
        let listener = try database.connect()
        let hostile = "x\"; DROP TABLE nothing; --"
        try listener.listen(hostile)
        try database.connect().notify(hostile, payload: "ok")
        let result = try listener.waitForNotifications(timeout: .seconds(10))
        #expect(result.notifications.map(\.channel) == [hostile])
    }
}
