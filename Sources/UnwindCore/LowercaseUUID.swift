import Foundation

/// A UUID that is written as lower-case text in JSON, like everywhere else Unwind shows one (the CLI's text
/// output, logs, the database). `JSONEncoder` writes a plain `UUID` as `uuidString`, in upper case, so
/// `unwind status --output json` and the HTTP API printed IDs that did not match the ones next to them.
@propertyWrapper
public struct LowercaseUUID: Sendable, Codable, Equatable, Hashable {
    public var wrappedValue: UUID

    public init(wrappedValue: UUID) {
        self.wrappedValue = wrappedValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a UUID")
        }
        wrappedValue = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.uuidString.lowercased())
    }
}
