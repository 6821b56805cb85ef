import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A loopback TCP server that answers every HTTP request with raw bytes chosen by the test, so hostile answers
/// (truncated bodies, HTML pages, odd status lines, answers that never come) can be produced exactly.
final class RawHTTPServer: Sendable {
    enum Reply: Sendable {
        /// Write these bytes; close the connection afterwards when `close` is set.
        case bytes([UInt8], close: Bool)
        /// Read the request and never answer (until the client gives up).
        case hang
        /// Close the connection without an answer (RST where possible).
        case reset
    }

    struct Received: Sendable {
        var head: String
        var body: [UInt8]
    }

    let port: Int
    private let channel: any Channel
    private let received: NIOLockedValueBox<[Received]>

    static func start(_ reply: @escaping @Sendable (Received) -> Reply) async throws -> RawHTTPServer {
        let box = NIOLockedValueBox<[Received]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(reply: reply, log: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return RawHTTPServer(channel: channel, received: box)
    }

    private init(channel: any Channel, received: NIOLockedValueBox<[Received]>) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.received = received
    }

    var requests: [Received] { received.withLockedValue { $0 } }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        try? await channel.close().get()
    }

    /// Runs `body` with a server, always stopping it.
    static func with<T>(_ reply: @escaping @Sendable (Received) -> Reply, _ body: (RawHTTPServer) async throws -> T) async throws -> T {
        let server = try await start(reply)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// An HTTP/1.1 answer with a correct Content-Length unless `contentLength` overrides it.
    static func response(status: String, headers: [(String, String)] = [], body: String, contentLength: Int? = nil) -> [UInt8] {
        var text = "HTTP/1.1 \(status)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(contentLength ?? body.utf8.count)\r\n\r\n"
        return Array(text.utf8) + Array(body.utf8)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let reply: @Sendable (Received) -> Reply
        let log: NIOLockedValueBox<[Received]>
        var buffer: [UInt8] = []

        init(reply: @escaping @Sendable (Received) -> Reply, log: NIOLockedValueBox<[Received]>) {
            self.reply = reply
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            buffer += Array(unwrapInboundIn(data).readableBytesView)
            guard let end = headerEnd() else { return }
            let head = String(decoding: buffer[..<end], as: UTF8.self)
            let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
            let bodyStart = end + 4
            guard buffer.count >= bodyStart + length else { return }
            let request = Received(head: head, body: Array(buffer[bodyStart..<(bodyStart + length)]))
            buffer.removeFirst(bodyStart + length)
            log.withLockedValue { $0.append(request) }
            switch reply(request) {
            case .bytes(let bytes, let close):
                let promise: EventLoopPromise<Void>? = close ? context.eventLoop.makePromise() : nil
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: promise)
                if let promise {
                    let channel = context.channel
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                }
            case .hang:
                break
            case .reset:
                context.close(promise: nil)
            }
        }

        private func headerEnd() -> Int? {
            guard buffer.count >= 4 else { return nil }
            for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                return index
            }
            return nil
        }
    }
}
