extension JSON {
    /// A request body that ``JSON/parse(_:)`` refused, with the byte offset where it went wrong.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var offset: Int
        public var problem: String
        public var description: String { "invalid JSON at byte \(offset): \(problem)" }
    }

    /// Deepest nesting accepted (the limit `JSONDecoder` had): a hostile body must not exhaust the stack.
    public static let maximumParsingDepth = 512

    /// Parses a request body; `nil` for an empty (or blank) body, throws for invalid JSON.
    ///
    /// Read straight from the UTF-8 bytes: going through `JSONDecoder` and a `Decodable` `init` that tried each JSON
    /// type in turn (throwing on every miss) was a visible share of the simulator's CPU. The result is the one the
    /// `JSONDecoder` path gave, which callers and the ledger were built on:
    /// - object keys come out sorted, and of a repeated key the first occurrence wins;
    /// - a number is `.int` when `Int64` holds it exactly (so `1.0` and `1e2` are ints, `1.5` and `1e19` doubles),
    ///   and a number too large for a `Double` is refused;
    /// - a leading UTF-8 byte order mark is skipped.
    ///
    /// Unlike `JSONDecoder` it is strict RFC 8259 UTF-8: trailing commas (`[1,]`) and UTF-16/32 bodies are refused.
    /// (Seed files and the admin API still read through `JSONDecoder`: see `parseWithJSONDecoder`.)
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSON? {
        if bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) { return nil }
        let result = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONBytesParser(bytes: buffer)
            return Result { () throws(ParseError) in try parser.parseDocument() }
        }
        return try result.get()
    }
}

private struct JSONBytesParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func parseDocument() throws(JSON.ParseError) -> JSON {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ problem: String) -> JSON.ParseError { JSON.ParseError(offset: position, problem: problem) }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSON.ParseError) -> JSON {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSON.ParseError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of input") }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] {
            throw error("unexpected character")
        }
        position += count
    }

    private mutating func enter() throws(JSON.ParseError) {
        depth += 1
        guard depth <= JSON.maximumParsingDepth else { throw error("nested deeper than \(JSON.maximumParsingDepth) levels") }
    }

    private mutating func parseObject() throws(JSON.ParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        position += 1
        var fields: [(String, JSON)] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            fields.append((key, try parseValue()))
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(Self.sortedFirstWins(fields)) }
            throw error("expected ',' or '}'")
        }
    }

    /// The key order and duplicate handling `JSONDecoder` gave (it kept the first of a repeated key and the
    /// simulator sorted the keys it listed). Keys compare as `String`s, so canonically equivalent spellings are
    /// one key, as they were in `JSONDecoder`'s dictionary.
    private static func sortedFirstWins(_ fields: [(String, JSON)]) -> [(String, JSON)] {
        var alreadySorted = true
        for index in fields.indices.dropFirst() where !(fields[index - 1].0 < fields[index].0) {
            alreadySorted = false
            break
        }
        if alreadySorted { return fields }
        // Ties keep document order so the first occurrence of a key is the one kept.
        let sorted = fields.enumerated().sorted { lhs, rhs in
            lhs.element.0 == rhs.element.0 ? lhs.offset < rhs.offset : lhs.element.0 < rhs.element.0
        }
        var result: [(String, JSON)] = []
        result.reserveCapacity(sorted.count)
        for (_, field) in sorted where result.last?.0 != field.0 {
            result.append(field)
        }
        return result
    }

    private mutating func parseArray() throws(JSON.ParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        position += 1
        var elements: [JSON] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func parseString() throws(JSON.ParseError) -> String {
        position += 1  // the opening quote
        let start = position
        var ascii = true
        // Fast path: no escapes, the run is used as it is.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                if ascii { return String(decoding: run, as: UTF8.self) }
                guard let string = String(validating: run, as: UTF8.self) else { throw JSON.ParseError(offset: start, problem: "invalid UTF-8 in a string") }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        // Escapes only ever add whole UTF-8 sequences, so validating the assembled bytes once checks the raw runs.
        var utf8: [UInt8] = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = String(validating: utf8, as: UTF8.self) else { throw JSON.ParseError(offset: start, problem: "invalid UTF-8 in a string") }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unexpected end of input") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    // JSONDecoder refused every unpaired surrogate, escaped alone or next to anything else.
                    var code = try parseHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in a \\u escape")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in a \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("unpaired surrogate in a \\u escape")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    utf8.append(contentsOf: scalar.utf8)
                default:
                    throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in a string") }
                utf8.append(byte)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws(JSON.ParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() -> Int {
        let from = position
        while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        return position - from
    }

    private mutating func parseNumber() throws(JSON.ParseError) -> JSON {
        let start = position
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        guard position < bytes.count else { throw error("unexpected end of input") }
        let integerStart = position
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, Self.isDigit(bytes[position]) { throw error("leading zero in a number") }
        } else if skipDigits() == 0 {
            throw error("expected a digit")
        }
        let integerEnd = position
        var fraction = position..<position
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            let from = position
            guard skipDigits() > 0 else { throw error("expected a digit after '.'") }
            fraction = from..<position
        }
        var exponent = position..<position
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            let from = position
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() > 0 else { throw error("expected a digit in the exponent") }
            exponent = from..<position
        }

        if fraction.isEmpty, exponent.isEmpty, let value = integer(negative: negative, digits: integerStart..<integerEnd) {
            return .int(value)
        }
        guard let double = Double(text(start..<position)), double.isFinite else {
            throw JSON.ParseError(offset: start, problem: "number out of range")
        }
        guard let whole = Int64(exactly: double) else { return .double(double) }
        // Below 2^53 a Double tells integers apart; above it JSONDecoder went back to the decimal digits, so
        // `9007199254740993.0` stays odd (and, as there, digits after the point are cut off, not rounded).
        if double.magnitude < 9_007_199_254_740_992 { return .int(whole) }
        let digits = Array(bytes[integerStart..<integerEnd]) + Array(bytes[fraction])
        let scale = exponent.isEmpty ? 0 : Int(text(exponent))
        return Self.truncatedInteger(negative: negative, digits: digits, scale: scale.map { $0 - fraction.count }).map(JSON.int) ?? .double(double)
    }

    private func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// The digits as an `Int64`, or `nil` if they overflow it.
    private func integer(negative: Bool, digits: Range<Int>) -> Int64? {
        var value: Int64 = 0
        for index in digits {
            let digit = Int64(bytes[index] - UInt8(ascii: "0"))
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
        }
        return value
    }

    /// `digits × 10^scale` truncated toward zero, as Foundation's `Decimal` → integer conversion did it: the
    /// significant digits (trailing zeros dropped) must fit a `UInt64` before the scale is applied. (`Decimal` also
    /// gives up beyond 38 digits or an exponent of ±127; numbers that far out are not reproduced.)
    private static func truncatedInteger(negative: Bool, digits: [UInt8], scale: Int?) -> Int64? {
        guard var scale else { return nil }
        var end = digits.count
        while end > 0, digits[end - 1] == UInt8(ascii: "0") {
            end -= 1
            scale += 1
        }
        var magnitude: UInt64 = 0
        for digit in digits[..<end] {
            let (shifted, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = next
        }
        if scale < 0 {
            for _ in 0..<min(-scale, 20) { magnitude /= 10 }  // 20 divisions leave any UInt64 at zero
        } else {
            for _ in 0..<scale {
                let (next, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                magnitude = next
            }
        }
        guard let signed = Int64(exactly: magnitude) else { return nil }
        return negative ? -signed : signed
    }
}
