import CoreMetrics

/// Where Unwind's code reports its metrics: a value handed to the worker, the cloud client and the samplers
/// (no process-wide state), backed by any swift-metrics factory — the Prometheus exporter in the `unwind`
/// binary, `TestMetrics` in tests, nothing at all with ``disabled``.
///
/// Metrics are addressed by their ``MetricDefinition`` and label values in the definition's label order.
public struct UnwindMetrics: Sendable {
    public let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Reports nowhere; the default for code that is given no metrics.
    public static let disabled = UnwindMetrics(factory: NOOPMetricsHandler.instance)

    // MARK: Generic access

    public func increment(_ metric: MetricDefinition, _ labelValues: [String] = [], by amount: Int = 1) {
        guard amount > 0 else { return }
        Counter(label: metric.name, dimensions: dimensions(metric, labelValues), factory: factory).increment(by: amount)
    }

    public func observe(_ metric: MetricDefinition, _ labelValues: [String] = [], _ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        CoreMetrics.Timer(label: metric.name, dimensions: dimensions(metric, labelValues), factory: factory)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    public func set(_ metric: MetricDefinition, _ labelValues: [String] = [], _ value: Double) {
        Gauge(label: metric.name, dimensions: dimensions(metric, labelValues), factory: factory).record(value)
    }

    /// Creates the metrics that have no labels, so that a scrape shows them (at zero) before anything happened.
    public func registerUnlabeled() {
        for metric in MetricDefinition.all where metric.labels.isEmpty {
            switch metric.kind {
            case .counter: _ = Counter(label: metric.name, dimensions: [], factory: factory)
            case .gauge: _ = Gauge(label: metric.name, dimensions: [], factory: factory)
            case .histogram: _ = CoreMetrics.Timer(label: metric.name, dimensions: [], factory: factory)
            }
        }
    }

    private func dimensions(_ metric: MetricDefinition, _ values: [String]) -> [(String, String)] {
        assert(values.count == metric.labels.count, "\(metric.name) takes labels \(metric.labels), got \(values)")
        return Array(zip(metric.labels, values))
    }

    // MARK: Steps

    public func stepStarted(workflow: String, step: String, phase: String) {
        increment(.stepsStarted, [workflow, step, phase])
    }

    /// One attempt's outcome: `succeeded` true/false, or nil for an attempt that parked in a durable wait
    /// (neither completed nor failed; only its duration is recorded).
    public func stepFinished(
        workflow: String, step: String, phase: String, succeeded: Bool?, retryable: Bool = false,
        willRetry: Bool = false, duration: Duration
    ) {
        observe(.stepDuration, [workflow, step, phase], duration)
        switch succeeded {
        case true?:
            increment(.stepsCompleted, [workflow, step, phase])
            if phase == "compensate" { increment(.compensations, [workflow, step]) }
        case false?:
            increment(.stepsFailed, [workflow, step, phase, retryable ? "true" : "false"])
            if willRetry { increment(.stepsRetried, [workflow, step]) }
        case nil:
            break
        }
    }

    public func claimed(in duration: Duration) { observe(.claimDuration, [], duration) }
    public func leasesExpired(_ count: Int) { increment(.leasesExpired, [], by: count) }
    public func stepsRescued(_ count: Int) { increment(.stepsRescued, [], by: count) }

    // MARK: Sampled gauges

    public func queue(readySteps: Int, oldestReadyAge: Double) {
        set(.readySteps, [], Double(readySteps))
        set(.oldestReadyStepAge, [], oldestReadyAge)
    }

    public func workflows(byState counts: [String: Int]) {
        for (state, count) in counts { set(.workflows, [state], Double(count)) }
    }

    public func pool(inUse: Int, idle: Int) {
        set(.poolConnections, ["in_use"], Double(inUse))
        set(.poolConnections, ["idle"], Double(idle))
    }

    // MARK: Cloud API

    /// One cloud request: `status` is the HTTP status code, or `timeout` / `network_error` without an answer.
    public func cloudRequest(service: String, operation: String, status: String, duration: Duration) {
        increment(.cloudRequests, [service, operation, status])
        observe(.cloudRequestDuration, [service, operation], duration)
    }
}
