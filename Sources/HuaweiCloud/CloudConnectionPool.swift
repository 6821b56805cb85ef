import Logging
import UnwindObservability
import AsyncHTTPClient
import HuaweiCloudSigning

/// The HTTP connections a process uses to call the cloud, sized to how many calls it makes at once.
///
/// AsyncHTTPClient's shared client keeps at most 8 connections per host, and a SecMaster teardown talks to a
/// handful of hosts (one per service and region): a worker running 64 steps at once queued its calls behind those
/// 8 connections, and a fleet took many times longer than the cloud's latency and rate limits require. A worker
/// owns one pool sized to its concurrency and shuts it down after its last step.
public final class CloudConnectionPool: Sendable {
    let httpClient: HTTPClient

    /// - Parameter connectionsPerHost: concurrent HTTP/1.1 connections per host (at least 8).
    public init(connectionsPerHost: Int) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connectionsPerHost))
        // Unwind records its own metrics and log lines per call. Left on, AsyncHTTPClient opens a span for every
        // request even with the no-op tracer, and parses its URL again with Foundation to describe it (2 % of a
        // teardown worker's CPU).
        configuration.tracing.tracer = nil
        httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the connections; calls made afterwards fail.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }
}

extension HuaweiCloudClient {
    /// A client whose calls go through `pool` (see ``CloudConnectionPool``).
    public convenience init(
        endpoints: CloudEndpoints, credentials: HuaweiCredentials, pool: CloudConnectionPool,
        timeout: Duration = .seconds(30), readRetry: ReadRetry = .standard, logger: Logger, metrics: UnwindMetrics = .disabled
    ) {
        self.init(endpoints: endpoints, credentials: credentials, httpClient: pool.httpClient, timeout: timeout,
                  readRetry: readRetry, logger: logger, metrics: metrics)
    }
}
