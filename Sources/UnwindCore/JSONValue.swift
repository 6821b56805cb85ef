/// A JSON-shaped value: workflow inputs, input defaults and enum members.
///
/// Numbers are stored as `Double` (like JSON itself); `intValue` recovers integers exactly when the
/// value is integral and in range, which is all workflow inputs need.
public enum JSONValue: Sendable, Codable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

// MARK: - Accessors

extension JSONValue {
    public var isNull: Bool { self == .null }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an `Int` when it is integral and representable; `nil` for `2.5` or non-numbers.
    public var intValue: Int? {
        guard case .number(let value) = self, value.isFinite, value.rounded() == value,
              value >= -9.007_199_254_740_992e15, value <= 9.007_199_254_740_992e15
        else { return nil }
        return Int(value)
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Member of an object; `nil` for a missing key or when `self` is not an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// Element of an array; `nil` when out of range or when `self` is not an array.
    public subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }

    /// Compact JSON text with sorted object keys, so equal values always render identically
    /// (used for concurrency keys and error messages).
    public var canonicalJSON: String {
        String(decoding: canonicalJSONBytes, as: UTF8.self)
    }

    /// ``canonicalJSON`` as UTF-8 bytes, for decoders that read bytes (no round trip through `String`).
    public var canonicalJSONBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        appendCanonicalJSON(to: &bytes)
        return bytes
    }

    /// Writes UTF-8 bytes rather than concatenating strings: fleet submission serialises every row's input
    /// (and hashes it for the idempotency key), and string building scalar by scalar dominated its time.
    private func appendCanonicalJSON(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            if let int = intValue {
                bytes.append(contentsOf: String(int).utf8)
            } else {
                bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
            }
        case .string(let value): Self.appendQuoted(value, to: &bytes)
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                value.appendCanonicalJSON(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.appendQuoted(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                members[key]!.appendCanonicalJSON(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        var string = string
        bytes.append(UInt8(ascii: "\""))
        string.withUTF8 { utf8 in
            // Runs of bytes that need no escape are copied whole; multi-byte UTF-8 never contains bytes < 0x80.
            var runStart = 0
            for (offset, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: utf8[runStart..<offset])
                runStart = offset + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
                default:
                    bytes.append(contentsOf: #"\u00"#.utf8)
                    bytes.append(hexDigits[Int(byte >> 4)])
                    bytes.append(hexDigits[Int(byte & 0x0f)])
                }
            }
            bytes.append(contentsOf: utf8[runStart...])
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// Why PostgreSQL's `jsonb` (where inputs, outputs and checkpoints are stored) cannot hold this value, or nil:
    /// a number that is not finite (JSON has no NaN or infinity; it would be written as `null`), a NUL character
    /// in a string or key (`jsonb` refuses `\u0000`), or nesting deeper than ``maximumStoredDepth``. Found before
    /// anything is stored, so a fleet is never cut off half-way by the database, and no row is written that could
    /// not be read back.
    public var storageProblem: String? {
        // Checked first and on its own: the walk below recurses, and a value this deep would make it recurse far.
        if exceedsNesting(Self.maximumStoredDepth) {
            return "is nested more than \(Self.maximumStoredDepth) levels deep; at most \(Self.maximumStoredDepth) are stored (flatten it)"
        }
        return storageProblemWithinDepth
    }

    /// The deepest nesting of arrays and objects a stored value may have. Well below what Unwind reads back
    /// (``maximumParsingDepth``): a stored value is wrapped again (a field in a workflow's input, an output in a
    /// step's report), and a row nested deeper than the reader takes could no longer be read at all.
    public static let maximumStoredDepth = 256

    /// Whether arrays and objects nest more than `limit` levels (a scalar is level 0); stops at the first path
    /// that does.
    public func exceedsNesting(_ limit: Int) -> Bool {
        switch self {
        case .null, .bool, .number, .string:
            return false
        case .array(let items):
            return limit <= 0 || items.contains { $0.exceedsNesting(limit - 1) }
        case .object(let fields):
            return limit <= 0 || fields.values.contains { $0.exceedsNesting(limit - 1) }
        }
    }

    private var storageProblemWithinDepth: String? {
        switch self {
        case .null, .bool:
            return nil
        case .number(let number):
            return number.isFinite ? nil : "is not a finite number (\(number)); use an ordinary number"
        case .string(let string):
            return string.unicodeScalars.contains("\u{0}") ? "contains a NUL character (\\u0000), which cannot be stored; remove it" : nil
        case .array(let items):
            return items.lazy.compactMap(\.storageProblemWithinDepth).first
        case .object(let fields):
            for key in fields.keys.sorted() {
                if key.unicodeScalars.contains("\u{0}") { return "has a key with a NUL character (\\u0000), which cannot be stored; remove it" }
                if let problem = fields[key]!.storageProblemWithinDepth { return problem }
            }
            return nil
        }
    }
}
