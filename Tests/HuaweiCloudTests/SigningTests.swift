import Foundation
@testable import HuaweiCloud
import HuaweiCloudSigning
import Testing

/// Signatures produced by the client's own request building, checked against the published vectors (cloud-apis.md
/// §6) and against the official Python SDK (Fixtures/python-sdk-signatures.json, from
/// scripts/generate-sdk-signature-vectors.sh).
@Suite("Signing")
struct SigningTests {
    // MARK: Published vectors, through RequestSigner.sign(url:…) (URL parsing + signer)

    @Test func vectorV1GetWithExcludedUnderscoreHeader() {
        let signer = RequestSigner(signer: HuaweiSigner(accessKey: "AccessKey", secretKey: "SecretKey"), userAgent: "")
        let headers = signer.sign(method: "GET", url: "https://example.huaweicloud.com/path?limit=1",
                                  headers: [("X-Sdk-Date", "20060102T150405Z"), ("TEST_UNDERSCORE", "TEST_VALUE")], body: [], epochSeconds: 0)
        #expect(headers.first { $0.name == "Authorization" }?.value
            == "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624")
    }

    @Test func vectorV2PostWithBodyAndUnsignedContentType() {
        let signer = RequestSigner(signer: HuaweiSigner(accessKey: "AccessKey", secretKey: "SecretKey"), userAgent: "")
        let headers = signer.sign(method: "POST", url: "https://example.huaweicloud.com/path?key=value",
                                  headers: [("X-Sdk-Date", "20060102T150405Z"), ("TEST_UNDERSCORE", "TEST_VALUE"), ("Content-Type", "application/json")],
                                  body: Array("{\"Name\":\"test\",\"Id\":1}\n".utf8), epochSeconds: 0, unsignedHeaders: ["Content-Type"])
        #expect(headers.first { $0.name == "Authorization" }?.value
            == "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59")
    }

    @Test func vectorV3DocumentationExample() {
        let signer = RequestSigner(signer: HuaweiSigner(accessKey: "QTWAOYTTINDUT2QVKYUC", secretKey: "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"), userAgent: "")
        let headers = signer.sign(
            method: "GET", url: "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
            headers: [("Content-Type", "application/json"), ("Host", "service.region.example.com"), ("X-Sdk-Date", "20191115T033655Z")],
            body: [], epochSeconds: 0)
        #expect(headers.first { $0.name == "Authorization" }?.value
            == "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe")
    }

    // MARK: Python SDK fixture, through the full client request path (RequestSigner.prepare)

    struct Fixture: Decodable {
        var sdk: String
        var cases: [SDKCase]
    }

    struct SDKCase: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var credentials: String
        var security_token: String?
        var method: String
        var scheme: String
        var host: String
        var path: String
        var query: [[String]]
        var body: String
        var access_key: String
        var secret_key: String
        var project_id: String
        var domain_id: String
        var user_agent: String
        var sdk_date: String
        var signed_headers: [String: String]
        var authorization: String
        var testDescription: String { name }
    }

    static func fixtureCases() throws -> [SDKCase] {
        let data = try Data(contentsOf: TestSupport.fixturesDirectory.appendingPathComponent("python-sdk-signatures.json"))
        return try JSONDecoder().decode(Fixture.self, from: data).cases
    }

    @Test func fixtureIsPresent() throws {
        #expect(try Self.fixtureCases().count >= 5)
    }

    @Test(arguments: try fixtureCases())
    func matchesThePythonSDK(_ c: SDKCase) throws {
        let credentials = HuaweiCredentials(accessKey: c.access_key, secretKey: c.secret_key, securityToken: c.security_token)
        let signer = RequestSigner(signer: HuaweiSigner(credentials: credentials), userAgent: c.user_agent)
        let service: CloudService = c.path.contains("subscriptions/orders") && c.credentials == "project" ? .secmaster
            : c.credentials == "global" ? .bss : c.path.contains("vpc-endpoints") ? .vpcep : .ecs
        // The fixture's path is already in wire form; the client builds the same one from segments.
        let segments = c.path.split(separator: "/").map(String.init)
        #expect("/" + segments.map { Canonical.encode($0) }.joined(separator: "/") == c.path)
        let request = CloudRequest(
            service: service, operation: "fixture", kind: c.method == "GET" ? .read : .change, method: c.method, path: c.path,
            query: c.query.map { ($0[0], $0[1]) }, scope: c.credentials == "global" ? .domain(c.domain_id) : .project(c.project_id),
            body: Array(c.body.utf8))
        let epoch = try #require(SdkDate.parse(c.sdk_date))
        let prepared = signer.prepare(request, baseURL: "\(c.scheme)://\(c.host)", epochSeconds: epoch)
        let sent = Dictionary(prepared.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(sent["Authorization"] == c.authorization)
        #expect(sent == c.signed_headers, "the client sends exactly the headers the Python SDK sends")
    }

    @Test func urlCarriesEncodedQueryAndPrefix() {
        let signer = RequestSigner(signer: HuaweiSigner(accessKey: "a", secretKey: "s"), userAgent: "ua")
        let request = CloudRequest(service: .vpcep, operation: "t", kind: .read, method: "GET", path: CloudRequest.path("v1", "p", "vpc-endpoints"),
                                   query: [("vpc_id", "a b/c")], scope: .project("p"))
        let prepared = signer.prepare(request, baseURL: "http://127.0.0.1:9000/sim", epochSeconds: 1_800_000_000)
        #expect(prepared.url == "http://127.0.0.1:9000/sim/v1/p/vpc-endpoints?vpc_id=a%20b%2Fc")
        #expect(prepared.headers.contains { $0.name == "Host" && $0.value == "127.0.0.1:9000" })
        #expect(prepared.headers.contains { $0.name == "X-Sdk-Date" && $0.value == "20270115T080000Z" })
    }

    /// The hand-split host and path prefix agree with `URLComponents` on every shape of base URL. (This
    /// Foundation keeps an IPv6 literal's brackets in `host`; the old code bracketed it again: `[[::1]]:8080`.)
    @Test(arguments: [
        "https://ecs.cn-north-4.myhuaweicloud.com", "https://bss.myhuaweicloud.com/", "http://127.0.0.1:9000/sim",
        "http://127.0.0.1:9000/sim/", "http://[::1]:8080/a%20b", "http://[fe80::1]", "https://Host.Example.COM:443",
        "http://user:pw@host:1/p", "http://host/p?x=1", "http://host/p#f", "http://host:80/a/b/c",
    ])
    func baseURLSplitAgreesWithURLComponents(_ baseURL: String) {
        let components = URLComponents(string: baseURL)
        var host = components?.host ?? ""
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        if let port = components?.port { host += ":\(port)" }
        let split = RequestSigner.hostAndPathPrefix(of: baseURL)
        #expect(split.host == host)
        #expect(split.pathPrefix == (components?.percentEncodedPath ?? ""))
    }
}
