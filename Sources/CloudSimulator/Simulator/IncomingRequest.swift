/// A request as it arrived, independent of the HTTP server library.
public struct IncomingRequest: Sendable {
    public var method: String
    /// Raw (percent-encoded) path.
    public var path: String
    /// Raw query string without `?`.
    public var query: String
    /// All headers; `Host` must be included (the HTTP layer re-adds it from the request's authority).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var requestID: String

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = [], requestID: String) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.requestID = requestID
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What the transport should do with a request.
public struct SimulatorReply: Sendable {
    public enum Transport: Sendable, Equatable {
        /// Send the response (after `delaySeconds`).
        case respond
        /// Close the connection abruptly without a response (after `delaySeconds`).
        case reset
        /// Never answer; hold the request for up to `seconds`, then close the connection.
        case hang(seconds: Double)
    }

    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: JSON?
    public var transport: Transport
    public var delaySeconds: Double

    public init(status: Int, headers: [(name: String, value: String)] = [], body: JSON? = nil, transport: Transport = .respond, delaySeconds: Double = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.transport = transport
        self.delaySeconds = delaySeconds
    }

    static func error(_ error: CloudError) -> SimulatorReply {
        SimulatorReply(status: error.status, body: error.body)
    }
}
