import CloudSimulator
import Foundation
import Testing

/// `JSON.parse` reads request bodies straight from their bytes; it must give what the `JSONDecoder` path gave
/// (the `Decodable` conformance, still used for seed files, is the reference) except where it is deliberately
/// stricter (RFC 8259).
@Suite("Simulator JSON parsing")
struct JSONParsingTests {
    /// The previous `JSON.parse`: the blank check, then `JSONDecoder` through `JSON: Decodable`.
    static func reference(_ bytes: [UInt8]) -> JSON?? {
        if bytes.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) { return .some(nil) }
        return (try? JSONDecoder().decode(JSON.self, from: Data(bytes))).map { .some($0) }
    }

    /// `nil` when refused.
    static func ours(_ bytes: [UInt8]) -> JSON?? {
        do { return .some(try JSON.parse(bytes)) } catch { return nil }
    }

    /// A dump that tells `.int(1)` from `.double(1)` (`==` does not) and shows key order.
    static func dump(_ value: JSON??) -> String {
        guard let parsed = value else { return "refused" }
        guard let json = parsed else { return "empty" }
        func write(_ json: JSON) -> String {
            switch json {
            case .null: "null"
            case .bool(let b): "\(b)"
            case .int(let i): "int(\(i))"
            case .double(let d): "double(\(d.bitPattern))"
            case .string(let s): "string(\(s.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " ")))"
            case .array(let items): "[" + items.map(write).joined(separator: ",") + "]"
            case .object(let fields): "{" + fields.map { "\(write(.string($0.0))):\(write($0.1))" }.joined(separator: ",") + "}"
            }
        }
        return write(json)
    }

    static func expectAgreement(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = dump(reference(bytes)), actual = dump(ours(bytes))
        #expect(actual == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription) \(bytes.prefix(40))", sourceLocation: sourceLocation)
    }

    @Test("valid documents parse as JSONDecoder parsed them", arguments: [
        "null", "true", "false", "0", "-0", "1", "-1", " 1 ", "\t\r\n[1]\n", "\"\"", "\"x\"", "[]", "{}", "[[]]", "[{}]", "{\"a\":{}}",
        #"{"a": 1, "b": [true, null, {"c": "d"}], "e": {}}"#, #"  [1 , 2 ]  "#, #"[1.0, 2, 3.5, true, null, "x"]"#,
        // Key order: sorted; a repeated key keeps its first value (also for canonically equivalent spellings).
        #"{"b":1,"a":2}"#, #"{"a":1,"a":2}"#, #"{"b":1,"a":2,"b":3}"#, #"{"é":1,"e":2,"f":3,"E":4,"":5}"#,
        "{\"\u{e9}\":1,\"e\u{301}\":2}", "{\"e\u{301}\":1,\"\u{e9}\":2}", #"{"z":{"y":1,"x":[{"b":0,"a":0}]},"a":null}"#,
        #"{"resource_ids":["r1","r2"],"unsubscribe_type":1,"unsubscribe_reason_type":5}"#,
        #"{"servers":[{"id":"s1"},{"id":"s2"}],"delete_publicip":true,"delete_volume":false}"#,
        // Strings and escapes.
        #""tab\tquote\"slash\/back\\nl\nuni\u00e9\u4e2d smile\ud83d\ude00""#, #""plain é 中 😀""#, #""\u0000\u001f\u007F""#,
        #""\uD83D\uDE00\ud83d\ude00""#, #""\b\f\n\r\t""#, "\"a\u{7f}b\"", #""\uFFFF\uFEFF""#, #"{"\u0000":1}"#,
        // Numbers: int when Int64 holds the value exactly.
        "1.0", "1.5", "-0.0", "1e2", "1E2", "1e+2", "1e-2", "1.0e1", "100e-2", "1.5e3", "2.5e-1", "0e0", "-0e0", "0.1e1",
        "1e18", "1e19", "-1e18", "1.00000000000000000001", "4.9e-324", "1.7976931348623157e308", "1e-400", "-1e-400",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "12345678901234567890", "123456789012345678901234567890", "18446744073709551615", "18446744073709551616",
        "9007199254740992", "9007199254740993", "9007199254740992.0", "9007199254740993.0", "9007199254740993.5",
        "9007199254740992.9", "-9007199254740993.9", "18014398509481985.5", "9.007199254740993e15", "90071992547409930e-1",
        "9223372036854775807.0", "9223372036854775807e0", "-9223372036854775808.0", "-9223372036854775808e0",
        "-9223372036854775807.0", "123456789012345678e1", "1234567890123456789e0", "12345678901234567890e-1",
        "9007199254740993.000000000000000000000000000000", "0.9007199254740993e16", "1e-99999999999999999999999",
        "[0.1, 0.2, 0.30000000000000004, 1e300, -2.5e-300, 3.141592653589793]",
        // A UTF-8 byte order mark is skipped, as JSONDecoder did.
        "\u{feff}{}", "\u{feff}  [1]",
        // Blank bodies are "no body".
        "", " ", "\r\n\t ",
    ])
    func validDocuments(_ text: String) {
        #expect(Self.reference(Array(text.utf8)) != nil, "the reference refuses \(text.debugDescription)")
        Self.expectAgreement(Array(text.utf8))
    }

    @Test("invalid documents are refused, as JSONDecoder refused them", arguments: [
        "{", "[", "]", "}", "{\"a\":", "{\"a\"}", #"{"a" 1}"#, "{a:1}", "{'a':1}", "'a'", "[1 2]", "[,1]", "[1,,2]", "{,}", "[,]",
        #"{"a":1,,"b":2}"#, "1 2", "[]]", "{}}", "nul", "tru", "fals", "null x", "truex", "[true false]", "NaN", "Infinity",
        "-Infinity", "undefined", "\u{feff}", "\u{feff}\u{feff}1",
        // Numbers.
        "01", "-01", "00", "1.", ".5", "+1", "-", "- 1", "0x1", "1e", "1e+", "1.e1", "1e400", "-1e400", "[1e1000]",
        "1.7976931348623159e308", "1_000", "1,5", "--1", "0.", "-.5",
        // Strings.
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800x\"", "\"\\ud800\\u0041\"",
        "\"\\ude00\\ud83d\"", "\"\\ud83d\\ud83d\"", "\"\\ud83d\"", "\"a\tb\"", "\"a\nb\"", "\"\\\"", "\"\\",
        // Whitespace JSON does not have.
        "\u{0c}1", "1\u{0c}", "\u{a0}1", "[1,\u{2028}2]",
    ])
    func invalidDocuments(_ text: String) {
        #expect(Self.reference(Array(text.utf8)) == nil, "the reference accepts \(text.debugDescription)")
        #expect(Self.ours(Array(text.utf8)) == nil, "accepted \(text.debugDescription)")
    }

    @Test("bytes that are not UTF-8, raw control characters and NULs are refused", arguments: [
        [0x22, 0x61, 0xFF, 0x62, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0x61, 0x00, 0x22], [0x22, 0x01, 0x22], [0x22, 0x1F, 0x22],
        [0x22, 0xC3, 0x5C, 0x75, 0x30, 0x30, 0x41, 0x39, 0x22],  // a cut-off sequence followed by an escape
        [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], [0xFF], [0x5B, 0x31, 0x5D, 0xFF],
    ] as [[UInt8]])
    func invalidBytes(_ bytes: [UInt8]) {
        #expect(Self.reference(bytes) == nil)
        #expect(Self.ours(bytes) == nil)
    }

    @Test("valid multi-byte UTF-8 is kept as it is")
    func multiByte() {
        for bytes: [UInt8] in [[0x22, 0xEF, 0xBF, 0xBF, 0x22], [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22], [0x22, 0xC3, 0xA9, 0x5C, 0x6E, 0x22]] {
            #expect(Self.ours(bytes) != nil)
            Self.expectAgreement(bytes)
        }
    }

    /// Where JSONDecoder was more lenient than RFC 8259; the simulator now answers these as invalid JSON.
    @Test("stricter than JSONDecoder: trailing commas and UTF-16/32 bodies are refused", arguments: [
        Array("[1,]".utf8), Array(#"{"a":1,}"#.utf8), Array(#"{"a":[1,],}"#.utf8), Array("[1,]  ".utf8),
        [0xFE, 0xFF, 0x00, 0x31], [0x00, 0x31], [0x31, 0x00],
    ] as [[UInt8]])
    func stricterThanJSONDecoder(_ bytes: [UInt8]) {
        #expect(Self.ours(bytes) == nil)
    }

    @Test("nesting: 512 levels are accepted, 513 refused, 100,000 refused without a crash")
    func depth() {
        for (levels, accepted) in [(512, true), (513, false)] {
            let arrays = Array(String(repeating: "[", count: levels).utf8) + Array(String(repeating: "]", count: levels).utf8)
            var mixed = ""
            for level in 0..<levels { mixed += level % 2 == 0 ? "[" : "{\"k\":" }
            mixed += "0"
            for level in (0..<levels).reversed() { mixed += level % 2 == 0 ? "]" : "}" }
            for bytes in [arrays, Array(mixed.utf8)] {
                #expect((Self.ours(bytes) != nil) == accepted, "\(levels) levels")
                Self.expectAgreement(bytes)
            }
        }
        let deep = Array(String(repeating: "[", count: 100_000).utf8) + Array(String(repeating: "]", count: 100_000).utf8)
        do {
            _ = try JSON.parse(deep)
            Issue.record("accepted 100,000 levels")
        } catch {
            #expect(error.problem.contains("nested deeper than"))
        }
    }

    @Test("errors carry the offset of the problem", arguments: [
        ("{", 1), (#"{"a" 1}"#, 5), ("[1,]", 3), ("01", 1), ("1.", 2), ("-", 1), ("tru", 0), (#""\x""#, 3),
        (#""\ud800""#, 7), ("\"a\u{1}\"", 2), (#"{"a":1} x"#, 8), ("1e999", 0), (#""abc"#, 4),
    ])
    func offsets(_ text: String, offset: Int) {
        do {
            _ = try JSON.parse(Array(text.utf8))
            Issue.record("accepted \(text.debugDescription)")
        } catch {
            #expect(error.offset == offset, "\(text.debugDescription): \(error)")
        }
    }

    /// A deterministic generator (xorshift), so a failure reproduces.
    struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
    }

    @Test("generated numbers are classified (int or double) and valued as JSONDecoder did")
    func generatedNumbers() {
        var random = Generator(state: 0x2545_F491_4F6C_DD1D)
        let interesting = ["9007199254740992", "9007199254740993", "9223372036854775807", "9223372036854775808",
                           "18446744073709551615", "1", "0", "100", "123456789", "4503599627370496"]
        for _ in 0..<4_000 {
            var text = random.next(3) == 0 ? "-" : ""
            if random.next(3) == 0 {
                text += interesting[random.next(interesting.count)]
            } else {
                let length = 1 + random.next(21)
                text += String(1 + random.next(9))
                for _ in 1..<length { text += String(random.next(10)) }
                if random.next(6) == 0 { text = text.hasPrefix("-") ? "-0" : "0" }
            }
            if random.next(2) == 0 {
                text += "."
                for _ in 0..<(1 + random.next(6)) { text += random.next(3) == 0 ? String(random.next(10)) : "0" }
            }
            if random.next(3) == 0 {
                text += ["e", "E", "e+", "e-", "E-"][random.next(5)] + String(random.next(25))
            }
            Self.expectAgreement(Array(text.utf8))
            Self.expectAgreement(Array("[\(text)]".utf8))
        }
    }

    @Test("generated documents (nested, unsorted and repeated keys, escapes, blanks) parse as JSONDecoder parsed them")
    func generatedDocuments() {
        var random = Generator(state: 0xD1B5_4A32_D192_ED03)
        let keys = ["a", "b", "id", "resource_ids", "é", "e\u{301}", "", "Z", "z", "aa", "\u{1F600}", "a b"]
        let scalars: [Unicode.Scalar] = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "中", "\u{1F600}", "\u{FEFF}", "\u{2028}"]
        func blank() -> String { ["", "", " ", "\n", "\t", " \r\n "][random.next(6)] }
        func string() -> String {
            var out = "\""
            for _ in 0..<random.next(6) {
                let scalar = scalars[random.next(scalars.count)]
                if scalar == "\"" {
                    out += "\\\""
                } else if scalar == "\\" {
                    out += "\\\\"
                } else if scalar.value < 0x20 || random.next(3) == 0 {
                    if scalar.value > 0xFFFF {
                        let v = scalar.value - 0x10000
                        out += String(format: "\\u%04x\\u%04X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                    } else {
                        out += String(format: "\\u%04x", scalar.value)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        func value(_ depth: Int) -> String {
            switch random.next(depth > 3 ? 5 : 8) {
            case 0: return "null"
            case 1: return random.next(2) == 0 ? "true" : "false"
            case 2: return ["0", "-1", "42", "1.5", "1e3", "-2.5e-3", "9007199254740993", "1e19"][random.next(8)]
            case 3, 4: return string()
            case 5: return "[" + (0..<random.next(4)).map { _ in blank() + value(depth + 1) + blank() }.joined(separator: ",") + "]"
            default:
                let fields = (0..<random.next(5)).map { _ in
                    blank() + "\"" + keys[random.next(keys.count)] + "\"" + blank() + ":" + blank() + value(depth + 1) + blank()
                }
                return "{" + fields.joined(separator: ",") + "}"
            }
        }
        for _ in 0..<2_000 {
            let text = blank() + value(0) + blank()
            #expect(Self.reference(Array(text.utf8)) != nil, "the reference refuses \(text.debugDescription)")
            Self.expectAgreement(Array(text.utf8))
        }
    }
}
