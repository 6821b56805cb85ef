import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UnwindCore

/// Strict reading of query strings and JSON bodies: anything unknown or mistyped is a 400 that names the field
/// and what it should be, so a typo never silently widens a list or drops an option.
enum RequestParsing {
    static func query(_ request: Request, allowed: Set<String>) throws(APIError) -> [String: [String]] {
        var values: [String: [String]] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard allowed.contains(name) else {
                throw .badRequest(
                    "unknown query parameter '\(clip(name))'; "
                        + (allowed.isEmpty ? "this endpoint takes none" : "this endpoint takes: \(allowed.sorted().joined(separator: ", "))"),
                    code: "unknown_parameter")
            }
            values[name, default: []].append(String(value))
        }
        return values
    }

    static func single(_ values: [String: [String]], _ name: String) throws(APIError) -> String? {
        guard let list = values[name] else { return nil }
        guard list.count == 1 else { throw .badRequest("query parameter '\(name)' is given \(list.count) times; give it once") }
        return list[0]
    }

    static func integer(_ values: [String: [String]], _ name: String, default fallback: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = try single(values, name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw .badRequest("query parameter '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound) (got '\(clip(text))')")
        }
        return value
    }

    /// How much of a too-large body is read (and dropped) so the client gets to read the 413.
    static let drainLimit = 16 * 1024 * 1024

    /// The body as a JSON object with only `allowed` keys.
    /// `example` is shown in the errors about the body's shape.
    static func object(_ request: Request, allowed: Set<String>, limit: Int, example: String = #"{"reason": "…"}"#) async throws -> [String: JSONValue] {
        // Read by hand rather than with `collectBody(upTo:)`, which stops reading at the limit: a client that sends
        // its whole body before reading the answer (Python's urllib, curl without Expect) would then block on a
        // full socket and never see the 413. The rest of a too-large body is read and dropped, up to a bound.
        var buffer = ByteBuffer()
        var received = 0
        for try await part in request.body {
            received += part.readableBytes
            if received <= limit { buffer.writeImmutableBuffer(part) } else if received > Self.drainLimit { break }
        }
        if received > limit {
            var error = APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(limit / 1024) KiB")
            error.headers[.connection] = "close"
            throw error
        }
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the body as JSON with 'Content-Type: application/json' (got '\(clip(type))')")
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest("this call needs a JSON object body, e.g. \(example)", code: "invalid_body")
        }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw APIError.badRequest("the body is not valid UTF-8; JSON must be sent as UTF-8", code: "invalid_body")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text, rejectingDuplicateNames: true)
        } catch {
            throw APIError.badRequest("the body is not valid JSON (\(error.description)); send e.g. \(example)", code: "invalid_body")
        }
        guard case .object(let object) = value else {
            throw APIError.badRequest("the body is not a JSON object; send e.g. \(example)", code: "invalid_body")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.badRequest(
                "unknown field '\(clip(unknown))'; this call takes: \(allowed.sorted().joined(separator: ", "))", code: "unknown_field")
        }
        // Values the database cannot hold (a NUL character, a non-finite number) are the client's to fix, named here
        // rather than failing the statement. `input` is checked field by field with the workflow's declarations.
        for key in object.keys.sorted() where key != "input" {
            if let problem = object[key]!.storageProblem {
                throw APIError.badRequest("field '\(key)' \(problem)", code: "invalid_value")
            }
        }
        return object
    }

    static func string(_ object: [String: JSONValue], _ name: String, required: Bool, maxLength: Int = 2000) throws(APIError) -> String? {
        guard let value = object[name], value != .null else {
            if required { throw .badRequest("field '\(name)' is required", code: "missing_field") }
            return nil
        }
        guard let text = value.stringValue else { throw .badRequest("field '\(name)' must be a string") }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if required && trimmed.isEmpty { throw .badRequest("field '\(name)' must not be empty", code: "missing_field") }
        guard trimmed.count <= maxLength else { throw .badRequest("field '\(name)' is longer than \(maxLength) characters") }
        return trimmed
    }

    static func bool(_ object: [String: JSONValue], _ name: String) throws(APIError) -> Bool {
        guard let value = object[name], value != .null else { return false }
        guard let flag = value.boolValue else { throw .badRequest("field '\(name)' must be true or false") }
        return flag
    }

    /// Who the caller says they are, for the history: `api:NAME`, else `api:token`. The token proves the call
    /// may be made; the name is the caller's word (like `unwind … --as NAME`).
    static func actor(_ object: [String: JSONValue]) throws(APIError) -> String {
        guard let name = try string(object, "actor", required: false, maxLength: ActorName.maxLength), !name.isEmpty else { return "api:token" }
        if let problem = ActorName.problem(name) {
            throw .badRequest("field 'actor': \(problem) (got '\(clip(name))')")
        }
        return "api:" + name
    }

    /// A value echoed in an error message, cut short and with control characters escaped.
    static func clip(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(64) {
            if scalar.value < 0x20 || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > 64 ? result + "…" : result
    }
}
