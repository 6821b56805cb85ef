import Dispatch
import Foundation
import HuaweiCloud
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import UnwindEngine
import UnwindObservability

/// Where `unwind worker` serves /metrics, /healthz and /readyz: `--metrics-host`/`--metrics-port`, else
/// `UNWIND_METRICS_HOST`/`UNWIND_METRICS_PORT`; nil (off) without a port.
struct MetricsEndpointSettings: Sendable {
    var host: String
    var port: Int

    static func resolve(host: String?, port: Int?, environment: [String: String]) throws -> MetricsEndpointSettings? {
        func configured(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        let resolvedPort: Int
        if let port {
            resolvedPort = port
        } else if let text = configured("UNWIND_METRICS_PORT") {
            guard let value = Int(text), (0...65535).contains(value) else {
                throw CLIError(description: "UNWIND_METRICS_PORT='\(text)' is not a port number (0-65535)", status: .usage)
            }
            resolvedPort = value
        } else {
            return nil
        }
        return MetricsEndpointSettings(host: host ?? configured("UNWIND_METRICS_HOST") ?? "127.0.0.1", port: resolvedPort)
    }
}

/// Runs `unwind worker` as a ServiceLifecycle service group: the metrics listener and the gauge sampler (when a
/// metrics port is configured), then the worker. SIGTERM/SIGINT shut the group down gracefully, in reverse
/// order: the worker drains first (so /metrics and /readyz stay up while it does), then the listener stops.
struct WorkerRunner {
    let services: Services
    let configuration: WorkerConfiguration
    let endpoint: MetricsEndpointSettings?

    /// How often the queue and pool gauges are read.
    static let sampleInterval = Duration.seconds(5)

    func run() throws {
        // Every line of a worker process carries its id, the listener's and the service group's too.
        var logger = services.logger
        logger[metadataKey: "worker.id"] = "\(configuration.workerID)"
        var groupServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var metrics = UnwindMetrics.disabled
        var listening: AsyncStream<Void>?
        if let endpoint {
            let (stream, bound) = AsyncStream<Void>.makeStream()
            listening = stream
            let exporter = PrometheusExporter()
            exporter.bootstrapMetricsSystem()
            metrics = exporter.metrics
            let probe = try DatabaseProbe(configuration: services.pool.configuration, logger: logger)
            let endpoints = OperationsEndpoints(renderMetrics: exporter.render, readiness: { await probe.readiness() })
            var listenerLogger = Logger(label: "unwind.metrics")
            listenerLogger.logLevel = logger.logLevel
            listenerLogger[metadataKey: "worker.id"] = "\(configuration.workerID)"
            let application = endpoints.application(host: endpoint.host, port: endpoint.port, logger: listenerLogger) { [logger] port in
                logger.info("serving /metrics, /healthz and /readyz on http://\(endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host):\(port)", metadata: [
                    "metrics.host": "\(endpoint.host)", "metrics.port": "\(port)",
                ])
                bound.yield()
                bound.finish()
            }
            groupServices.append(.init(
                service: MetricsListener(application: application, endpoint: endpoint),
                successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup))
            groupServices.append(.init(
                service: MetricsSamplerService(probe: probe, pool: services.pool, metrics: metrics, interval: Self.sampleInterval),
                successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        // First in the group, so stopped last: the worker drains its steps before their connections close.
        // The settings were checked before the worker started (CloudSettings.check).
        let transport = (try? CloudTransport.fromEnvironment(ProcessInfo.processInfo.environment)) ?? CloudTransport()
        let connections = CloudConnectionPool(connectionsPerHost: configuration.concurrency, transport: transport)
        groupServices.insert(.init(service: CloudConnectionsService(pool: connections)), at: 0)
        let worker = Worker(
            store: services.store, registry: BuiltInActions.registry(metrics: metrics, connections: connections),
            configuration: configuration, logger: logger, metrics: metrics)
        groupServices.append(.init(
            service: WorkerService(worker: worker, logger: logger, startsAfter: listening),
            successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup))

        var groupLogger = logger
        // The group's own messages are about its mechanics; the worker says what matters at info.
        groupLogger.logLevel = max(logger.logLevel, .notice)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: groupServices, gracefulShutdownSignals: [.sigterm, .sigint], logger: groupLogger))
        try runAsyncBlocking { try await group.run() }
    }
}

/// Holds the worker's cloud connections open until the group shuts down, then closes them.
struct CloudConnectionsService: Service, CustomStringConvertible {
    let pool: CloudConnectionPool

    var description: String { "cloud connections" }

    func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }
}

/// The Hummingbird listener, with a readable error when it cannot listen (port taken, address not local).
struct MetricsListener<App: ApplicationProtocol>: Service, CustomStringConvertible {
    let application: App
    let endpoint: MetricsEndpointSettings

    var description: String { "metrics listener" }

    func run() async throws {
        do {
            try await application.run()
        } catch {
            throw CLIError(
                description: "cannot serve /metrics on \(endpoint.host):\(endpoint.port): \(listenFailure(error)); choose another --metrics-port or --metrics-host",
                status: .usage)
        }
    }
}
