/// Signs requests with `SDK-HMAC-SHA256`, the AK/SK scheme of the Huawei Cloud API gateway.
///
/// ```swift
/// let signer = HuaweiSigner(accessKey: ak, secretKey: sk)
/// let added = signer.sign(SignableRequest(method: "GET", uri: "/v1/\(project)/vpc-endpoints?limit=10",
///                                         headers: [("Host", host), ("X-Project-Id", project)]),
///                         epochSeconds: now)
/// // add `added` (X-Sdk-Date and Authorization) to the outgoing request
/// ```
///
/// Every header passed in is signed (as the Python SDK does) except names containing `_`, which gateways drop,
/// and names listed in `unsignedHeaders` (the Go SDK, for instance, leaves out `Content-Type`).
public struct HuaweiSigner: Sendable {
    public let credentials: HuaweiCredentials

    public init(accessKey: String, secretKey: String, securityToken: String? = nil) {
        self.credentials = HuaweiCredentials(accessKey: accessKey, secretKey: secretKey, securityToken: securityToken)
    }

    public init(credentials: HuaweiCredentials) {
        self.credentials = credentials
    }

    /// The result of signing: the headers to add to the request and the intermediate strings (for debugging).
    public struct Signature: Sendable {
        /// `X-Sdk-Date` (unless the request already had one), `X-Security-Token` for temporary credentials, and
        /// `Authorization`, in that order.
        public var headersToAdd: [(name: String, value: String)]
        public var authorization: AuthorizationHeader
        public var canonicalRequest: String
        public var stringToSign: String
    }

    /// Signs `request` as of `epochSeconds` (seconds since 1970, UTC) unless it already carries `X-Sdk-Date`.
    public func sign(_ request: SignableRequest, epochSeconds: Int64, unsignedHeaders: Set<String> = []) -> Signature {
        var request = request
        var added: [(name: String, value: String)] = []
        let sdkDate: String
        if let existing = request.header(Canonical.dateHeader) {
            sdkDate = existing
        } else {
            sdkDate = SdkDate.format(epochSeconds: epochSeconds)
            added.append((Canonical.dateHeader, sdkDate))
            request.headers.append((Canonical.dateHeader, sdkDate))
        }
        if let token = credentials.securityToken, request.header("X-Security-Token") == nil {
            added.append(("X-Security-Token", token))
            request.headers.append(("X-Security-Token", token))
        }
        let excluded = unsignedHeaders.isEmpty ? [] : Set(unsignedHeaders.map { $0.lowercased() })
        var signedHeaders: [String] = []
        signedHeaders.reserveCapacity(request.headers.count)
        for header in request.headers {
            let name = header.name.lowercased()
            guard !name.utf8.contains(UInt8(ascii: "_")), !excluded.contains(name), !signedHeaders.contains(name) else { continue }
            signedHeaders.append(name)
        }
        // Byte order, as the SDKs sort; on the UTF-8 views, without copying each name for every comparison.
        signedHeaders.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        // Every name in `signedHeaders` comes from `request.headers`, so canonicalisation cannot fail.
        let canonical = Canonical.request(request, signedHeaders: signedHeaders, payloadHash: Canonical.payloadHash(request)) ?? ""
        let toSign = Canonical.stringToSign(canonicalRequest: canonical, sdkDate: sdkDate)
        let authorization = AuthorizationHeader(
            accessKey: credentials.accessKey,
            signedHeaders: signedHeaders,
            signature: Canonical.signature(stringToSign: toSign, secretKey: credentials.secretKey)
        )
        added.append(("Authorization", authorization.value))
        return Signature(headersToAdd: added, authorization: authorization, canonicalRequest: canonical, stringToSign: toSign)
    }
}
