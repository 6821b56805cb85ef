import CoreMetrics
import Prometheus
import UnwindObservability

/// The process's Prometheus registry, the ``UnwindMetrics`` that report into it, and the text exposition.
///
/// One per process, created by the command that serves `/metrics` (`unwind worker`, `unwind serve`) and passed
/// to whatever reports metrics; nothing global except the optional ``bootstrapMetricsSystem()``.
struct PrometheusExporter: Sendable {
    let registry: PrometheusCollectorRegistry
    let metrics: UnwindMetrics

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.metrics = UnwindMetrics(factory: CatalogueMetricsFactory(registry: registry))
        metrics.registerUnlabeled()
    }

    /// Points swift-metrics' process-wide `MetricsSystem` at the same registry, so that libraries reporting
    /// through it land in `/metrics` too. Once per process (swift-metrics traps on a second bootstrap).
    func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(metrics.factory)
    }

    /// Renders the Prometheus text exposition format (version 0.0.4); `unwind serve` mounts it as well.
    var render: @Sendable () async -> String {
        { [registry] in registry.emitToString() }
    }

    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// A swift-metrics factory over a `PrometheusCollectorRegistry` that gives Unwind's metrics their help texts and
/// histogram buckets from ``MetricDefinition/all`` (swift-prometheus' own factory has no way to set help texts).
/// Metrics it does not know (from libraries) get no help text and default buckets.
struct CatalogueMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricDefinition.named(label)?.help ?? "")
    }

    private func buckets(_ label: String) -> [Double] {
        guard let buckets = MetricDefinition.named(label)?.buckets, !buckets.isEmpty else { return Self.defaultBuckets }
        return buckets
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets(label))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: descriptor(label), labels: dimensions,
            buckets: buckets(label).map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) })
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
