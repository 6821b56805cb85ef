/// Where a JSON text went wrong, by byte offset.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var problem: String

    public init(offset: Int, problem: String) {
        self.offset = offset
        self.problem = problem
    }

    public var description: String { "invalid JSON at byte \(offset): \(problem)" }
}

/// A number as written: where its parts are, so that each reader can turn it into the number type it keeps
/// (the engine a `Double`, the simulator an exact `Int64` where one holds it).
public struct JSONNumberToken: Sendable {
    public var negative: Bool
    /// The whole number, sign included.
    public var text: Range<Int>
    public var integerDigits: Range<Int>
    /// Digits after the point; empty when there is no fraction.
    public var fraction: Range<Int>
    /// The exponent with its sign; empty when there is none.
    public var exponent: Range<Int>

    @inlinable
    public init(negative: Bool, text: Range<Int>, integerDigits: Range<Int>, fraction: Range<Int>, exponent: Range<Int>) {
        self.negative = negative
        self.text = text
        self.integerDigits = integerDigits
        self.fraction = fraction
        self.exponent = exponent
    }
}

/// The byte-level half of a strict RFC 8259 parser over UTF-8: whitespace, literals, strings (escapes,
/// surrogate pairs, UTF-8 validation), numbers and the nesting limit. The engine's `JSONValue` and the cloud
/// simulator's `JSON` build their own trees on it, so the grammar, and its refusals, are written once.
///
/// Read straight from the bytes: going through `JSONDecoder` and a `Decodable` `init` that tried each JSON type in
/// turn (throwing on every miss) was the largest single cost of the engine's claim and a visible share of the
/// simulator's CPU. The methods are inlinable so that both parsers' loops compile as one.
public struct JSONLexer {
    public let bytes: UnsafeBufferPointer<UInt8>
    public var position = 0
    @usableFromInline var depth = 0
    /// Deepest nesting accepted: a hostile document must not exhaust the stack.
    public let maximumDepth: Int

    @inlinable
    public init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    @inlinable
    public func error(_ problem: String) -> JSONSyntaxError { JSONSyntaxError(offset: position, problem: problem) }

    @inlinable
    public mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// The next byte after any whitespace, not consumed.
    @inlinable
    public mutating func peek() throws(JSONSyntaxError) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        return bytes[position]
    }

    /// Consumes `byte` if it comes next (after any whitespace).
    @inlinable
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// After a member or an element: true for `,` (another follows), false for `closing`, else an error.
    @inlinable
    public mutating func separator(closing: UInt8) throws(JSONSyntaxError) -> Bool {
        let byte = try peek()
        position += 1
        if byte == UInt8(ascii: ",") { return true }
        if byte == closing { return false }
        position -= 1
        throw error(closing == UInt8(ascii: "}") ? "expected ',' or '}'" : "expected ',' or ']'")
    }

    /// Nothing but whitespace may follow the document's value.
    @inlinable
    public mutating func finish() throws(JSONSyntaxError) {
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
    }

    @inlinable
    public mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of input") }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] {
            throw error("unexpected character")
        }
        position += count
    }

    /// Opens an object or array (at its bracket): counts the nesting and steps over the bracket.
    @inlinable
    public mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= maximumDepth else { throw error("nested deeper than \(maximumDepth) levels") }
        position += 1
    }

    @inlinable
    public mutating func leave() { depth -= 1 }

    @inlinable
    public func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// A string, at its opening quote.
    @inlinable
    public mutating func scanString() throws(JSONSyntaxError) -> String {
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
                guard let string = String(validating: run, as: UTF8.self) else { throw JSONSyntaxError(offset: start, problem: "invalid UTF-8 in a string") }
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        return try scanEscapedString(from: start)
    }

    /// The rest of a string from its first escape. Escapes only ever add whole UTF-8 sequences, so validating the
    /// assembled bytes once checks the raw runs too.
    @usableFromInline
    mutating func scanEscapedString(from start: Int) throws(JSONSyntaxError) -> String {
        var utf8: [UInt8] = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = String(validating: utf8, as: UTF8.self) else { throw JSONSyntaxError(offset: start, problem: "invalid UTF-8 in a string") }
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
                    // Every unpaired surrogate is refused, escaped alone or next to anything else.
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in a \\u escape")
                        }
                        position += 2
                        let low = try hex4()
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

    @usableFromInline
    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
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

    @inlinable
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    @inlinable
    mutating func skipDigits() -> Int {
        let from = position
        while position < bytes.count, Self.isDigit(bytes[position]) { position += 1 }
        return position - from
    }

    /// A number, at its first character (`-` or a digit), checked against the grammar (no leading zeros, digits
    /// after the point and in the exponent).
    @inlinable
    public mutating func scanNumber() throws(JSONSyntaxError) -> JSONNumberToken {
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
        return JSONNumberToken(negative: negative, text: start..<position, integerDigits: integerStart..<integerEnd, fraction: fraction, exponent: exponent)
    }
}
