import Foundation
import Hummingbird
import Logging
import UnwindEngine

/// `GET /metrics`, `/healthz` and `/readyz`: what Prometheus and orchestrators (Kubernetes probes, systemd, load
/// balancers) ask a long-running unwind process. `unwind worker --metrics-port` serves them on their own;
/// `unwind serve` mounts the same routes next to its API with ``register(on:)``.
struct OperationsEndpoints: Sendable {
    /// The Prometheus text exposition (``PrometheusExporter/render``).
    var renderMetrics: @Sendable () async -> String
    /// Database reachable and migrations current (``DatabaseProbe/readiness()``).
    var readiness: @Sendable () async -> DatabaseProbe.Readiness

    func register<Context: RequestContext>(on router: Router<Context>) {
        let renderMetrics = self.renderMetrics
        let readiness = self.readiness
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: PrometheusExporter.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: await renderMetrics())))
        }
        // Alive as long as the process answers: restarting it would not help anything else.
        router.get("/healthz") { _, _ -> Response in
            Self.json(.ok, ["status": "ok"])
        }
        router.get("/readyz") { _, _ -> Response in
            switch await readiness() {
            case .ready:
                return Self.json(.ok, ["status": "ready"])
            case .notReady(let reason):
                return Self.json(.serviceUnavailable, ["status": "unavailable", "reason": reason])
            }
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: String]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A Hummingbird application serving only these routes (the worker's metrics listener). It is a
    /// ServiceLifecycle service: on graceful shutdown it stops accepting and finishes the requests in flight.
    func application(host: String, port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        register(on: router)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "unwind"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
