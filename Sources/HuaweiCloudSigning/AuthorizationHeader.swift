/// The parsed `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` header.
public struct AuthorizationHeader: Sendable, Hashable {
    public var accessKey: String
    /// Lower-cased header names in the order the client listed them.
    public var signedHeaders: [String]
    public var signature: String

    public init(accessKey: String, signedHeaders: [String], signature: String) {
        self.accessKey = accessKey
        self.signedHeaders = signedHeaders
        self.signature = signature
    }

    /// The header value exactly as the SDKs write it.
    public var value: String {
        "\(Canonical.algorithm) Access=\(accessKey), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)"
    }

    /// Parses the header; tolerant of extra blanks around the comma-separated parts.
    ///
    /// - `SDK-HMAC-SHA256` and the parts are separated by the first space; any other scheme is
    ///   `.unsupportedAlgorithm` with the text before that space.
    /// - Every part is `name=value` (blank-only parts are malformed, empty ones between commas are skipped); the
    ///   value runs to the next comma, a repeated name keeps its last value and unknown names are ignored.
    /// - `Access`, `SignedHeaders` and `Signature` must be present and not empty.
    public static func parse(_ text: String) throws(SignatureError) -> AuthorizationHeader {
        // One pass over the UTF-8 bytes: splitting into Strings and a Dictionary was a third of the simulator's
        // signature verification. All delimiters are ASCII, so cutting there leaves whole UTF-8 sequences. (The
        // String version matched Characters, so it differed for non-ASCII oddities only, such as a combining mark
        // straight after a delimiter, which hid the delimiter from it.)
        var text = text
        return try text.withUTF8 { parse(utf8: $0) }.get()
    }

    private static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Result<AuthorizationHeader, SignatureError> {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        func equals(_ range: Range<Int>, _ name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            for offset in 0..<range.count where bytes[range.lowerBound + offset] != name.utf8Start[offset] { return false }
            return true
        }

        var start = 0, end = bytes.count
        while start < end, isBlank(bytes[start]) { start += 1 }
        while end > start, isBlank(bytes[end - 1]) { end -= 1 }
        var space = start
        while space < end, bytes[space] != UInt8(ascii: " ") { space += 1 }
        guard space < end else { return .failure(.malformedAuthorization) }
        guard bytes[start..<space].elementsEqual(Canonical.algorithm.utf8) else { return .failure(.unsupportedAlgorithm(string(start..<space))) }

        var access: Range<Int>?, signedHeaders: Range<Int>?, signature: Range<Int>?
        var partStart = space + 1
        while partStart < end {
            var partEnd = partStart
            while partEnd < end, bytes[partEnd] != UInt8(ascii: ",") { partEnd += 1 }
            defer { partStart = partEnd + 1 }
            if partEnd == partStart { continue }
            var lower = partStart, upper = partEnd
            while lower < upper, isBlank(bytes[lower]) { lower += 1 }
            while upper > lower, isBlank(bytes[upper - 1]) { upper -= 1 }
            var equalsSign = lower
            while equalsSign < upper, bytes[equalsSign] != UInt8(ascii: "=") { equalsSign += 1 }
            guard equalsSign < upper else { return .failure(.malformedAuthorization) }
            let name = lower..<equalsSign, value = (equalsSign + 1)..<upper
            if equals(name, "Access") {
                access = value
            } else if equals(name, "SignedHeaders") {
                signedHeaders = value
            } else if equals(name, "Signature") {
                signature = value
            }
        }
        guard let access, !access.isEmpty, let signedHeaders, !signedHeaders.isEmpty, let signature, !signature.isEmpty else {
            return .failure(.malformedAuthorization)
        }

        var names: [String] = []
        var nameStart = signedHeaders.lowerBound
        while nameStart < signedHeaders.upperBound {
            var nameEnd = nameStart
            var plain = true  // nothing to lower-case
            var ascii = true
            while nameEnd < signedHeaders.upperBound, bytes[nameEnd] != UInt8(ascii: ";") {
                let byte = bytes[nameEnd]
                if byte >= 0x80 { ascii = false } else if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { plain = false }
                nameEnd += 1
            }
            if nameEnd > nameStart {
                if !ascii {
                    names.append(string(nameStart..<nameEnd).lowercased())
                } else if plain {
                    names.append(string(nameStart..<nameEnd))
                } else {
                    names.append(String(decoding: bytes[nameStart..<nameEnd].map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self))
                }
            }
            nameStart = nameEnd + 1
        }
        return .success(AuthorizationHeader(accessKey: string(access), signedHeaders: names, signature: string(signature)))
    }
}
