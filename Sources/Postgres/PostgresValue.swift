import Foundation

/// A Swift value that can be sent as a statement parameter (`$1`, `$2`, …).
///
/// Parameters travel in libpq's text format, separately from the SQL text, so no value is ever spliced into
/// a statement. Cast in SQL where the server cannot infer the type (`$1::uuid`, `$2::jsonb`).
public protocol PostgresEncodable: Sendable {
    /// The text form PostgreSQL parses for this value, or `nil` for SQL NULL.
    var postgresText: String? { get }
    /// Appends this value as one element of a binary array of `type` (see ``PostgresArrayElementType``); false when
    /// it has no binary form of that type, and the whole array is then sent as text.
    func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool
}

extension PostgresEncodable {
    public func appendPostgresBinaryElement(_ type: PostgresArrayElementType, to writer: inout PostgresBinaryArrayWriter) -> Bool { false }
}

/// A parameter that can be sent as a binary array (arrays whose elements have binary forms).
public protocol PostgresBinaryArrayEncodable {
    /// The binary array, or `nil` to send the text form.
    func postgresBinaryArray(of type: PostgresArrayElementType) -> [UInt8]?
}

/// A Swift type that can be read from a column in text format.
public protocol PostgresDecodable: Sendable {
    /// Decodes the text form of a non-NULL value.
    static func decode(postgresText: String) -> Self?
    /// The value for SQL NULL; non-optional types throw.
    static func decodeNull() -> Self?
}

extension PostgresDecodable {
    public static func decodeNull() -> Self? { nil }
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public static func decode(postgresText: String) -> String? { postgresText }
}

extension Substring: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public static func decode(postgresText: String) -> Int? { Int(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public static func decode(postgresText: String) -> Int64? { Int64(postgresText) }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public static func decode(postgresText: String) -> Int32? { Int32(postgresText) }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
    public static func decode(postgresText: String) -> Double? {
        switch postgresText {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(postgresText)
        }
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public static func decode(postgresText: String) -> Bool? {
        switch postgresText {
        case "t", "true": return true
        case "f", "false": return false
        default: return nil
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    /// Lower-case canonical form, written directly: `uuidString` formats through `snprintf` and then needs
    /// lower-casing, and every batch statement sends arrays of ids.
    public var postgresText: String? {
        let hex: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var out = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[out] = UInt8(ascii: "-")
                        out += 1
                    }
                    buffer[out] = hex.utf8Start[Int(byte >> 4)]
                    buffer[out + 1] = hex.utf8Start[Int(byte & 0x0f)]
                    out += 2
                }
                return out
            }
        }
    }

    /// Parses the canonical `8-4-4-4-12` hex form (PostgreSQL's output, either case) without `sscanf`.
    public static func decode(postgresText: String) -> UUID? {
        var text = postgresText
        return text.withUTF8 { utf8 -> UUID? in
            guard utf8.count == 36 else { return nil }
            var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let parsed = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        guard utf8[position] == UInt8(ascii: "-") else { return false }
                        position += 1
                    }
                    guard let high = hexValue(utf8[position]), let low = hexValue(utf8[position + 1]) else { return false }
                    out[index] = high << 4 | low
                    position += 2
                }
                return true
            }
            return parsed ? UUID(uuid: bytes) : nil
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// ISO 8601 in UTC with microseconds, the precision of `timestamptz`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
    public static func decode(postgresText: String) -> Date? { PostgresTimestamp.parse(postgresText) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? {
        switch self {
        case .none: return nil
        case .some(let value): return value.postgresText
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText: String) -> Wrapped?? {
        guard let value = Wrapped.decode(postgresText: postgresText) else { return nil }
        return .some(value)
    }
    public static func decodeNull() -> Wrapped?? { .some(nil) }
}

/// A `text[]`, `uuid[]` or `bigint[]` parameter, sent as an array literal (`{"a","b"}`), for set-based
/// statements such as `WHERE id = ANY($1::uuid[])` or `unnest($1::text[])`.
extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A one-dimensional array literal, `{"a","b \\"c\\"",NULL}`. Built over UTF-8 bytes: the batch statements
    /// pass arrays of thousands of elements, and appending to a `String` scalar by scalar dominated their cost.
    public var postgresText: String? {
        var literal = ArrayLiteralWriter(elements: count)
        for element in self { literal.append(element.postgresText) }
        return literal.finish()
    }
}

/// Writes a one-dimensional array literal. Not generic on purpose: an array parameter reaches `postgresText`
/// through `any PostgresEncodable`, so generic code would run unspecialised, byte by byte through witness
/// tables (it showed as the largest single cost of the workers' completion transaction).
struct ArrayLiteralWriter {
    private var literal: [UInt8]
    private var first = true

    init(elements: Int) {
        literal = [UInt8(ascii: "{")]
        literal.reserveCapacity(elements * 40 + 2)
    }

    mutating func append(_ text: String?) {
        if !first { literal.append(UInt8(ascii: ",")) }
        first = false
        guard var text else {
            literal.append(contentsOf: "NULL".utf8)
            return
        }
        literal.append(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            // Only `"` and `\` need escaping inside a quoted element; copy the runs between them whole.
            var runStart = 0
            var offset = 0
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    literal.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<offset]))
                    literal.append(UInt8(ascii: "\\"))
                    runStart = offset
                }
                offset += 1
            }
            literal.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        literal.append(UInt8(ascii: "\""))
    }

    consuming func finish() -> String {
        literal.append(UInt8(ascii: "}"))
        return String(decoding: literal, as: UTF8.self)
    }
}

extension Array: PostgresDecodable where Element == String {
    /// Parses a one-dimensional array literal such as `{a,"b c",NULL}` (NULL elements are skipped).
    public static func decode(postgresText: String) -> [String]? {
        var scalars = Substring(postgresText).unicodeScalars[...]
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        scalars = scalars.dropFirst().dropLast()
        var elements: [String] = []
        var current = ""
        var quoted = false, inQuotes = false, escaped = false
        func finish() {
            if quoted || current != "NULL" { elements.append(current) }
            current = ""
            quoted = false
        }
        if scalars.isEmpty { return [] }
        for scalar in scalars {
            if escaped { current.unicodeScalars.append(scalar); escaped = false; continue }
            switch scalar {
            case "\\" where inQuotes: escaped = true
            case "\"": inQuotes.toggle(); quoted = true
            case "," where !inQuotes: finish()
            default: current.unicodeScalars.append(scalar)
            }
        }
        finish()
        return elements
    }
}

/// A `json`/`jsonb` parameter holding any `Encodable` value.
public struct PostgresJSON<Value: Encodable & Sendable>: PostgresEncodable {
    public var value: Value
    public init(_ value: Value) { self.value = value }
    public var postgresText: String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Encoding plain Codable model values cannot fail in practice; a failure is a programming error
        // that must not silently store NULL, so it is stored as a JSON string describing the problem.
        guard let data = try? encoder.encode(value) else { return "\"<unencodable \(Value.self)>\"" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Raw JSON text already serialised (e.g. a step's output passed through untouched).
public struct PostgresRawJSON: PostgresEncodable, Hashable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var postgresText: String? { text }
}

enum PostgresTimestamp {
    /// The range of years this formats (and `parse` reads back): later or earlier dates are clamped to its ends.
    static let latest = Date(timeIntervalSince1970: 253_402_300_799)  // 9999-12-31T23:59:59Z
    static let earliest = Date(timeIntervalSince1970: -62_135_596_800)  // 0001-01-01T00:00:00Z

    /// Formats as `2026-11-29T12:34:56.123456Z`.
    static func format(_ date: Date) -> String {
        let totalMicros = microsecondsSince1970(date)
        var seconds = Int64((totalMicros / 1_000_000).rounded(.down))
        var micros = Int64(totalMicros) - seconds * 1_000_000
        if micros < 0 { micros += 1_000_000; seconds -= 1 }
        let days = floorDiv(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let hour = secondOfDay / 3600, minute = (secondOfDay % 3600) / 60, second = secondOfDay % 60
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(micros, 6))Z"
    }

    /// The date in whole microseconds since 1970, clamped to the years `format` writes, so that no date (a NaN or a
    /// year 14702 included) traps in the integer conversions that follow.
    private static func microsecondsSince1970(_ date: Date) -> Double {
        let seconds1970 = date.timeIntervalSince1970.isNaN ? 0
            : min(max(date.timeIntervalSince1970, earliest.timeIntervalSince1970), latest.timeIntervalSince1970)
        return (seconds1970 * 1_000_000).rounded()
    }

    /// The binary `timestamptz`: microseconds since 2000-01-01 UTC, the same instant `format` writes.
    static func microsecondsSince2000(_ date: Date) -> Int64 {
        Int64(microsecondsSince1970(date)) - 946_684_800_000_000
    }

    /// Parses PostgreSQL's ISO output (`2026-11-29 12:34:56.123456+00`, offsets `+HH`, `+HH:MM`, `+HH:MM:SS`)
    /// and the `T…Z` form. `infinity` maps to `Date.distantFuture`.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect(" T"), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2) else { return nil }
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            let sign = bytes[index]
            if sign == UInt8(ascii: "Z") {
                index += 1
            } else if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                index += 1
                guard let hours = number(2) else { return nil }
                var minutes: Int64 = 0, secs: Int64 = 0
                if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                    index += 1
                    guard let m = number(2) else { return nil }
                    minutes = m
                    if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                        index += 1
                        guard let s = number(2) else { return nil }
                        secs = s
                    }
                }
                offsetSeconds = (hours * 3600 + minutes * 60 + secs) * (sign == UInt8(ascii: "-") ? -1 : 1)
            } else {
                return nil
            }
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
              second < 61 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
