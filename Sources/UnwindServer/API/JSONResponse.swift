import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON in the same shape as `unwind … --output json`: snake_case keys, ISO 8601 dates.
enum JSONResponse {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data: Data
        do {
            data = try encoder().encode(value)
        } catch {
            data = Data(#"{"error":{"code":"internal","message":"the answer could not be encoded"}}"#.utf8)
            return Response(status: .internalServerError, headers: jsonHeaders, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return Response(status: status, headers: jsonHeaders, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok, cache: String = "no-store") -> Response {
        Response(
            status: status, headers: [.contentType: contentType, .cacheControl: cache],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
