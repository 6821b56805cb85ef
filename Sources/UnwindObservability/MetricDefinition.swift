/// One metric Unwind exports: its Prometheus name, type, label names and help text.
///
/// Every metric is declared once, in ``MetricDefinition/all`` below; code reports through ``UnwindMetrics``, the
/// Prometheus exporter takes help texts and buckets from here, and `README.md` documents the same list
/// (a test checks that nothing is missing there).
public struct MetricDefinition: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public let name: String
    public let kind: Kind
    /// Label names, in the order ``UnwindMetrics`` expects their values.
    public let labels: [String]
    public let help: String
    /// Upper bounds of the histogram buckets, in seconds (histograms only).
    public let buckets: [Double]

    init(_ name: String, _ kind: Kind, labels: [String] = [], buckets: [Double] = [], help: String) {
        self.name = name
        self.kind = kind
        self.labels = labels
        self.help = help
        self.buckets = buckets
    }
}

extension MetricDefinition {
    // MARK: Steps

    public static let stepsStarted = MetricDefinition(
        "unwind_steps_started_total", .counter, labels: ["workflow", "step", "phase"],
        help: "Step attempts started by this worker (a durable wait that resumes continues its attempt and is not counted again).")
    public static let stepsCompleted = MetricDefinition(
        "unwind_steps_completed_total", .counter, labels: ["workflow", "step", "phase"],
        help: "Step attempts that succeeded on this worker.")
    public static let stepsFailed = MetricDefinition(
        "unwind_steps_failed_total", .counter, labels: ["workflow", "step", "phase", "retryable"],
        help: "Step attempts that failed on this worker (timeouts included); retryable=true when the error allows a retry.")
    public static let stepsRetried = MetricDefinition(
        "unwind_steps_retried_total", .counter, labels: ["workflow", "step"],
        help: "Failed attempts that will be retried (retryable error, attempts left under the step's retry policy).")
    public static let stepDuration = MetricDefinition(
        "unwind_step_duration_seconds", .histogram, labels: ["workflow", "step", "phase"],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
        help: "Run time of one step attempt on this worker, from the start of the action to its outcome.")
    public static let compensations = MetricDefinition(
        "unwind_compensations_total", .counter, labels: ["workflow", "step"],
        help: "Compensations that completed successfully on this worker.")

    // MARK: Claiming and leases

    public static let claimDuration = MetricDefinition(
        "unwind_claim_duration_seconds", .histogram,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        help: "Time one claim took: one transaction that writes the attempt results finished since the previous claim and claims due steps.")
    public static let leasesExpired = MetricDefinition(
        "unwind_leases_expired_total", .counter,
        help: "Leases this worker lost while an attempt ran (the heartbeat found the step taken away); the attempt's result is discarded.")
    public static let stepsRescued = MetricDefinition(
        "unwind_steps_rescued_total", .counter,
        help: "Steps whose worker stopped heartbeating, returned to the queue by this worker's maintenance.")

    // MARK: Queue (sampled from the database)

    public static let readySteps = MetricDefinition(
        "unwind_ready_steps", .gauge,
        help: "Steps that could run now (ready, or a durable wait that is due) on all queues; sampled from the database.")
    public static let oldestReadyStepAge = MetricDefinition(
        "unwind_oldest_ready_step_age_seconds", .gauge,
        help: "How long the longest-waiting runnable step has been due (0 when none); sampled from the database.")
    public static let workflows = MetricDefinition(
        "unwind_workflows", .gauge, labels: ["state"],
        help: "Workflows by state; sampled from the database.")

    // MARK: Database pool

    public static let poolConnections = MetricDefinition(
        "unwind_db_pool_connections", .gauge, labels: ["state"],
        help: "Open connections of this process's database pool: state=in_use (lent out) or idle.")

    // MARK: Cloud API

    public static let cloudRequests = MetricDefinition(
        "unwind_cloud_requests_total", .counter, labels: ["service", "operation", "status"],
        help: "Huawei Cloud API requests by service, operation and HTTP status (timeout or network_error when no answer came).")
    public static let cloudRequestDuration = MetricDefinition(
        "unwind_cloud_request_duration_seconds", .histogram, labels: ["service", "operation"],
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        help: "Duration of Huawei Cloud API requests, answered or not.")

    /// Every metric Unwind exports.
    public static let all: [MetricDefinition] = [
        stepsStarted, stepsCompleted, stepsFailed, stepsRetried, stepDuration, compensations,
        claimDuration, leasesExpired, stepsRescued,
        readySteps, oldestReadyStepAge, workflows,
        poolConnections,
        cloudRequests, cloudRequestDuration,
    ]

    /// Looks a metric up by name (the exporter uses it for help texts and buckets).
    public static func named(_ name: String) -> MetricDefinition? {
        all.first { $0.name == name }
    }
}
