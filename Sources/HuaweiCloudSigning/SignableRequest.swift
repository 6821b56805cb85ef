/// The parts of an HTTP request that `SDK-HMAC-SHA256` covers, independent of any HTTP library.
///
/// `path` and `query` are given *raw*, as they appear on the wire (percent-encoded); canonicalisation decodes
/// and re-encodes them the way the official SDKs do, so the signer and the verifier agree byte for byte.
public struct SignableRequest: Sendable {
    /// HTTP method, any case (canonicalised to upper case).
    public var method: String
    /// The raw request path, e.g. `/v1/abc/cloudservers/delete`.
    public var path: String
    /// The raw query string without the leading `?`, e.g. `limit=2&marker=x`; empty when there is none.
    public var query: String
    /// Request headers. Names are compared case-insensitively; the order is irrelevant.
    public var headers: [(name: String, value: String)]
    /// The exact body bytes.
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Builds a request from a path that may carry its query after a `?` (as in an HTTP request line).
    public init(method: String, uri: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        if let mark = uri.firstIndex(of: "?") {
            self.init(method: method, path: String(uri[..<mark]), query: String(uri[uri.index(after: mark)...]), headers: headers, body: body)
        } else {
            self.init(method: method, path: uri, query: "", headers: headers, body: body)
        }
    }

    /// The value of the first header with this name (case-insensitive), trimmed of surrounding blanks.
    public func header(_ name: String) -> String? {
        headers.first { Canonical.namesEqual($0.name, name) }.map { Canonical.trim($0.value) }
    }
}
