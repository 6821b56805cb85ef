import Crypto

/// Canonicalisation rules of `SDK-HMAC-SHA256` (Huawei "APIG" signing), shared by signer and verifier.
///
/// Mirrors `huaweicloudsdkcore/signer/signer.py` (3.1.219) and the Go SDK's `core/auth/signer/signer.go`:
/// the path is percent-decoded, split on `/`, each segment re-encoded keeping only unreserved characters,
/// and always ends with `/`; the query is decoded, sorted by key then value and re-encoded.
public enum Canonical {
    public static let algorithm = "SDK-HMAC-SHA256"
    public static let dateHeader = "X-Sdk-Date"
    public static let contentHashHeader = "X-Sdk-Content-Sha256"
    /// SHA-256 of the empty string, used for requests without a body.
    public static let emptyBodyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// `CanonicalRequest = METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH`.
    ///
    /// - Parameter signedHeaders: lower-cased header names, already sorted, as listed in `SignedHeaders`.
    /// - Returns: `nil` when a header named in `signedHeaders` is absent from the request.
    public static func request(_ request: SignableRequest, signedHeaders: [String], payloadHash: String) -> String? {
        var lines: [String] = []
        for name in signedHeaders {
            guard let value = request.header(name) else { return nil }
            lines.append("\(name):\(value)")
        }
        let canonicalHeaders = lines.joined(separator: "\n") + "\n"
        return [
            request.method.uppercased(),
            uri(request.path),
            queryString(request.query),
            canonicalHeaders,
            signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    /// `StringToSign = SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(SHA256(CanonicalRequest))`.
    public static func stringToSign(canonicalRequest: String, sdkDate: String) -> String {
        "\(algorithm)\n\(sdkDate)\n\(hexSHA256(Array(canonicalRequest.utf8)))"
    }

    /// hex(HMAC-SHA256(key: SK bytes, message: StringToSign)); no key derivation, unlike AWS SigV4.
    public static func signature(stringToSign: String, secretKey: String) -> String {
        let key = SymmetricKey(data: Array(secretKey.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key)
        return hex(Array(mac))
    }

    /// The payload hash the Python SDK uses: the empty hash for an empty body, else `X-Sdk-Content-Sha256` when
    /// present (set to `UNSIGNED-PAYLOAD` for non-JSON bodies), else the body's SHA-256.
    public static func payloadHash(_ request: SignableRequest) -> String {
        if request.body.isEmpty { return emptyBodyHash }
        if let declared = request.header(contentHashHeader), !declared.isEmpty { return declared }
        return hexSHA256(request.body)
    }

    public static func uri(_ rawPath: String) -> String {
        // Nearly every path is already canonical (unreserved characters and slashes): decoding and re-encoding
        // it would give it back unchanged, so only the trailing slash is added.
        if !rawPath.isEmpty, rawPath.utf8.allSatisfy({ isUnreserved($0) || $0 == UInt8(ascii: "/") }) {
            return rawPath.utf8.last == UInt8(ascii: "/") ? rawPath : rawPath + "/"
        }
        let decoded = percentDecode(rawPath)
        var result = decoded.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
        if !result.hasSuffix("/") { result += "/" }
        return result
    }

    public static func queryString(_ rawQuery: String) -> String {
        let pairs = queryPairs(rawQuery).map { (encode($0.0), encode($0.1)) }
        return pairs.sorted { lhs, rhs in
            // Byte order, not Swift's Unicode-aware `<`, so results match the SDKs for any input.
            if lhs.0 != rhs.0 { return Array(lhs.0.utf8).lexicographicallyPrecedes(Array(rhs.0.utf8)) }
            return Array(lhs.1.utf8).lexicographicallyPrecedes(Array(rhs.1.utf8))
        }
        .map { "\($0.0)=\($0.1)" }
        .joined(separator: "&")
    }

    /// Decoded `(key, value)` pairs in request order; a key without `=` has an empty value.
    public static func queryPairs(_ rawQuery: String) -> [(String, String)] {
        rawQuery.split(separator: "&", omittingEmptySubsequences: true).map { item in
            if let eq = item.firstIndex(of: "=") {
                return (percentDecode(String(item[..<eq])), percentDecode(String(item[item.index(after: eq)...])))
            }
            return (percentDecode(String(item)), "")
        }
    }

    /// Percent-encodes everything except the RFC 3986 unreserved set `A-Z a-z 0-9 - _ . ~`, upper-case hex.
    public static func encode(_ text: String) -> String {
        // Bytes, not string appends: every request is canonicalised twice (signer and verifier) per cloud call.
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHexDigits[Int(byte >> 4)])
                out.append(upperHexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The RFC 3986 unreserved set: `A-Z a-z 0-9 - _ . ~`.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
             UInt8(ascii: "."), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Decodes `%XX` escapes (invalid escapes are kept literally); `+` is *not* a space here.
    public static func percentDecode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(Array(SHA256.hash(data: bytes)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(lowerHexDigits[Int(byte >> 4)])
            out.append(lowerHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether two header names are equal ignoring ASCII case, without allocating lower-cased copies.
    static func namesEqual(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        return zip(lhs.utf8, rhs.utf8).allSatisfy { asciiLowercase($0) == asciiLowercase($1) }
    }

    private static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    static func trim(_ text: String) -> String {
        // On UTF-8 bytes: blanks are ASCII, and Character-wise trimming (grapheme breaking) is slow for what is
        // done to every header of every request.
        let bytes = text.utf8
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        if first == bytes.startIndex, bytes.index(after: last) == bytes.endIndex { return text }
        return String(text[first...last])
    }

    private static let upperHexDigits = Array("0123456789ABCDEF".utf8)
    private static let lowerHexDigits = Array("0123456789abcdef".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - 48
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - 55
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - 87
        default: nil
        }
    }
}
