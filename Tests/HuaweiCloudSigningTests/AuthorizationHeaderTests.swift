import HuaweiCloudSigning
import Testing

@Suite("Authorization header parsing")
struct AuthorizationHeaderTests {
    private func outcome(_ text: String) -> Result<AuthorizationHeader, SignatureError> {
        do { return .success(try AuthorizationHeader.parse(text)) } catch { return .failure(error) }
    }

    private let expected = AuthorizationHeader(accessKey: "AK", signedHeaders: ["content-type", "host", "x-sdk-date"], signature: "abc123")

    @Test("the SDK format, and the header the signer writes, parse back")
    func sdkFormat() throws {
        #expect(outcome("SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature=abc123") == .success(expected))
        #expect(try AuthorizationHeader.parse(expected.value) == expected)
        let signer = HuaweiSigner(accessKey: "AccessKey", secretKey: "SecretKey")
        let signed = signer.sign(SignableRequest(method: "GET", uri: "/v1/x", headers: [("Host", "h")]), epochSeconds: 1_700_000_000)
        #expect(try AuthorizationHeader.parse(signed.authorization.value) == signed.authorization)
    }

    @Test("blanks (spaces, tabs) around the header, the parts and the commas are ignored", arguments: [
        "   SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature=abc123  ",
        "\tSDK-HMAC-SHA256    Access=AK ,SignedHeaders=content-type;host;x-sdk-date ,\t Signature=abc123\t",
        "SDK-HMAC-SHA256 Access=AK,SignedHeaders=content-type;host;x-sdk-date,Signature=abc123",
        "SDK-HMAC-SHA256 \t Access=AK,\t\tSignedHeaders=content-type;host;x-sdk-date,   Signature=abc123",
        // Empty parts between commas are skipped (but a part of blanks only is not: see `malformed`).
        "SDK-HMAC-SHA256 ,Access=AK,,SignedHeaders=content-type;host;x-sdk-date,Signature=abc123,",
    ])
    func extraBlanks(_ text: String) {
        #expect(outcome(text) == .success(expected))
    }

    @Test("SignedHeaders are lower-cased in the client's order; empty names are dropped")
    func signedHeaders() throws {
        let parsed = try AuthorizationHeader.parse("SDK-HMAC-SHA256 Access=AK, SignedHeaders=X-Sdk-Date;;HOST;Content-Type;, Signature=s")
        #expect(parsed.signedHeaders == ["x-sdk-date", "host", "content-type"])
        // Non-ASCII names are lower-cased the way `String.lowercased()` does it.
        #expect(try AuthorizationHeader.parse("SDK-HMAC-SHA256 Access=AK, SignedHeaders=X-Ä;Host, Signature=s").signedHeaders == ["x-ä", "host"])
        // Only separators: the field is present but names nothing (the verifier then refuses the unsigned date).
        #expect(try AuthorizationHeader.parse("SDK-HMAC-SHA256 Access=AK, SignedHeaders=;, Signature=s").signedHeaders == [])
    }

    @Test("values are taken as written: inner blanks, '=' and non-ASCII survive; a repeated field keeps its last value")
    func values() throws {
        let parsed = try AuthorizationHeader.parse("SDK-HMAC-SHA256 Access=a b, SignedHeaders=host, Signature=x=y==, Access=ключ")
        #expect(parsed.accessKey == "ключ")
        #expect(parsed.signature == "x=y==")
        #expect(try AuthorizationHeader.parse("SDK-HMAC-SHA256 Access=a b, SignedHeaders=host, Signature=s").accessKey == "a b")
    }

    @Test("unknown fields are ignored when they are name=value", arguments: [
        "SDK-HMAC-SHA256 Credential=x, Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature=abc123",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature=abc123, Extra=",
        "SDK-HMAC-SHA256 Access=AK, access=other, SignedHeaders=content-type;host;x-sdk-date, Signature=abc123, =nameless",
    ])
    func unknownFields(_ text: String) {
        #expect(outcome(text) == .success(expected))
    }

    @Test("missing fields, empty values and parts that are not name=value are malformed", arguments: [
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host",
        "SDK-HMAC-SHA256 Access=AK, Signature=s",
        "SDK-HMAC-SHA256 SignedHeaders=host, Signature=s",
        "SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=s",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=, Signature=s",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=s, Access=",
        "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=s, flag",
        "SDK-HMAC-SHA256 Access=AK, , SignedHeaders=host, Signature=s",
        "SDK-HMAC-SHA256 Access = AK, SignedHeaders=host, Signature=s",
        "SDK-HMAC-SHA256 Access=AK; SignedHeaders=host; Signature=s",
        "SDK-HMAC-SHA256 ",
        "SDK-HMAC-SHA256 ,,,",
    ])
    func malformed(_ text: String) {
        #expect(outcome(text) == .failure(.malformedAuthorization))
    }

    @Test("another scheme is named in the error", arguments: [
        ("AWS4-HMAC-SHA256 Credential=x", "AWS4-HMAC-SHA256"),
        ("sdk-hmac-sha256 Access=AK, SignedHeaders=host, Signature=s", "sdk-hmac-sha256"),
        ("  SDK-HMAC-SHA1   Access=AK, SignedHeaders=host, Signature=s", "SDK-HMAC-SHA1"),
        // A tab does not end the scheme; only a space does.
        ("SDK-HMAC-SHA256\tAccess=AK, SignedHeaders=host, Signature=s", "SDK-HMAC-SHA256\tAccess=AK,"),
    ])
    func wrongScheme(_ text: String, scheme: String) {
        #expect(outcome(text) == .failure(.unsupportedAlgorithm(scheme)))
    }

    @Test("without a space there is no scheme to read", arguments: [
        "", "   ", "\t", "SDK-HMAC-SHA256", "  SDK-HMAC-SHA256\t", "SDK-HMAC-SHA256\tAccess=AK,SignedHeaders=host,Signature=s",
        "Access=AK,SignedHeaders=host,Signature=s",
    ])
    func noSpace(_ text: String) {
        #expect(outcome(text) == .failure(.malformedAuthorization))
    }

    /// The parser before it scanned bytes (String splitting and a Dictionary), kept as the reference.
    private static func referenceParse(_ text: String) -> Result<AuthorizationHeader, SignatureError> {
        func trim(_ text: String) -> String {
            let bytes = text.utf8
            func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
            guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
                return ""
            }
            if first == bytes.startIndex, bytes.index(after: last) == bytes.endIndex { return text }
            return String(text[first...last])
        }
        let trimmed = trim(text)
        guard let space = trimmed.firstIndex(of: " ") else { return .failure(.malformedAuthorization) }
        let scheme = String(trimmed[..<space])
        guard scheme == Canonical.algorithm else { return .failure(.unsupportedAlgorithm(scheme)) }
        var fields: [String: String] = [:]
        for part in trimmed[trimmed.index(after: space)...].split(separator: ",") {
            let item = trim(String(part))
            guard let eq = item.firstIndex(of: "=") else { return .failure(.malformedAuthorization) }
            fields[String(item[..<eq])] = String(item[item.index(after: eq)...])
        }
        guard let access = fields["Access"], !access.isEmpty,
              let signed = fields["SignedHeaders"], !signed.isEmpty,
              let signature = fields["Signature"], !signature.isEmpty
        else { return .failure(.malformedAuthorization) }
        return .success(AuthorizationHeader(accessKey: access, signedHeaders: signed.split(separator: ";").map { $0.lowercased() }, signature: signature))
    }

    @Test("agrees with the previous String-based parser on generated headers")
    func agreesWithReference() {
        // Deterministic (xorshift), so a failure reproduces; the pieces are the header's delimiters and words,
        // plus precomposed non-ASCII text (no combining marks, whose grapheme clustering the old parser saw).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        let blanks = ["", " ", "  ", "\t", " \t "]
        let schemes = ["SDK-HMAC-SHA256", "SDK-HMAC-SHA256", "SDK-HMAC-SHA256", "sdk-hmac-sha256", "AWS4-HMAC-SHA256", "SDK-HMAC-SHA256\t", ""]
        let names = ["Access", "SignedHeaders", "Signature", "Access", "SignedHeaders", "Signature", "access", "Extra", "", "Access "]
        let words = ["", "AK", "ключ", "Ä", "x=y", "Host;X-Sdk-Date", "content-type;;HOST;", ";", "a b", "é;Ü", "=", "q"]
        let pieces = ["SDK-HMAC-SHA256", " ", "\t", ",", ", ", "=", ";", "Access", "SignedHeaders", "Signature", "AK", "Host", "ä", "Z"]
        var successes = 0, failures = 0
        for _ in 0..<20_000 {
            var text = ""
            if next(3) == 0 {
                for _ in 0..<next(14) { text += pieces[next(pieces.count)] }
            } else {
                text = blanks[next(blanks.count)] + schemes[next(schemes.count)] + [" ", "  ", " \t", ""][next(4)]
                // Mostly the three fields the header needs, in any order, among a few others.
                var fields = ["Access", "SignedHeaders", "Signature"].filter { _ in next(10) != 0 }
                for _ in 0..<next(3) { fields.insert(names[next(names.count)], at: next(fields.count + 1)) }
                var parts: [String] = []
                for name in fields {
                    let value = next(4) == 0 ? words[next(words.count)] : ["AK", "host;X-Sdk-Date", "abc"][next(3)]
                    parts.append(blanks[next(blanks.count)] + name + (next(12) == 0 ? "" : "=") + value + blanks[next(blanks.count)])
                }
                text += parts.joined(separator: [",", ",", ",", ",,", ", ,"][next(5)]) + (next(5) == 0 ? "," : "") + blanks[next(blanks.count)]
            }
            let ours = outcome(text)
            #expect(ours == Self.referenceParse(text), "\(text.debugDescription)")
            if case .success = ours { successes += 1 } else { failures += 1 }
        }
        // Both outcomes must be well represented for the comparison to mean anything.
        #expect(successes > 500)
        #expect(failures > 500)
    }
}
