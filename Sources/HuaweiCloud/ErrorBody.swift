import Foundation

/// The error code and message in a Huawei Cloud error body, whichever of the three shapes it uses:
///
/// 1. flat `{"error_code": "CBC.3124", "error_msg": "…"}` (BSS, VPCEP, SecMaster, the API gateway);
/// 2. top-level `{"code": "…", "message": "…"}` (some services, and ECS job queries that fail);
/// 3. nested `{"error": {"code": "Ecs.0114", "message": "…"}}` (ECS, older VPCEP pages).
///
/// Same order as the Go SDK's `core/sdkerr/errors.go`: flat first, then code/message, then nested objects.
struct ErrorBody: Sendable, Equatable {
    var code: String?
    var message: String?

    /// BSS answers some successes with `error_code: "CBC.0000"`; that is not an error.
    static let successCodes: Set<String> = ["CBC.0000"]

    /// `nil` when the body is not a JSON object carrying an error code or message.
    static func parse(_ bytes: [UInt8]) -> ErrorBody? {
        guard !bytes.isEmpty,
              let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? [String: Any]
        else { return nil }
        return find(in: object, depth: 0)
    }

    /// For 2xx answers: only a top-level `error_code` or a top-level `error` object counts, so that a successful body
    /// that merely contains objects with `code`/`message` fields is never mistaken for an error.
    static func parseTopLevel(_ bytes: [UInt8]) -> ErrorBody? {
        // Every successful answer passes through here; almost none has an error key. Looking for the key's bytes
        // first spares parsing each of them twice (this was 4 % of a worker's CPU in a fleet teardown). A key
        // spelt with escapes is missed here, and the answer then fails to decode as the expected document.
        guard !bytes.isEmpty, containsErrorKey(bytes),
              let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? [String: Any]
        else { return nil }
        // A successful document may carry its own `error_code` (an ECS job that failed has `error_code` and
        // `fail_reason` beside `job_id` and `status`): only an error document counts — an error message next to
        // the code, or nothing but error fields.
        if object["error_code"] != nil,
           object["error_msg"] != nil || object["error_message"] != nil || Set(object.keys).isSubset(of: errorDocumentKeys),
           let body = pair(object, codeKey: "error_code", messageKeys: ["error_msg", "error_message"]) {
            return body
        }
        if let nested = object["error"] as? [String: Any] { return pair(nested, codeKey: "code", messageKeys: ["message", "msg"]) }
        return nil
    }

    /// Whether `"error` (the start of `"error_code"` or `"error"`) occurs in the bytes.
    static func containsErrorKey(_ bytes: [UInt8]) -> Bool {
        let needle: [UInt8] = Array(#""error"#.utf8)
        guard bytes.count >= needle.count else { return false }
        return bytes.withUnsafeBufferPointer { haystack in
            var index = 0
            let last = haystack.count - needle.count
            while index <= last {
                if haystack[index] == needle[0] {
                    var matched = 1
                    while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                    if matched == needle.count { return true }
                }
                index += 1
            }
            return false
        }
    }

    private static let errorDocumentKeys: Set<String> = [
        "error_code", "error_msg", "error_message", "request_id", "encoded_authorization_message", "details",
    ]

    private static func find(in object: [String: Any], depth: Int) -> ErrorBody? {
        if let body = pair(object, codeKey: "error_code", messageKeys: ["error_msg", "error_message"]) { return body }
        if let body = pair(object, codeKey: "code", messageKeys: ["message", "msg"]) { return body }
        // Bounded recursion: a hostile body cannot make us walk forever.
        guard depth < 4 else { return nil }
        for key in object.keys.sorted() {
            if let nested = object[key] as? [String: Any], let body = find(in: nested, depth: depth + 1) { return body }
        }
        return nil
    }

    private static func pair(_ object: [String: Any], codeKey: String, messageKeys: [String]) -> ErrorBody? {
        let code = text(object[codeKey])
        let message = messageKeys.lazy.compactMap { text(object[$0]) }.first
        guard let code, !code.isEmpty else { return nil }
        return ErrorBody(code: code, message: message)
    }

    private static func text(_ value: Any?) -> String? {
        switch value {
        case let string as String: string
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    /// A short, printable description of a body that is not a JSON error: the `<title>` of an HTML page, or the
    /// first bytes with control characters removed. Never more than ~200 characters in a message.
    static func summary(_ bytes: [UInt8], contentType: String?) -> String {
        if bytes.isEmpty { return "an empty body" }
        let text = String(decoding: bytes.prefix(64 * 1024), as: UTF8.self)
        let lower = text.lowercased()
        if lower.contains("<html") || lower.contains("<!doctype html") || (contentType?.lowercased().contains("text/html") ?? false) {
            if let open = lower.range(of: "<title>"), let close = lower.range(of: "</title>", range: open.upperBound..<lower.endIndex) {
                let start = text.index(text.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: open.upperBound))
                let end = text.index(text.startIndex, offsetBy: lower.distance(from: lower.startIndex, to: close.lowerBound))
                return "an HTML page titled '\(clean(String(text[start..<end]), limit: 120))'"
            }
            return "an HTML page"
        }
        return "'\(clean(text, limit: 160))'"
    }

    static func clean(_ text: String, limit: Int) -> String {
        let scalars = text.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : Character($0) }
        var result = String(scalars).trimmingCharacters(in: .whitespaces)
        if result.count > limit { result = String(result.prefix(limit)) + "…" }
        return result
    }
}
