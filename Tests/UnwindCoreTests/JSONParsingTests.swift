import Foundation
import Testing
@testable import UnwindCore

/// The engine's own JSON reader must agree with Foundation on everything PostgreSQL and users send, and refuse
/// the rest with the offset of the problem.
@Suite("JSON parsing")
struct JSONParsingTests {
    /// For what people send (input files, fleet lines, API bodies); stored columns read like jsonb (last wins).
    @Test func aMemberNameTwiceInOneObjectIsRefusedWhenAsked() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: #"{"key":"a","key":"b"}"#, rejectingDuplicateNames: true) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: #"[{"x":{"k":1,"k":1}}]"#, rejectingDuplicateNames: true) }
        // The same name in different objects is fine.
        #expect((try? JSONValue(parsing: #"{"a":{"k":1},"b":{"k":2}}"#, rejectingDuplicateNames: true)) != nil)
        do {
            _ = try JSONValue(parsing: #"{"key":"a","key":"b"}"#, rejectingDuplicateNames: true)
        } catch {
            #expect(error.description == "invalid JSON at byte 11: the member name 'key' appears twice in one object")
        }
    }

    @Test(arguments: [
        #"null"#, #"true"#, #"false"#, #"0"#, #"-0.5"#, #"12345678901"#, #"1e3"#, #"2.5E-3"#, #""""#,
        #"{"a": 1, "b": [true, null, {"c": "d"}], "e": {}}"#, #"[]"#, #"  [1 , 2 ]  "#,
        #""tab\tquote\"slash\/back\\nl\nuni\u00e9\u4e2d smile\ud83d\ude00""#, #""plain é 中 😀""#,
    ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try JSONValue(parsing: text)
        let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == foundation)
    }

    @Test func aDuplicateKeyKeepsTheLastValueAsPostgreSQLDoes() throws {
        #expect(try JSONValue(parsing: #"{"dup": 1, "dup": 2}"#) == ["dup": 2])
    }

    @Test func roundTripsThroughCanonicalJSON() throws {
        let value: JSONValue = ["name": "a\"b\\c\n\u{1}é😀", "list": [1, 2.5, true, nil], "nested": ["x": [:]]]
        #expect(try JSONValue(parsing: value.canonicalJSON) == value)
        #expect(value.canonicalJSON == #"{"list":[1,2.5,true,null],"name":"a\"b\\c\n\u0001é😀","nested":{"x":{}}}"#)
    }

    @Test(arguments: [
        ("", 0), ("{", 1), (#"{"a" 1}"#, 5), ("[1,]", 3), ("01", 1), ("1.", 2), ("-", 1), ("tru", 0), (#""\x""#, 3),
        (#""\ud800""#, 7), ("\"a\u{1}\"", 2), (#"{"a":1} x"#, 8), ("1e999", 0), (#""abc"#, 4),
    ])
    func refusesWithTheOffset(_ text: String, offset: Int) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
        do { _ = try JSONValue(parsing: text) } catch { #expect(error.offset == offset, "\(text): \(error)") }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try JSONValue(parsing: deep)
            Issue.record("accepted 100,000 levels")
        } catch {
            #expect(error.problem.contains("nested deeper than"))
        }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect((try? JSONValue(parsing: fine)) != nil)
    }
}
