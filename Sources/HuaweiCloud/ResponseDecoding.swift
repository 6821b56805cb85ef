import Foundation

/// Decoding of successful answers, with failures turned into `CloudError`s that name the operation and the field.
///
/// Decision: a 2xx answer the client cannot read (truncated or malformed JSON, an HTML page, a missing required
/// field, a field of the wrong type) is **retryable**. The cloud may have glitched (a gateway error page with 200,
/// a body cut off mid-stream); if the API really changed, the saga's retry limit turns it into a stop with this
/// message. For a mutating call the change may have been applied, which the hint says.
extension HuaweiCloudClient {
    func fetch<T: Decodable>(_ type: T.Type, _ request: CloudRequest) async throws(CloudError) -> T {
        let response = try await send(request)
        return try decode(type, response, request: request)
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: Response, request: CloudRequest) throws(CloudError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch let error as DecodingError {
            throw malformed(Self.describe(error, body: response.body, contentType: response.headers.first(name: "Content-Type")), response: response, request: request)
        } catch {
            throw malformed("the answer cannot be decoded (\(error))", response: response, request: request)
        }
    }

    /// For calls whose success has no body to read (deletes answered 200/202/204): an answer with a body that is not
    /// JSON (a captive portal's or a proxy's HTML page sent with 200) did not come from the API, so it is no success.
    func expectNoContentOrJSON(_ response: Response, request: CloudRequest) throws(CloudError) {
        guard let first = response.body.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) else { return }
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            throw malformed("the answer is not JSON: " + ErrorBody.summary(response.body, contentType: response.headers.first(name: "Content-Type")),
                            response: response, request: request)
        }
    }

    /// Redacted like every failure of `send`: the message quotes the body, which may echo a credential (a proxy's
    /// or a debugging endpoint's answer holding the request's security token).
    func malformed(_ message: String, response: Response, request: CloudRequest) -> CloudError {
        CloudError(
            service: request.service, operation: request.operation, httpStatus: response.status, message: message,
            requestID: response.requestID, classification: .retryable(retryAfter: nil),
            hint: "the cloud answered success with a body the client cannot read; trying again may help"
                + (request.isMutating ? " after re-reading the resource (the change may have been applied)" : "")
                + "; if it persists the API may have changed — report it with the request id"
        ).redacting(secrets)
    }

    static func describe(_ error: DecodingError, body: [UInt8], contentType: String?) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "the answer lacks the required field '\(path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' has the wrong type (expected \(typeName(type)))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))' is null (expected \(typeName(type)))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                if body.isEmpty { return "the answer has an empty body where JSON was expected" }
                return "the answer is not valid JSON (malformed or truncated): \(ErrorBody.summary(body, contentType: contentType))"
            }
            return "field '\(path(context.codingPath))' is invalid: \(context.debugDescription)"
        @unknown default:
            return "the answer cannot be decoded"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text.isEmpty ? "(top level)" : text
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type, is Decimal.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)".contains("Array") ? "an array" : (("\(type)".contains("Dictionary") || "\(type)".hasPrefix("Wire")) ? "an object" : "\(type)")
        }
    }

    /// Encodes a request body with sorted keys (stable bytes, so signatures are reproducible). The bodies are plain
    /// structs of strings, numbers and booleans, for which encoding cannot fail.
    static func json<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map(Array.init) ?? []
    }
}

/// Decodes a number that some answers send as a string (`"measure_id": "1"`, amounts as `"12.50"`).
struct FlexibleDecimal: Decodable, Sendable {
    var value: Decimal
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Decimal.self) {
            value = number
        } else if let text = try? container.decode(String.self), let number = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) {
            value = number
        } else {
            throw DecodingError.typeMismatch(Decimal.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a number"))
        }
    }
}

/// Decodes an integer sent either as a number or as a string of digits.
struct FlexibleInt: Decodable, Sendable {
    var value: Int
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = number
        } else if let text = try? container.decode(String.self), let number = Int(text) {
            value = number
        } else {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: decoder.codingPath, debugDescription: "expected an integer"))
        }
    }
}
