import Foundation
@testable import HuaweiCloud
import Synchronization
import Testing

/// Reads are retried inside the call on transient failures; mutating calls never are.
@Suite("Read retries")
struct ReadRetryTests {
    /// Requests seen by a test server.
    final class Counter: Sendable {
        private let count = Mutex(0)
        func next() -> Int { count.withLock { $0 += 1; return $0 } }
        var value: Int { count.withLock { $0 } }
    }

    static let quick = HuaweiCloudClient.ReadRetry(maxAttempts: 4, initialDelay: .milliseconds(10), maxDelay: .seconds(1))

    /// Answers 503 `failures` times, then a good workspace list; counts the requests.
    static func flaky(failures: Int, counter: Counter, failure: String = "503 Service Unavailable", headers: [(String, String)] = [])
        -> @Sendable (RawHTTPServer.Received) -> RawHTTPServer.Reply {
        // Each answer closes its connection, and says so: without `Connection: close` the client may send the
        // next try on the pooled connection before it sees the close, and that try never reaches the counter.
        let closing = [("Connection", "close")]
        let bad = RawHTTPServer.response(status: failure, headers: HostileResponseTests.json + headers + closing,
                                         body: #"{"error_code":"SIM.SecMaster.0500","error_msg":"blip"}"#)
        let good = RawHTTPServer.response(status: "200 OK", headers: HostileResponseTests.json + closing,
                                          body: #"{"count":1,"workspaces":[{"id":"w","name":"n"}]}"#)
        return { _ in
            let n = counter.next()
            return .bytes(n <= failures ? bad : good, close: true)
        }
    }

    @Test func aReadThatFailsTwiceSucceedsOnTheThirdTry() async throws {
        let counter = Counter()
        try await RawHTTPServer.with(Self.flaky(failures: 2, counter: counter)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL, readRetry: Self.quick)
            let workspaces = try await client.listWorkspaces(projectID: "p1")
            #expect(workspaces.count == 1)
        }
        #expect(counter.value == 3)
    }

    @Test func aReadGivesUpAfterItsAttemptsWithTheLastError() async throws {
        let counter = Counter()
        try await RawHTTPServer.with(Self.flaky(failures: 100, counter: counter)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL, readRetry: Self.quick)
            let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") })
            #expect(error.httpStatus == 503 && error.isRetryable, "the step is retried later by the engine")
        }
        #expect(counter.value == 4)
    }

    @Test func aLongRetryAfterIsLeftToTheEngine() async throws {
        let counter = Counter()
        try await RawHTTPServer.with(Self.flaky(failures: 100, counter: counter, failure: "429 Too Many Requests", headers: [("Retry-After", "30")])) { server in
            let client = try TestSupport.client(baseURL: server.baseURL, readRetry: Self.quick)
            let error = try #require(await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listWorkspaces(projectID: "p1") })
            #expect(error.retryAfter == .seconds(30))
        }
        #expect(counter.value == 1, "no worker slot waits 30 s: the engine schedules the retry")
    }

    @Test func aMutatingCallIsNeverRepeatedByTheClient() async throws {
        let counter = Counter()
        try await RawHTTPServer.with(Self.flaky(failures: 100, counter: counter)) { server in
            let client = try TestSupport.client(baseURL: server.baseURL, readRetry: Self.quick)
            let error = await TestSupport.cloudError { () async throws(CloudError) in
                try await client.deleteEndpoint(projectID: "p", endpointID: "e")
            }
            #expect(error?.isRetryable == true)
        }
        #expect(counter.value == 1)
    }

    @Test func backOffIsBoundedAndJittered() {
        let policy = HuaweiCloudClient.ReadRetry.standard
        for attempt in 1...10 {
            let delay = policy.delay(afterAttempt: attempt, retryAfter: nil)!
            #expect(delay <= policy.maxDelay && delay >= .zero)
        }
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(1)) == .seconds(1))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(3)) == nil)
    }
}
