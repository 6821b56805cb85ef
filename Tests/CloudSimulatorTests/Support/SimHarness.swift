import CloudSimulator
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HuaweiCloudSigning
import NIOCore

/// Runs a simulator on a real loopback port and sends signed requests to it, one TCP connection per request
/// (so a test that resets or times out a connection does not poison the next one).
struct SimHarness {
    let port: Int
    let simulator: Simulator

    struct Account {
        var accessKey: String
        var secretKey: String
        static let standard = Account(accessKey: "AKSTANDARD", secretKey: "SKSTANDARD")
        static let pro = Account(accessKey: "AKPRO", secretKey: "SKPRO")
        static let nodes = Account(accessKey: "AKNODES", secretKey: "SKNODES")
    }

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var json: JSON?
        var requestID: String? { headers[HTTPField.Name("X-Request-Id")!] }
        /// `error_code` of flat bodies or `error.code` of nested ones.
        var errorCode: String? { json?["error_code"]?.stringValue ?? json?["error"]?["code"]?.stringValue }
    }

    enum Signing {
        /// Signed like the Python SDK: every header, host included.
        case python
        /// Signed like the Go SDK: Content-Type and Host left out.
        case go
        case none
    }

    static func run(_ simulator: Simulator, adminToken: String? = nil, _ body: @Sendable (SimHarness) async throws -> Void) async throws {
        let app = SimulatorServer.application(simulator: simulator, host: "127.0.0.1", port: 0, adminToken: adminToken, logger: TestSeed.quietLogger)
        try await app.test(.live) { client in
            try await body(SimHarness(port: client.port!, simulator: simulator))
        }
    }

    /// Sends a request; `dateOffset` shifts `X-Sdk-Date` from the real time (signatures use the real clock).
    func send(
        _ method: HTTPRequest.Method, _ uri: String, as account: Account? = nil, body: String? = nil,
        headers extra: [(String, String)] = [], signing: Signing = .python, dateOffset: Int64 = 0,
        sdkDate: String? = nil, timeout: Duration = .seconds(60)
    ) async throws -> Reply {
        var fields: [(name: String, value: String)] = [("Content-Type", "application/json;charset=UTF-8"), ("Host", "localhost")]
        fields += extra.map { (name: $0.0, value: $0.1) }
        // Identical requests signed within the same second have identical signatures and would be rejected as
        // replays; a signed unique header (as any client may add) makes each request distinct. Tests of replay
        // detection pin the date and leave this out.
        if sdkDate == nil { fields.append((name: "X-Client-Nonce", value: UUID().uuidString)) }
        let bytes = Array((body ?? "").utf8)
        if let account, signing != .none {
            let now = Int64(Date().timeIntervalSince1970) + dateOffset
            var request = SignableRequest(method: method.rawValue, uri: uri, headers: fields, body: bytes)
            if let sdkDate { request.headers.append((name: "X-Sdk-Date", value: sdkDate)) ; fields.append((name: "X-Sdk-Date", value: sdkDate)) }
            let signer = HuaweiSigner(accessKey: account.accessKey, secretKey: account.secretKey)
            let signature = signer.sign(request, epochSeconds: now, unsignedHeaders: signing == .go ? ["Content-Type", "Host"] : [])
            fields += signature.headersToAdd
        }
        var httpFields = HTTPFields()
        for field in fields where field.name.lowercased() != "host" {
            httpFields.append(HTTPField(name: HTTPField.Name(field.name)!, value: field.value))
        }
        let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: timeout))
        client.connect()
        let response: TestClient.Response
        do {
            response = try await client.execute(TestClient.Request(
                uri, method: method, authority: "localhost", headers: httpFields, body: body.map { ByteBuffer(string: $0) }
            ))
        } catch {
            try? await client.shutdown()
            throw error
        }
        try? await client.shutdown()
        let data = response.body.map { Array($0.readableBytesView) } ?? []
        return Reply(status: Int(response.status.code), headers: response.head.headerFields, json: try JSON.parse(data))
    }

    /// Admin call (no signature).
    func admin(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, token: String? = nil) async throws -> Reply {
        try await send(method, path, body: body, headers: token.map { [("X-Sim-Admin-Token", $0)] } ?? [], signing: .none)
    }
}
