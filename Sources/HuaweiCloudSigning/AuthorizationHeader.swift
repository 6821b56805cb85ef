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
    public static func parse(_ text: String) throws(SignatureError) -> AuthorizationHeader {
        let trimmed = Canonical.trim(text)
        guard let space = trimmed.firstIndex(of: " ") else { throw .malformedAuthorization }
        let scheme = String(trimmed[..<space])
        guard scheme == Canonical.algorithm else { throw .unsupportedAlgorithm(scheme) }
        var fields: [String: String] = [:]
        for part in trimmed[trimmed.index(after: space)...].split(separator: ",") {
            let item = Canonical.trim(String(part))
            guard let eq = item.firstIndex(of: "=") else { throw .malformedAuthorization }
            fields[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        guard let access = fields["Access"], !access.isEmpty,
              let signed = fields["SignedHeaders"], !signed.isEmpty,
              let signature = fields["Signature"], !signature.isEmpty
        else { throw .malformedAuthorization }
        return AuthorizationHeader(
            accessKey: access,
            signedHeaders: signed.split(separator: ";").map { $0.lowercased() },
            signature: signature
        )
    }
}
