/// Rejects alias-built mapping keys before Yams sees them.
///
/// Yams hashes every mapping key to detect duplicates, and hashing a key that is an alias to an
/// alias-bomb subtree walks the whole expansion: an exponential hang inside `compose`, before our node
/// limits can act. Definitions never need non-string keys, so when a file uses anchors we refuse
/// explicit `?` keys, aliases used as keys and flow collections used as keys.
enum AliasKeyGuard {
    static func firstHazard(in yaml: String) -> (line: Int, message: String)? {
        guard yaml.contains("&"), yaml.contains("*") else { return nil }
        var scanner = Scanner()
        for (index, rawLine) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let message = scanner.scan(line: rawLine) { return (index + 1, message) }
        }
        return nil
    }

    /// A scanner of YAML's structure, just enough to tell where a node starts and whether it is a key: the flow
    /// collections open (`[`, `{`) across lines, and block scalars (`|`, `>`) whose lines are text, not YAML.
    /// A `[` or `*` inside plain text (`description: see *runbook* [a, b]: …`) does not start a node and is ignored.
    private struct Scanner {
        private var flow: [Character] = []
        private var expectingNode = true
        /// The last indicator before the current position: `:`, `-`, `?`, `[`, `{`, `,`; nil at a line's start.
        private var previous: Character?
        /// Inside a block scalar, the indentation of the line that opened it: more indented lines are its text.
        private var blockScalarIndent: Int?

        /// A quoted scalar still open at the end of the last line (quoted scalars may span lines).
        private var openQuote: Character?

        mutating func scan(line rawLine: Substring) -> String? {
            let indent = rawLine.prefix { $0 == " " }.count
            if let parent = blockScalarIndent {
                if rawLine.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) || indent > parent { return nil }
                blockScalarIndent = nil
            }
            let characters = codePart(of: rawLine)
            if flow.isEmpty {
                expectingNode = true
                previous = nil
            }
            var blockScalar = false
            var position = 0
            func followedByBlank(_ at: Int) -> Bool {
                at + 1 >= characters.count || characters[at + 1] == " " || characters[at + 1] == "\t" || characters[at + 1] == "\r"
            }
            func nextSignificant(after at: Int) -> Character? {
                characters[(at + 1)...].first { $0 != " " && $0 != "\t" && $0 != "\r" }
            }
            func isNameCharacter(_ character: Character) -> Bool {
                character.isLetter || character.isNumber || character == "_" || character == "-"
            }
            while position < characters.count {
                let character = characters[position]
                switch character {
                case " ", "\t", "\r":
                    break
                // In a flow collection `?` marks a key whatever follows it (`{?*a}`); in a block only before a blank.
                case "?" where expectingNode && (followedByBlank(position) || !flow.isEmpty):
                    return "complex mapping keys ('?') are not allowed in definition files"
                case ":" where followedByBlank(position) || (!flow.isEmpty && ",]}".contains(characters[position + 1])):
                    expectingNode = true
                    previous = ":"
                case "-" where expectingNode && flow.isEmpty && followedByBlank(position):
                    previous = "-"
                case "[" where expectingNode || !flow.isEmpty, "{" where expectingNode || !flow.isEmpty:
                    flow.append(character)
                    expectingNode = true
                    previous = character
                case "]" where !flow.isEmpty, "}" where !flow.isEmpty:
                    flow.removeLast()
                    if nextSignificant(after: position) == ":" {
                        return "lists and mappings cannot be used as mapping keys in definition files"
                    }
                    expectingNode = false
                    previous = character
                case "," where !flow.isEmpty:
                    expectingNode = true
                    previous = ","
                case "&" where expectingNode, "!" where expectingNode:
                    // An anchor or a tag comes before the node it names.
                    while position + 1 < characters.count, !" \t\r,[]{}".contains(characters[position + 1]) { position += 1 }
                case "*" where expectingNode:
                    var end = position + 1
                    while end < characters.count, isNameCharacter(characters[end]) { end += 1 }
                    let isKey = nextSignificant(after: end - 1) == ":"
                        || (flow.last == "{" && (previous == "{" || previous == ","))
                    if isKey { return "aliases cannot be used as mapping keys in definition files" }
                    position = end - 1
                    expectingNode = false
                case "|" where expectingNode && flow.isEmpty, ">" where expectingNode && flow.isEmpty:
                    blockScalar = true
                    position = characters.count
                default:
                    expectingNode = false
                }
                position += 1
            }
            // The block scalar's text is what is more indented than the node that holds it: for `- d: |`, the
            // mapping at `d`'s column (its sibling keys sit there), not the line's first column.
            if blockScalar { blockScalarIndent = Self.nodeColumn(of: rawLine) }
            return nil
        }

        /// The column of a line's first node: past its indentation and any `- ` sequence indicators.
        private static func nodeColumn(of line: Substring) -> Int {
            var characters = Array(line)[...]
            var column = 0
            while let first = characters.first, first == " " || (first == "-" && characters.dropFirst().first.map { $0 == " " } ?? false) {
                characters = characters.dropFirst()
                column += 1
            }
            return column
        }

        /// The line as the scanner reads it: quoted text (which may hold `*`, `:` or `]`) replaced by `x`, a quote
        /// left open carried to the next line, and the comment cut off. A quote opens a scalar only where a node
        /// starts (after blanks, `:`, `-`, `?`, `[`, `{` or `,`), not inside plain text (`don't`); `\"` and `''`
        /// are escapes inside double and single quotes.
        private mutating func codePart(of line: Substring) -> [Character] {
            var result: [Character] = []
            let characters = Array(line)
            var index = 0
            var previous: Character = " "
            var lastSignificant: Character?
            while index < characters.count {
                let character = characters[index]
                if let open = openQuote {
                    if open == "\"" && character == "\\" {
                        result.append("x")
                        index += 1
                        if index < characters.count { result.append("x") }
                    } else if character == open && open == "'" && index + 1 < characters.count && characters[index + 1] == "'" {
                        result.append(contentsOf: ["x", "x"])
                        index += 1
                    } else {
                        if character == open { openQuote = nil }
                        result.append("x")
                    }
                } else if (character == "\"" || character == "'") && (lastSignificant == nil || ":-?[{,".contains(lastSignificant!)) {
                    openQuote = character
                    result.append("x")
                } else if character == "#", previous == " " || previous == "\t" {
                    break
                } else {
                    result.append(character)
                    if character != " " && character != "\t" { lastSignificant = character }
                }
                previous = character
                index += 1
            }
            return result
        }
    }

}
