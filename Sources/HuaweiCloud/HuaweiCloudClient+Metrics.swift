import AsyncHTTPClient
import UnwindObservability

extension HuaweiCloudClient {
    /// Counts one request in `unwind_cloud_requests_total` and `unwind_cloud_request_duration_seconds`.
    func recordMetrics(_ request: CloudRequest, status: String, since start: ContinuousClock.Instant) {
        metrics.cloudRequest(
            service: request.service.rawValue, operation: request.operation, status: status,
            duration: ContinuousClock.now - start)
    }

    /// The `status` label of a request that got no HTTP answer: `timeout`, or `network_error` for everything
    /// else (refused, reset, truncated). Two values only, so that the label stays low-cardinality.
    static func metricStatus(of error: any Error) -> String {
        switch error {
        case is RequestTimedOut:
            return "timeout"
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
            || error == .writeTimeout || error == .connectTimeout:
            return "timeout"
        default:
            return "network_error"
        }
    }
}
