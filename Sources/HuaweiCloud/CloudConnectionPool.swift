import Foundation
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
    /// - Parameter transport: trusted CAs and proxy (``CloudTransport/fromEnvironment(_:)``).
    public init(connectionsPerHost: Int, transport: CloudTransport) {
        httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                configuration: Self.configuration(connectionsPerHost: connectionsPerHost, transport: transport))
    }

    /// How every HTTP client that calls the cloud is set up.
    static func configuration(connectionsPerHost: Int, transport: CloudTransport) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        transport.apply(to: &configuration)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connectionsPerHost))
        // The Huawei Cloud APIs never redirect. Followed (AsyncHTTPClient's default, up to 5, https to http
        // included), a redirect would carry the signed headers, the security token and a change's body to whatever
        // host `Location` names; refused, the 3xx reaches `check` and fails the call with a message naming it.
        configuration.redirectConfiguration = .disallow
        // Unwind records its own metrics and log lines per call. Left on, AsyncHTTPClient opens a span for every
        // request even with the no-op tracer, and parses its URL again with Foundation to describe it (2 % of a
        // teardown worker's CPU).
        configuration.tracing.tracer = nil
        return configuration
    }

    /// The client for calls made without a pool of their own (`unwind plan`, a single command's reads): like
    /// `HTTPClient.shared`, it lives as long as the process, but it is set up as above (no redirects).
    /// Its transport comes from the environment; commands check those settings first (`CloudSettings.check`), so
    /// one that cannot be used never gets here.
    static let processWide = CloudConnectionPool(
        connectionsPerHost: 8, transport: (try? CloudTransport.fromEnvironment(ProcessInfo.processInfo.environment)) ?? CloudTransport())

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
