import HuaweiCloudSigning
import Testing

@Suite("SDK-HMAC-SHA256 verifier")
struct SignatureVerifierTests {
    let verifier = SignatureVerifier()
    let keys = ["QTWAOYTTINDUT2QVKYUC": "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", "AccessKey": "SecretKey"]
    /// 2019-11-15T03:36:55Z, the date of vector V3.
    let v3Time: Int64 = 1_573_789_015

    func v3Request(signature: String = "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe") -> SignableRequest {
        SignableRequest(
            method: "GET",
            uri: "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?marker=13551d6b-755d-4757-b956-536f674975c0&limit=2",
            headers: [
                ("content-type", "application/json"), ("host", "service.region.example.com"), ("x-sdk-date", "20191115T033655Z"),
                ("Authorization", "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=\(signature)"),
                ("X-Unsigned", "anything"),
            ]
        )
    }

    @Test("accepts vector V3 with unsigned extra headers and reordered query")
    func acceptsV3() throws {
        let verified = try verifier.verify(v3Request(), nowEpochSeconds: v3Time + 60) { keys[$0] }
        #expect(verified.accessKey == "QTWAOYTTINDUT2QVKYUC")
    }

    @Test("accepts V1 and V2")
    func acceptsGoVectors() throws {
        let now: Int64 = SdkDate.parse("20060102T150405Z")!
        let v1 = SignableRequest(method: "GET", uri: "/path?limit=1", headers: [
            ("X-Sdk-Date", "20060102T150405Z"), ("TEST_UNDERSCORE", "TEST_VALUE"),
            ("Authorization", "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"),
        ])
        _ = try verifier.verify(v1, nowEpochSeconds: now) { keys[$0] }
        let v2 = SignableRequest(method: "POST", uri: "/path?key=value", headers: [
            ("X-Sdk-Date", "20060102T150405Z"), ("Content-Type", "application/json"),
            ("Authorization", "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"),
        ], body: Array("{\"Name\":\"test\",\"Id\":1}\n".utf8))
        _ = try verifier.verify(v2, nowEpochSeconds: now) { keys[$0] }
    }

    @Test("rejects a wrong signature")
    func mismatch() {
        #expect(throws: SignatureError.signatureMismatch) {
            try verifier.verify(v3Request(signature: String(repeating: "0", count: 64)), nowEpochSeconds: v3Time) { keys[$0] }
        }
    }

    @Test("rejects a tampered body or header")
    func tampered() {
        var request = v3Request()
        request.headers[1].value = "other.example.com"
        #expect(throws: SignatureError.signatureMismatch) {
            try verifier.verify(request, nowEpochSeconds: v3Time) { keys[$0] }
        }
    }

    @Test("rejects a date skewed by more than 15 minutes, accepts exactly 15")
    func skew() throws {
        _ = try verifier.verify(v3Request(), nowEpochSeconds: v3Time + 900) { keys[$0] }
        #expect(throws: SignatureError.dateSkewed(sdkDate: "20191115T033655Z", skewSeconds: -901, allowedSeconds: 900)) {
            try verifier.verify(v3Request(), nowEpochSeconds: v3Time + 901) { keys[$0] }
        }
    }

    @Test("rejects unknown keys, missing headers and malformed authorization")
    func otherFailures() {
        #expect(throws: SignatureError.unknownAccessKey("QTWAOYTTINDUT2QVKYUC")) {
            try verifier.verify(v3Request(), nowEpochSeconds: v3Time) { _ in nil }
        }
        var noHost = v3Request()
        noHost.headers.remove(at: 1)
        #expect(throws: SignatureError.signedHeaderMissing("host")) {
            try verifier.verify(noHost, nowEpochSeconds: v3Time) { keys[$0] }
        }
        #expect(throws: SignatureError.missingAuthorization) {
            try verifier.verify(SignableRequest(method: "GET", uri: "/"), nowEpochSeconds: v3Time) { keys[$0] }
        }
        #expect(throws: SignatureError.malformedAuthorization) {
            try AuthorizationHeader.parse("SDK-HMAC-SHA256 Access=x")
        }
        #expect(throws: SignatureError.unsupportedAlgorithm("AWS4-HMAC-SHA256")) {
            try AuthorizationHeader.parse("AWS4-HMAC-SHA256 Credential=x")
        }
    }

    @Test("signer output verifies (round trip with percent-encoded path and query)")
    func roundTrip() throws {
        let signer = HuaweiSigner(accessKey: "AccessKey", secretKey: "SecretKey")
        var request = SignableRequest(method: "POST", uri: "/v2/orders/a%20b?x=%E4%B8%AD&y=1", headers: [
            ("Host", "127.0.0.1:8080"), ("Content-Type", "application/json"), ("X-Domain-Id", "d1"),
        ], body: Array("{}".utf8))
        let signature = signer.sign(request, epochSeconds: 1_700_000_000)
        request.headers += signature.headersToAdd
        let verified = try verifier.verify(request, nowEpochSeconds: 1_700_000_100) { keys[$0] }
        #expect(verified.signedHeaders == ["content-type", "host", "x-domain-id", "x-sdk-date"])
    }
}
