import JSONLexing

extension JSON {
    /// A request body that ``JSON/parse(_:)`` refused, with the byte offset where it went wrong.
    public typealias ParseError = JSONSyntaxError

    /// Deepest nesting accepted (the limit `JSONDecoder` had): a hostile body must not exhaust the stack.
    public static let maximumParsingDepth = 512

    /// Parses a request body; `nil` for an empty (or blank) body, throws for invalid JSON.
    ///
    /// Read straight from the UTF-8 bytes with the engine's lexer (`JSONLexer`). The result is the one the
    /// `JSONDecoder` path the simulator started with gave, which callers and the ledger were built on:
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
            var parser = JSONTreeParser(lexer: JSONLexer(bytes: buffer, maximumDepth: maximumParsingDepth))
            return Result { () throws(ParseError) in
                if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { parser.lexer.position = 3 }
                let value = try parser.parseValue()
                try parser.lexer.finish()
                return value
            }
        }
        return try result.get()
    }
}

/// Builds `JSON` trees on the shared lexer.
private struct JSONTreeParser {
    var lexer: JSONLexer

    mutating func parseValue() throws(JSON.ParseError) -> JSON {
        switch try lexer.peek() {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try lexer.scanString())
        case UInt8(ascii: "t"): try lexer.expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try lexer.expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try lexer.expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw lexer.error("unexpected character")
        }
    }

    private mutating func parseObject() throws(JSON.ParseError) -> JSON {
        try lexer.enter()
        defer { lexer.leave() }
        var fields: [(String, JSON)] = []
        if lexer.consume(UInt8(ascii: "}")) { return .object(fields) }
        repeat {
            guard try lexer.peek() == UInt8(ascii: "\"") else { throw lexer.error("expected a member name") }
            let key = try lexer.scanString()
            guard lexer.consume(UInt8(ascii: ":")) else { throw lexer.error("expected ':'") }
            fields.append((key, try parseValue()))
        } while try lexer.separator(closing: UInt8(ascii: "}"))
        return .object(Self.sortedFirstWins(fields))
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
        try lexer.enter()
        defer { lexer.leave() }
        var elements: [JSON] = []
        if lexer.consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            elements.append(try parseValue())
        } while try lexer.separator(closing: UInt8(ascii: "]"))
        return .array(elements)
    }

    /// `.int` when `Int64` holds the number exactly, as `JSONDecoder` decided it; else `.double`.
    private mutating func parseNumber() throws(JSON.ParseError) -> JSON {
        let number = try lexer.scanNumber()
        if number.fraction.isEmpty, number.exponent.isEmpty, let value = integer(negative: number.negative, digits: number.integerDigits) {
            return .int(value)
        }
        guard let double = Double(lexer.text(number.text)), double.isFinite else {
            throw JSON.ParseError(offset: number.text.lowerBound, problem: "number out of range")
        }
        guard let whole = Int64(exactly: double) else { return .double(double) }
        // Below 2^53 a Double tells integers apart; above it JSONDecoder went back to the decimal digits, so
        // `9007199254740993.0` stays odd (and, as there, digits after the point are cut off, not rounded).
        if double.magnitude < 9_007_199_254_740_992 { return .int(whole) }
        let digits = Array(lexer.bytes[number.integerDigits]) + Array(lexer.bytes[number.fraction])
        let scale = number.exponent.isEmpty ? 0 : Int(lexer.text(number.exponent))
        return Self.truncatedInteger(negative: number.negative, digits: digits, scale: scale.map { $0 - number.fraction.count }).map(JSON.int) ?? .double(double)
    }

    /// The digits as an `Int64`, or `nil` if they overflow it.
    private func integer(negative: Bool, digits: Range<Int>) -> Int64? {
        var value: Int64 = 0
        for index in digits {
            let digit = Int64(lexer.bytes[index] - UInt8(ascii: "0"))
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
