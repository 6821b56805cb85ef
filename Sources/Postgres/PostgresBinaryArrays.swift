import Foundation

/// The element types of array parameters sent in PostgreSQL's binary format, by their type OIDs.
///
/// Why binary: every batch statement of the engine takes its rows as arrays (`unnest($1::uuid[], …)`), and the
/// server spent about 7 % of its time parsing their text (`array_in`, `uuid_in`, `strtoull`), the workers about as
/// much writing it. A binary array is a length-prefixed copy of each element's bytes, nothing to quote or parse.
/// The element type is written into the array and the server checks it against the parameter's declared type, so
/// an array goes out in binary only when its statement names that type in a cast (`$3::bigint[]`); anything else,
/// or an element that has no binary form here, goes out as text exactly as before.
public enum PostgresArrayElementType: UInt32, Sendable, Equatable {
    case bool = 16
    case int8 = 20
    case int4 = 23
    case text = 25
    case timestamptz = 1184
    case uuid = 2950
    case jsonb = 3802

    /// The array parameters a statement's text declares with a cast, `$N::type[]`, indexed by parameter number
    /// minus one (`nil` where none is declared, or where two casts disagree: that parameter is sent as text and
    /// the server reports its own error).
    public static func declaredArrayParameters(in sql: String) -> [PostgresArrayElementType?] {
        let bytes = Array(sql.utf8)
        var declared: [Int: PostgresArrayElementType?] = [:]
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "$") else { index += 1; continue }
            index += 1
            var number = 0, digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57, digits < 6 {
                number = number * 10 + Int(bytes[index] - 48)
                digits += 1
                index += 1
            }
            guard digits > 0, number > 0, index + 1 < bytes.count,
                  bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: ":") else { continue }
            index += 2
            let nameStart = index
            while index < bytes.count, isIdentifierByte(bytes[index]) { index += 1 }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
            let isArray = index + 1 < bytes.count && bytes[index] == UInt8(ascii: "[") && bytes[index + 1] == UInt8(ascii: "]")
            let type: PostgresArrayElementType? = isArray ? elementType(named: name) : nil
            if let existing = declared[number], existing != type {
                declared[number] = .some(nil)
            } else {
                declared[number] = type
            }
        }
        guard let highest = declared.keys.max() else { return [] }
        return (1...highest).map { declared[$0] ?? nil }
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= 48 && byte <= 57) || byte == UInt8(ascii: "_")
    }

    private static func elementType(named name: String) -> PostgresArrayElementType? {
        switch name {
        case "bool", "boolean": .bool
        case "int8", "bigint": .int8
        case "int4", "int", "integer": .int4
        case "text": .text
        case "timestamptz": .timestamptz
        case "uuid": .uuid
        case "jsonb": .jsonb
        default: nil
        }
    }
}

/// Writes a one-dimensional array in PostgreSQL's binary format (`array_recv`): dimensions, a has-NULL flag, the
/// element type, the length and lower bound, then each element as a 4-byte length (-1 for NULL) and its bytes.
public struct PostgresBinaryArrayWriter {
    let elementType: PostgresArrayElementType
    private(set) var bytes: [UInt8] = []
    private var count: Int32 = 0
    private var hasNull = false

    init(elementType: PostgresArrayElementType, capacity: Int) {
        self.elementType = elementType
        bytes.reserveCapacity(20 + capacity * 24)
        appendInt32(1)  // dimensions, rewritten to 0 for an empty array
        appendInt32(0)  // has NULL, rewritten at the end
        appendInt32(Int32(bitPattern: elementType.rawValue))
        appendInt32(0)  // length, rewritten at the end
        appendInt32(1)  // lower bound
    }

    public mutating func appendNull() {
        appendInt32(-1)
        hasNull = true
        count += 1
    }

    /// Appends one element's bytes, the length prefix written first.
    public mutating func appendElement<Bytes: Sequence<UInt8>>(_ elementBytes: Bytes, length: Int, prefix: UInt8? = nil) {
        appendInt32(Int32(length + (prefix == nil ? 0 : 1)))
        if let prefix { bytes.append(prefix) }
        bytes.append(contentsOf: elementBytes)
        count += 1
    }

    public mutating func appendElement(int32 value: Int32) {
        appendInt32(4)
        appendInt32(value)
        count += 1
    }

    public mutating func appendElement(int64 value: Int64) {
        appendInt32(8)
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        count += 1
    }

    private mutating func appendInt32(_ value: Int32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    consuming func finish() -> [UInt8] {
        if count == 0 {
            // An empty array has no dimensions (and so no length or lower bound).
            bytes.removeLast(8)
            bytes.replaceSubrange(0..<4, with: [0, 0, 0, 0])
            return bytes
        }
        withUnsafeBytes(of: Int32(hasNull ? 1 : 0).bigEndian) { bytes.replaceSubrange(4..<8, with: $0) }
        withUnsafeBytes(of: count.bigEndian) { bytes.replaceSubrange(12..<16, with: $0) }
        return bytes
    }
}

extension Array: PostgresBinaryArrayEncodable where Element: PostgresEncodable {
    /// This array in binary format as an array of `type`, or `nil` when an element has no binary form of that
    /// type (the caller sends the text form then).
    public func postgresBinaryArray(of type: PostgresArrayElementType) -> [UInt8]? {
        var writer = PostgresBinaryArrayWriter(elementType: type, capacity: count)
        for value in self {
            guard value.appendPostgresBinaryElement(type, to: &writer) else { return nil }
        }
        return writer.finish()
    }
}

// MARK: Elements

extension UUID {
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        guard type == .uuid else { return false }
        withUnsafeBytes(of: uuid) { writer.appendElement($0, length: 16) }
        return true
    }
}

extension StringProtocol {
    /// Text and JSON elements are their UTF-8 bytes (JSONB's prefixed by its format version, 1). A NUL character
    /// has no place in either: such an array goes out as text, whose encoder refuses it with a clear error.
    func appendPostgresBinaryText(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        guard type == .text || type == .jsonb else { return false }
        let utf8 = self.utf8
        guard !utf8.contains(0) else { return false }
        writer.appendElement(utf8, length: utf8.count, prefix: type == .jsonb ? 1 : nil)
        return true
    }
}

extension BinaryInteger {
    func appendPostgresBinaryInteger(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        switch type {
        case .int4:
            // Out of range: sent as text, so the server reports "out of range for type integer" as it always did.
            guard let value = Int32(exactly: self) else { return false }
            writer.appendElement(int32: value)
        case .int8:
            guard let value = Int64(exactly: self) else { return false }
            writer.appendElement(int64: value)
        default:
            return false
        }
        return true
    }
}

extension Bool {
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        guard type == .bool else { return false }
        writer.appendElement(CollectionOfOne(self ? 1 : 0), length: 1)
        return true
    }
}

extension Date {
    /// Microseconds since 2000-01-01 UTC, rounded and clamped exactly as the text form is.
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        guard type == .timestamptz else { return false }
        writer.appendElement(int64: PostgresTimestamp.microsecondsSince2000(self))
        return true
    }
}

// Texts and integers of every kind, through the protocol's more specific defaults.
extension PostgresEncodable where Self: StringProtocol {
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        appendPostgresBinaryText(type, to: &writer)
    }
}

extension PostgresEncodable where Self: BinaryInteger {
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        appendPostgresBinaryInteger(type, to: &writer)
    }
}

extension PostgresRawJSON {
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        text.appendPostgresBinaryText(type, to: &writer)
    }
}

extension Optional where Wrapped: PostgresEncodable {
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool {
        switch self {
        case .none:
            writer.appendNull()
            return true
        case .some(let value):
            return value.appendPostgresBinaryElement(type, to: &writer)
        }
    }
}
