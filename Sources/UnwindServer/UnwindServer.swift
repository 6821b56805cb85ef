import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import UnwindEngine
import UnwindStore

/// `unwind serve`: the JSON API under `/api/v1`, the dashboard, and the health, readiness and metrics endpoints,
/// on one Hummingbird application. Run it as a swift-service-lifecycle service (see ``application(onRunning:)``).
public struct UnwindServer: Sendable {
    /// One registered route, in the OpenAPI spelling (`/api/v1/workflows/{id}`).
    public struct Route: Sendable, Hashable, CustomStringConvertible {
        public var method: String
        public var path: String
        public var description: String { "\(method) \(path)" }
    }

    public let configuration: ServerConfiguration
    let store: WorkflowStore
    let logger: Logger
    let authenticator: Authenticator

    public init(configuration: ServerConfiguration, store: WorkflowStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.authenticator = Authenticator(token: configuration.apiToken, publicReads: configuration.publicReads)
    }

    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    /// Every route this server answers, in registration order (the OpenAPI test checks them against the document).
    public var routes: [Route] { routeTable.map(\.route) }

    private var routeTable: [(route: Route, handler: Handler)] {
        var table: [(Route, Handler)] = [
            (Route(method: "GET", path: "/healthz"), { _, _ in JSONResponse.make(["status": "ok"]) }),
            (Route(method: "GET", path: "/readyz"), { _, _ in await readiness() }),
            (Route(method: "GET", path: "/api/v1/workflows"), guarded(.read, { try await self.listWorkflows($0, $1) })),
            (Route(method: "POST", path: "/api/v1/workflows"), guarded(.write, { try await self.submit($0, $1) })),
            (Route(method: "GET", path: "/api/v1/counts"), guarded(.read, { try await self.counts($0, $1) })),
            (Route(method: "GET", path: "/api/v1/workflows/{id}"), guarded(.read, { try await self.showWorkflow($0, $1) })),
            (Route(method: "POST", path: "/api/v1/workflows/{id}/resume"), guarded(.write, { try await self.resume($0, $1) })),
            (Route(method: "POST", path: "/api/v1/workflows/{id}/cancel"), guarded(.write, { try await self.cancel($0, $1) })),
            (Route(method: "POST", path: "/api/v1/workflows/{id}/skip"), guarded(.write, { try await self.skip($0, $1) })),
        ]
        if let metrics = configuration.metrics {
            table.append((Route(method: "GET", path: "/metrics"), { _, _ in
                JSONResponse.text(await metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            }))
        }
        table += Dashboard.routes.map { route in
            (Route(method: "GET", path: route.path), { _, _ in Dashboard.response(route) })
        }
        return table.map { (route: $0.0, handler: $0.1) }
    }

    /// The router with every route (each `GET` also answers `HEAD`, without the body), a JSON 405 naming the
    /// allowed methods for a known path asked with another, and a JSON 404 for everything else.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        let table = routeTable
        router.add(middleware: RequestLogMiddleware(logger: logger, routes: table.map(\.route)))
        for (route, handler) in table {
            router.on(RouterPath(route.path), method: HTTPRequest.Method(route.method)!) { request, context in
                try await handler(request, context)
            }
            if route.method == "GET" {
                router.on(RouterPath(route.path), method: .head) { request, context in
                    let full = try await handler(request, context)
                    var headers = full.headers
                    headers[.contentLength] = nil
                    return Response(status: full.status, headers: headers, body: ResponseBody())
                }
            }
        }
        return router
    }

    /// The methods `routes` answer on `path` (`{name}` in a route matches any one non-empty segment), `HEAD`
    /// wherever `GET` is; empty when no route has that path.
    static func allowedMethods(for path: String, in routes: [Route]) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var methods: [String] = []
        for route in routes {
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == segments.count else { continue }
            let matches = zip(pattern, segments).allSatisfy { expected, actual in
                expected.hasPrefix("{") && expected.hasSuffix("}") ? !actual.isEmpty : expected == actual
            }
            if matches && !methods.contains(route.method) {
                methods.append(route.method)
                if route.method == "GET" { methods.append("HEAD") }
            }
        }
        return methods
    }

    /// The Hummingbird application; run it in a `ServiceGroup` (it is a `Service`).
    /// - Parameter onRunning: called with the bound port once the server listens (port 0 picks a free one).
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let (seconds, attoseconds) = configuration.idleTimeout.components
        return Application(
            router: router(),
            // Without these, connections that never finish their request head were held for ever, each a descriptor:
            // enough of them ran the process out of descriptors, and libdispatch then crashed it.
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "unwind",
                availableConnectionsDelegate: .maximum(configuration.maximumConnections, logger: logger)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }

    /// Checks access, then runs the handler, turning thrown errors into JSON error answers.
    private func guarded(_ access: Authenticator.Access, _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) -> Handler {
        { [authenticator, logger] request, context in
            do {
                try authenticator.authorize(request, for: access)
                return try await handler(request, context)
            } catch {
                if let answer = APIError.from(error) { return answer.response }
                logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
                return APIError(.internalServerError, "internal", "the server failed to answer; its log has the details").response
            }
        }
    }
}

/// Logs each request's method, path and status (never its headers: the token travels there).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let logger: Logger
    /// To tell "no such path" (404) from "not with this method" (405).
    let routes: [UnwindServer.Route]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, status: Int(response.status.code), start: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            let allowed = status == 404 ? UnwindServer.allowedMethods(for: request.uri.path, in: routes) : []
            if allowed.isEmpty { log(request, status: Int(status), start: start) }
            if status == 404 {
                if !allowed.isEmpty {
                    var refusal = APIError(
                        .methodNotAllowed, "method_not_allowed",
                        "\(request.method) is not served on \(RequestParsing.clip(request.uri.path)); use \(allowed.joined(separator: " or ")) (see docs/openapi.yaml)")
                    refusal.headers[.allow] = allowed.joined(separator: ", ")
                    log(request, status: 405, start: start)
                    return refusal.response
                }
                return APIError.notFound("no such endpoint: \(request.method) \(RequestParsing.clip(request.uri.path)); see docs/openapi.yaml").response
            }
            if let error = error as? any HTTPResponseError {
                return APIError(error.status, "http_\(error.status.code)", "\(error.status.reasonPhrase): \(request.method) \(RequestParsing.clip(request.uri.path)); see docs/openapi.yaml").response
            }
            throw error
        }
    }

    private func log(_ request: Request, status: Int, start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        // Dashboards poll every few seconds: successful reads are debug, changes and refusals are info.
        let level: Logger.Level = request.method == .get && status < 400 ? .debug : .info
        logger.log(level: level, "http request", metadata: [
            "http.method": "\(request.method)", "http.path": "\(RequestParsing.clip(request.uri.path))",
            "http.status": "\(status)",
            "http.duration_ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
        ])
    }
}
