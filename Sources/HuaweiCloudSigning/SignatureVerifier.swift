/// Verifies `SDK-HMAC-SHA256` signatures the way the API gateway does.
///
/// The set of signed headers is taken from the client's `SignedHeaders` list (the Go SDK, the Python SDK and
/// hand-written clients all sign different sets), `X-Sdk-Date` must be signed and within `maxSkewSeconds` of `now`.
/// Replay detection needs memory across requests and is left to the caller (see `VerifiedSignature.signature`).
public struct SignatureVerifier: Sendable {
    public var maxSkewSeconds: Int64

    /// - Parameter maxSkewSeconds: the gateway allows ±15 minutes.
    public init(maxSkewSeconds: Int64 = 15 * 60) {
        self.maxSkewSeconds = maxSkewSeconds
    }

    /// What a successful verification established.
    public struct VerifiedSignature: Sendable, Hashable {
        public var accessKey: String
        public var signedHeaders: [String]
        public var signature: String
        public var sdkDateEpochSeconds: Int64
    }

    /// - Parameters:
    ///   - nowEpochSeconds: the server's current time, seconds since 1970 UTC.
    ///   - secretKey: looks up the secret key of an access key; `nil` when the key is unknown.
    public func verify(
        _ request: SignableRequest,
        nowEpochSeconds: Int64,
        secretKey: (String) -> String?
    ) throws(SignatureError) -> VerifiedSignature {
        guard let authorizationText = request.header("Authorization") else { throw .missingAuthorization }
        let authorization = try AuthorizationHeader.parse(authorizationText)
        guard let sdkDate = request.header(Canonical.dateHeader) else { throw .missingDate }
        guard let signedAt = SdkDate.parse(sdkDate) else { throw .malformedDate(sdkDate) }
        guard authorization.signedHeaders.contains("x-sdk-date") else { throw .dateNotSigned }
        let skew = signedAt - nowEpochSeconds
        guard abs(skew) <= maxSkewSeconds else {
            throw .dateSkewed(sdkDate: sdkDate, skewSeconds: skew, allowedSeconds: maxSkewSeconds)
        }
        guard let key = secretKey(authorization.accessKey) else { throw .unknownAccessKey(authorization.accessKey) }
        for name in authorization.signedHeaders where request.header(name) == nil {
            throw .signedHeaderMissing(name)
        }
        // The Python SDK ignores X-Sdk-Content-Sha256 for an empty body while the Go SDK honours it, so both
        // readings are accepted; they differ only for an empty body sent with that header.
        var hashes = [Canonical.payloadHash(request)]
        if request.body.isEmpty, let declared = request.header(Canonical.contentHashHeader), !declared.isEmpty {
            hashes.append(declared)
        }
        for hash in hashes {
            guard let canonical = Canonical.request(request, signedHeaders: authorization.signedHeaders, payloadHash: hash) else { continue }
            let expected = Canonical.signature(stringToSign: Canonical.stringToSign(canonicalRequest: canonical, sdkDate: sdkDate), secretKey: key)
            if constantTimeEquals(expected, authorization.signature.lowercased()) {
                return VerifiedSignature(
                    accessKey: authorization.accessKey,
                    signedHeaders: authorization.signedHeaders,
                    signature: expected,
                    sdkDateEpochSeconds: signedAt
                )
            }
        }
        throw .signatureMismatch
    }

    /// Compares without an early exit so the time taken does not reveal how many leading characters matched.
    private func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
