import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The only HTTP responder: turns Hummingbird requests into `IncomingRequest`s for the `Simulator` and carries
/// out its reply (respond, delay, reset, hang). Cloud paths and `/_sim/` admin paths share the port.
public struct SimulatorResponder: HTTPResponder {
    public typealias Context = SimulatorRequestContext

    let simulator: Simulator
    let adminToken: String?
    let maxBodyBytes = 4 * 1024 * 1024
    /// A seed posted to `/_sim/seed` describes a whole fleet: 10,000 accounts take about 20 MB.
    let maxAdminBodyBytes = 128 * 1024 * 1024

    public init(simulator: Simulator, adminToken: String?) {
        self.simulator = simulator
        self.adminToken = adminToken
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = Self.newRequestID()
        var request = request
        let path = request.uri.path
        let isAdmin = path == "/_sim" || path.hasPrefix("/_sim/")
        // Checked before the body is read: without the token nobody gets to send the admin paths' larger bodies.
        if isAdmin, let adminToken, request.headers[HTTPField.Name("X-Sim-Admin-Token")!] != adminToken {
            return Self.response(Simulator.adminError(401, "admin token required in X-Sim-Admin-Token"), requestID: requestID)
        }
        let body: [UInt8]
        do {
            body = Array(try await request.collectBody(upTo: isAdmin ? maxAdminBodyBytes : maxBodyBytes).readableBytesView)
        } catch {
            if isAdmin {
                return Self.response(Simulator.adminError(413, "request body larger than \(maxAdminBodyBytes) bytes; start the simulator with --seed FILE for a seed this large"), requestID: requestID)
            }
            // The gateway answers an oversized body itself (APIGW.0201, 413), still with a request id.
            let tooLarge = CloudError(status: 413, code: "APIGW.0201", message: "Request entity too large (more than \(maxBodyBytes) bytes)")
            return Self.response(SimulatorReply(status: 413, body: tooLarge.body), requestID: requestID)
        }
        let query = request.uri.query ?? ""
        var logger = simulator.logger
        logger[metadataKey: "request.id"] = "\(requestID)"

        if isAdmin {
            return Self.response(simulator.handleAdmin(method: request.method.rawValue, path: path, query: query, body: body), requestID: requestID)
        }

        var headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        // HTTP/1 `Host` arrives as the request's authority; the SDKs sign it, so put it back.
        if let authority = request.head.authority, !headers.contains(where: { $0.name.lowercased() == "host" }) {
            headers.append((name: "Host", value: authority))
        }
        let incoming = IncomingRequest(method: request.method.rawValue, path: path, query: query, headers: headers, body: body, requestID: requestID)
        let reply = simulator.handle(incoming)
        logger.debug("cloud request", metadata: ["http.method": "\(incoming.method)", "http.path": "\(path)", "http.status": "\(reply.status)"])

        if reply.delaySeconds > 0 {
            try await Task.sleep(for: .milliseconds(Int64(reply.delaySeconds * 1000)))
        }
        switch reply.transport {
        case .respond:
            return Self.response(reply, requestID: requestID)
        case .reset:
            await ConnectionResetter.reset(context.channel)
            throw ConnectionDeliberatelyClosed()
        case .hang(let seconds):
            await Self.hold(context.channel, upTo: seconds)
            await ConnectionResetter.reset(context.channel)
            throw ConnectionDeliberatelyClosed()
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// 32 lower-case hex digits, like the gateway's `X-Request-Id`. (Through `uuidString` and NSString's
    /// `replacingOccurrences` this was 4 % of the simulator's CPU under a fleet; Foundation's `UUID()` opens and
    /// reads /dev/urandom on every call, another 3 %. The system generator uses `getrandom`.)
    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let halves = (generator.next() as UInt64, generator.next() as UInt64)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for half in [halves.0, halves.1] {
            for shift in stride(from: 60, through: 0, by: -4) {
                out.append(hexDigits[Int((half >> UInt64(shift)) & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Holds a request without answering until the server shuts down, the channel is closed, or `seconds` pass.
    ///
    /// A client that gives up is usually *not* noticed: Hummingbird does not cancel a handler when its client
    /// disconnects, and the FIN is not read while the handler owns the request (the socket sits in CLOSE-WAIT
    /// until the cap). Hummingbird's `consumeWithCancellationOnInboundClose` would notice it, but it crashed here
    /// after the body had been collected (NIO "Deinited NIOAsyncSequenceProducer.Source without calling
    /// finish()"), so it is not used. The shutdown check keeps a graceful shutdown from waiting for the cap.
    static func hold(_ channel: any Channel, upTo seconds: Double) async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline, channel.isActive, !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    static func response(_ reply: SimulatorReply, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Request-Id")!] = requestID
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        var body = ResponseBody()
        if let json = reply.body {
            let bytes = json.bytes
            headers[.contentType] = "application/json;charset=UTF-8"
            body = ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: headers, body: body)
    }
}
