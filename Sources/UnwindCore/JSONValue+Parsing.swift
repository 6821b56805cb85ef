import JSONLexing

/// A JSON text that ``JSONValue/init(parsing:)`` refused, with the byte offset where it went wrong.
public typealias JSONParseError = JSONSyntaxError

extension JSONValue {
    /// Deepest nesting accepted: a hostile document must not exhaust the stack.
    public static let maximumParsingDepth = 512

    /// Parses a JSON text (RFC 8259) straight from its UTF-8 bytes (see `JSONLexer`).
    ///
    /// The engine reads a JSON column (input, outputs, checkpoint, error) for every step it claims; going through
    /// `JSONDecoder` and `Codable` was the largest single cost of a claim. Numbers become `Double`, as with the
    /// `Codable` path.
    ///
    /// - Parameter rejectingDuplicateNames: refuse an object that names a member twice. Off, the last value wins,
    ///   as in PostgreSQL's `jsonb` (how stored columns read). On for what people send (input files, fleet lines,
    ///   API bodies): RFC 8259 leaves a repeated name's meaning open, and parsers differ (first or last wins).
    public init(parsing text: String, rejectingDuplicateNames: Bool = false) throws(JSONParseError) {
        var text = text
        let result: Result<JSONValue, JSONParseError> = text.withUTF8 { bytes in
            var parser = JSONValueParser(lexer: JSONLexer(bytes: bytes, maximumDepth: JSONValue.maximumParsingDepth),
                                         rejectingDuplicateNames: rejectingDuplicateNames)
            return Result { () throws(JSONParseError) in
                let value = try parser.parseValue()
                try parser.lexer.finish()
                return value
            }
        }
        self = try result.get()
    }
}

/// Builds `JSONValue`s on the shared lexer.
private struct JSONValueParser {
    var lexer: JSONLexer
    let rejectingDuplicateNames: Bool

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        switch try lexer.peek() {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try lexer.scanString())
        case UInt8(ascii: "t"): try lexer.expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try lexer.expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try lexer.expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let number = try lexer.scanNumber()
            guard let value = Double(lexer.text(number.text)), value.isFinite else {
                throw JSONParseError(offset: number.text.lowerBound, problem: "number out of range")
            }
            return .number(value)
        default: throw lexer.error("unexpected character")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try lexer.enter()
        defer { lexer.leave() }
        var members: [String: JSONValue] = [:]
        if lexer.consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            guard try lexer.peek() == UInt8(ascii: "\"") else { throw lexer.error("expected a member name") }
            let keyStart = lexer.position
            let key = try lexer.scanString()
            guard lexer.consume(UInt8(ascii: ":")) else { throw lexer.error("expected ':'") }
            guard !rejectingDuplicateNames || members[key] == nil else {
                throw JSONParseError(offset: keyStart, problem: "the member name '\(key.prefix(40))' appears twice in one object")
            }
            members[key] = try parseValue()
        } while try lexer.separator(closing: UInt8(ascii: "}"))
        return .object(members)
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try lexer.enter()
        defer { lexer.leave() }
        var elements: [JSONValue] = []
        if lexer.consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            elements.append(try parseValue())
        } while try lexer.separator(closing: UInt8(ascii: "]"))
        return .array(elements)
    }
}
