import Foundation
@testable import HuaweiCloud
import MetricsTestKit
import Testing
import UnwindObservability

/// The client reports every request in `unwind_cloud_requests_total{service,operation,status}` and
/// `unwind_cloud_request_duration_seconds{service,operation}`: answered (2xx, 429 …) or not (network_error).
@Suite("Cloud request metrics")
struct CloudMetricsTests {
    static func requests(_ metrics: TestMetrics, _ operation: String, _ status: String) -> Int64 {
        metrics.counterTotal(label: MetricDefinition.cloudRequests.name, dimensions: [
            ("service", "ecs"), ("operation", operation), ("status", status),
        ])
    }

    static func allRequests(_ metrics: TestMetrics) -> Int64 {
        metrics.counters(label: MetricDefinition.cloudRequests.name).reduce(0) { $0 + $1.totalValue }
    }

    @Test func answeredThrottledAndUnansweredRequestsAreCounted() async throws {
        let testMetrics = TestMetrics()
        let metrics = UnwindMetrics(factory: testMetrics)
        try await SimulatorEndToEndTests.withSimulator { simulator, makeClient in
            let nodes = try SimulatorEndToEndTests.account("collection-nodes")
            let plain = try makeClient(nodes, .seconds(60))
            // One try per call first, so that each call is exactly one request.
            let client = HuaweiCloudClient(
                endpoints: plain.endpoints, credentials: nodes.credentials, timeout: .seconds(60), readRetry: .none,
                logger: TestSupport.quietLogger, metrics: metrics)

            _ = try await client.listServers(projectID: nodes.projectID)
            #expect(Self.requests(testMetrics, "ecs.list_servers", "200") == 1)

            try SimulatorEndToEndTests.addFault(simulator, #"{"api": "ecs.list_servers", "kind": "error", "status": 429, "count": 1}"#)
            let throttled = await TestSupport.cloudError { () async throws(CloudError) in _ = try await client.listServers(projectID: nodes.projectID) }
            #expect(throttled?.httpStatus == 429)
            #expect(Self.requests(testMetrics, "ecs.list_servers", "429") == 1)
            #expect(Self.requests(testMetrics, "ecs.list_servers", "200") == 1, "the 429 is not counted as a success")

            // A read the client retries by itself: every try is a request of its own.
            let retrying = HuaweiCloudClient(
                endpoints: plain.endpoints, credentials: nodes.credentials, timeout: .seconds(60), readRetry: .standard,
                logger: TestSupport.quietLogger, metrics: metrics)
            try SimulatorEndToEndTests.addFault(simulator, #"{"api": "ecs.list_servers", "kind": "error", "status": 429, "count": 1}"#)
            let before = Self.allRequests(testMetrics)
            _ = try await retrying.listServers(projectID: nodes.projectID)
            // At least the throttled try and the successful one (on a loaded machine a try may also time out).
            #expect(Self.allRequests(testMetrics) - before >= 2)
            #expect(Self.requests(testMetrics, "ecs.list_servers", "200") == 2)

            let timer = try testMetrics.expectTimer(MetricDefinition.cloudRequestDuration.name, [("service", "ecs"), ("operation", "ecs.list_servers")])
            #expect(Int64(timer.values.count) == Self.allRequests(testMetrics), "one duration per counted request")
            #expect(timer.values.allSatisfy { $0 > 0 })
        }

        // Nothing listens there: no HTTP status, so the status label says why. AsyncHTTPClient retries a refused
        // connect until the call's deadline, so it may surface as a timeout (see HostileResponseTests.connectionRefused);
        // either way exactly one request counts.
        let closed = try TestSupport.client(baseURL: "http://127.0.0.1:1", timeout: .seconds(1))
        let offline = HuaweiCloudClient(
            endpoints: closed.endpoints, credentials: TestSupport.credentials, timeout: .seconds(1), readRetry: .none,
            logger: TestSupport.quietLogger, metrics: metrics)
        func unanswered() -> Int64 {
            Self.requests(testMetrics, "ecs.list_servers", "network_error") + Self.requests(testMetrics, "ecs.list_servers", "timeout")
        }
        let before = unanswered()  // a loaded machine may have timed out a try above
        _ = await TestSupport.cloudError { () async throws(CloudError) in _ = try await offline.listServers(projectID: "p") }
        #expect(unanswered() - before == 1)
        #expect(testMetrics.counters(label: MetricDefinition.cloudRequests.name).allSatisfy { counter in
            let status = counter.dimensions.first { $0.0 == "status" }?.1 ?? ""
            return ["200", "429", "network_error", "timeout"].contains(status)
        }, "no other status label appeared")
    }
}
