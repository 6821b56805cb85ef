import Foundation
import Testing
@testable import UnwindCore

/// Input patterns are matched by ``LinearPattern``: the same answers as a regular expression engine on the
/// syntax it takes, in time linear in the value, and a clear refusal for what it does not take.
@Suite("Input patterns")
struct LinearPatternTests {
    /// (pattern, values that contain a match, values that do not); each answer is also checked against Swift's
    /// backtracking `Regex` on these short values.
    static let cases: [(String, [String], [String])] = [
        ("^[0-9a-z]{32}$", [String(repeating: "a1", count: 16)], ["", String(repeating: "a", count: 31), String(repeating: "A", count: 32)]),
        ("^[a-z]{2}(-[a-z]+)+-[0-9]+$", ["cn-north-4", "ap-southeast-1", "la-north-2"], ["cn-4", "cn-north-", "CN-north-4", "cn-north-4\n"]),
        ("^[A-Za-z0-9_-]{1,64}$", ["default", "ops_team-2"], ["", "a b", String(repeating: "x", count: 65)]),
        ("^[A-Z]+-[0-9]+$", ["OPS-12"], ["ops-12", "OPS-", "-12"]),
        ("ab|cd", ["xxcdxx", "ab"], ["ac", ""]),
        ("^(?:ab|a)c?$", ["ab", "a", "abc", "ac"], ["abcc", "b"]),
        ("colou?r", ["color", "the colour"], ["colr"]),
        ("^a{2,3}$", ["aa", "aaa"], ["a", "aaaa"]),
        ("^a{2,}$", ["aa", "aaaaaa"], ["a"]),
        ("^\\d+\\.\\d*$", ["1.", "10.25"], [".5", "1"]),
        ("^\\w+@\\w+\\.com$", ["ops@acme.com"], ["ops@acme.org", "@acme.com"]),
        ("^[^,\\s]+$", ["a;b"], ["a,b", "a b", ""]),
        ("^\\S+\\s\\S+$", ["two words"], ["one", "three is many"]),
        ("^x*$", ["", "xxx"], ["xy"]),
        ("^(a*)*b$", ["b", "aab"], ["aa"]),
        ("^[a\\-z]+$", ["a-z", "za"], ["b"]),
        ("^[\\]a]+$", ["]a"], ["b"]),
        ("^a.c$", ["abc", "a-c"], ["ac", "a\nc"]),
        ("^\\u{00E9}t\\x65$", ["\u{00E9}te"], ["ete"]),
        ("^[a-z]+?$", ["abc"], ["ABC"]),
        ("{", ["a{b"], ["ab"]),
        ("^\\$[0-9]+$", ["$12"], ["12"]),
    ]

    @Test(arguments: cases.indices)
    func answersAsARegularExpressionWould(index: Int) throws {
        let (source, matching, notMatching) = Self.cases[index]
        let pattern = try LinearPattern(source)
        let reference = try Regex(source)
        for value in matching {
            #expect(pattern.matches(value), "'\(source)' should match '\(value)'")
        }
        for value in notMatching {
            #expect(!pattern.matches(value), "'\(source)' should not match '\(value)'")
        }
        // Swift's `$` also matches before a final line break; ours does not, so that case is left out.
        for value in matching + notMatching where !value.hasSuffix("\n") {
            #expect(pattern.matches(value) == ((try? reference.firstMatch(in: value)) != nil), "'\(source)' on '\(value)' differs from Regex")
        }
    }

    /// Nested repetition is where backtracking engines take exponential time (30 characters: hours); here each
    /// character costs at most the program's length.
    @Test func nestedRepetitionStaysLinear() throws {
        for source in ["^([a-z0-9]+-?)+$", "(a+)+$", "^(a|a)*$", "^(a*)*$"] {
            let pattern = try LinearPattern(source)
            let value = String(repeating: "a", count: 50_000) + "_"
            let started = ContinuousClock.now
            #expect(!pattern.matches(value), "\(source)")
            #expect(pattern.matches(String(repeating: "a", count: 50_000)), "\(source)")
            // Not a timing assertion: a backtracking engine would not finish at all; a generous bound keeps a
            // regression from hanging the suite.
            #expect(ContinuousClock.now - started < .seconds(30), "\(source)")
        }
    }

    /// Linear is not cheap when the program is large: a pattern near the size limit against 100,000 characters
    /// took half a minute per submission. Such a value is refused, naming the fix, before any matching.
    @Test func aValueTooLongForItsPatternIsRefusedUnmatched() throws {
        let heavy = String(repeating: "(a?){1000}", count: 4) + "b"
        let field = InputField(name: "s", type: .string, pattern: heavy)
        let problems = field.problems(with: .string(String(repeating: "a", count: 100_000)))
        #expect(problems.count == 1 && problems[0].contains("too long to check against its pattern"), "\(problems)")
        let light = InputField(name: "id", type: .string, pattern: "^[0-9a-f]{32}$")
        #expect(light.problems(with: .string(String(repeating: "a", count: 100_000))).first?.contains("does not match") == true,
                "a small pattern still checks long values")
    }

    @Test func whatNeedsBacktrackingIsRefusedWithAReason() {
        let refused: [(String, String)] = [
            ("(a)\\1", "back-references"), ("a(?=b)", "lookaround"), ("(?i)abc", "inline flags"), ("a++", "possessive"),
            ("\\bword\\b", "\\b is not supported"), ("[[:alpha:]]", "POSIX classes"), ("(", "missing ')'"), ("a)", "unbalanced ')'"),
            ("[a-", "missing ']'"), ("*a", "nothing to repeat"), ("a{5,2}", "wrong way round"), ("a{1001}", "at most 1000"),
            ("(a{1000}){1000}", "more than"), ("\\", "lone '\\'"), ("\\q", "unknown escape"),
        ]
        for (source, fragment) in refused {
            #expect(throws: LinearPattern.SyntaxError.self, "\(source)") { try LinearPattern(source) }
            let message = (try? LinearPattern(source)).map { _ in "" } ?? InputField.patternProblem(source) ?? ""
            #expect(message.contains(fragment), "\(source): \(message)")
        }
    }
}
