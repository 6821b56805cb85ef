/// Why a request's `SDK-HMAC-SHA256` signature was not accepted.
///
/// The description is safe to return to the client: it never includes the secret key or the expected signature.
public enum SignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case missingAuthorization
    case malformedAuthorization
    case unsupportedAlgorithm(String)
    case missingDate
    case malformedDate(String)
    /// `X-Sdk-Date` differs from the server's clock by more than the allowed skew.
    case dateSkewed(sdkDate: String, skewSeconds: Int64, allowedSeconds: Int64)
    case unknownAccessKey(String)
    case signedHeaderMissing(String)
    /// `X-Sdk-Date` must itself be signed, otherwise an old signature could be replayed with a fresh date.
    case dateNotSigned
    case signatureMismatch

    public var description: String {
        switch self {
        case .missingAuthorization: "no Authorization header and no X-Auth-Token"
        case .malformedAuthorization: "the Authorization header is not 'SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…'"
        case .unsupportedAlgorithm(let name): "signing algorithm '\(name)' is not supported; use SDK-HMAC-SHA256"
        case .missingDate: "the X-Sdk-Date header is missing"
        case .malformedDate(let text): "X-Sdk-Date '\(text)' is not in the form yyyyMMddTHHmmssZ"
        case .dateSkewed(let date, let skew, let allowed):
            "X-Sdk-Date \(date) is \(skew) s away from the server time (at most \(allowed) s allowed)"
        case .unknownAccessKey(let key): "access key \(key) is unknown"
        case .signedHeaderMissing(let name): "header '\(name)' is listed in SignedHeaders but absent from the request"
        case .dateNotSigned: "x-sdk-date must be among the SignedHeaders"
        case .signatureMismatch: "verify aksk signature fail"
        }
    }
}
