import HuaweiCloudSigning
import Testing

/// The three published vectors from docs/cloud-apis.md §6, plus round trips through the verifier.
@Suite("SDK-HMAC-SHA256 signer")
struct SignerVectorTests {
    @Test("V1: Go SDK GET, underscore header excluded")
    func vector1() {
        let signer = HuaweiSigner(accessKey: "AccessKey", secretKey: "SecretKey")
        let request = SignableRequest(
            method: "GET", uri: "/path?limit=1",
            headers: [("X-Sdk-Date", "20060102T150405Z"), ("TEST_UNDERSCORE", "TEST_VALUE")]
        )
        let result = signer.sign(request, epochSeconds: 0)
        #expect(result.canonicalRequest == "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(result.authorization.value == "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624")
        #expect(result.headersToAdd.map(\.name) == ["Authorization"])
    }

    @Test("V2: Go SDK POST with JSON body, Content-Type unsigned")
    func vector2() {
        let signer = HuaweiSigner(accessKey: "AccessKey", secretKey: "SecretKey")
        let body = Array("{\"Name\":\"test\",\"Id\":1}\n".utf8)
        #expect(Canonical.hexSHA256(body).hasPrefix("a29d7b4c"))
        let request = SignableRequest(
            method: "POST", uri: "/path?key=value",
            headers: [("X-Sdk-Date", "20060102T150405Z"), ("TEST_UNDERSCORE", "TEST_VALUE"), ("Content-Type", "application/json")],
            body: body
        )
        let result = signer.sign(request, epochSeconds: 0, unsignedHeaders: ["Content-Type"])
        #expect(result.authorization.value == "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59")
    }

    @Test("V3: documentation example with host and content-type signed")
    func vector3() {
        let signer = HuaweiSigner(accessKey: "QTWAOYTTINDUT2QVKYUC", secretKey: "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc")
        let request = SignableRequest(
            method: "GET",
            uri: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
            headers: [("Content-Type", "application/json"), ("Host", "service.region.example.com"), ("X-Sdk-Date", "20191115T033655Z")]
        )
        let result = signer.sign(request, epochSeconds: 0)
        #expect(result.authorization.signedHeaders == ["content-type", "host", "x-sdk-date"])
        #expect(Canonical.hexSHA256(Array(result.canonicalRequest.utf8)) == "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a")
        #expect(result.authorization.signature == "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe")
    }

    @Test("date header is added in the SDK format when absent")
    func addsDate() throws {
        let signer = HuaweiSigner(accessKey: "ak", secretKey: "sk")
        let result = signer.sign(SignableRequest(method: "GET", uri: "/x"), epochSeconds: 1_573_788_615)
        #expect(result.headersToAdd.first?.name == "X-Sdk-Date")
        #expect(result.headersToAdd.first?.value == "20191115T033015Z")
        #expect(SdkDate.parse("20191115T033015Z") == 1_573_788_615)
        #expect(SdkDate.parse("2019-11-15") == nil)
    }

    @Test("security token is added and signed for temporary credentials")
    func securityToken() {
        let signer = HuaweiSigner(accessKey: "ak", secretKey: "sk", securityToken: "tok")
        let result = signer.sign(SignableRequest(method: "GET", uri: "/x"), epochSeconds: 0)
        #expect(result.authorization.signedHeaders == ["x-sdk-date", "x-security-token"])
    }

    @Test("canonical query sorts by key then value and encodes spaces as %20")
    func canonicalQuery() {
        #expect(Canonical.queryString("b=2&a=z&a=y%20x&c") == "a=y%20x&a=z&b=2&c=")
        #expect(Canonical.uri("/v1/a%20b/c") == "/v1/a%20b/c/")
        #expect(Canonical.uri("/") == "/")
        #expect(Canonical.queryString("") == "")
    }

    /// Paths of unreserved characters and slashes take a shortcut; it must agree with decoding and re-encoding.
    @Test("canonical paths: already-canonical ones and ones that need re-encoding")
    func canonicalPaths() {
        let cases: [(String, String)] = [
            ("/v1/0a1b2c/cloudservers/detail", "/v1/0a1b2c/cloudservers/detail/"),
            ("/v2/orders/customer-orders/", "/v2/orders/customer-orders/"),
            ("/a//b", "/a//b/"),
            ("/A-Z_a.z~0", "/A-Z_a.z~0/"),
            ("", "/"),
            ("/caf%C3%A9", "/caf%C3%A9/"),
            ("/caf%c3%a9", "/caf%C3%A9/"),
            ("/a%7Eb", "/a~b/"),
            ("/a b", "/a%20b/"),
            ("/a+b", "/a%2Bb/"),
        ]
        for (path, canonical) in cases {
            #expect(Canonical.uri(path) == canonical, "\(path)")
        }
    }

    @Test("signed headers: lower-cased, de-duplicated, byte-sorted, without underscores or excluded names")
    func signedHeaderSet() {
        let request = SignableRequest(method: "GET", uri: "/x", headers: [
            ("X-Project-Id", "p"), ("Host", "h"), ("content-type", "application/json"), ("HOST", "h"),
            ("X_Ignored", "i"), ("User-Agent", "u"),
        ])
        let signature = HuaweiSigner(accessKey: "ak", secretKey: "sk").sign(request, epochSeconds: 0, unsignedHeaders: ["Content-Type"])
        #expect(signature.authorization.signedHeaders == ["host", "user-agent", "x-project-id", "x-sdk-date"])
    }
}
