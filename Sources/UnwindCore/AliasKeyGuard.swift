/// Rejects alias-built mapping keys before Yams sees them.
///
/// Yams hashes every mapping key to detect duplicates, and hashing a key that is an alias to an
/// alias-bomb subtree walks the whole expansion: an exponential hang inside `compose`, before our node
/// limits can act. Definitions never need non-string keys, so when a file uses anchors we refuse
/// explicit `?` keys, aliases used as keys and flow collections used as keys.
enum AliasKeyGuard {
    static func firstHazard(in yaml: String) -> (line: Int, message: String)? {
        guard yaml.contains("&"), yaml.contains("*") else { return nil }
        for (index, rawLine) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = codePart(of: rawLine)
            let trimmed = line.drop(while: { $0 == " " || $0 == "-" || $0 == "\t" })
            if trimmed == "?" || trimmed.hasPrefix("? ") {
                return (index + 1, "complex mapping keys ('?') are not allowed in definition files")
            }
            let characters = Array(line)
            for (position, character) in characters.enumerated() where character == ":" {
                let after = position + 1 < characters.count ? characters[position + 1] : " "
                guard after == " " || after == "\t" || after == "," || after == "}" else { continue }
                var before = position - 1
                while before >= 0, characters[before] == " " { before -= 1 }
                guard before >= 0 else { continue }
                if characters[before] == "]" || characters[before] == "}" {
                    return (index + 1, "lists and mappings cannot be used as mapping keys in definition files")
                }
                // Walk back over the key token to see whether it is an alias (`*name :`).
                var start = before
                while start > 0, !" \t,[{".contains(characters[start - 1]) { start -= 1 }
                if characters[start] == "*" {
                    return (index + 1, "aliases cannot be used as mapping keys in definition files")
                }
            }
        }
        return nil
    }

    /// The line without quoted text and comments, which may legitimately contain `*`, `:` or `]`.
    private static func codePart(of line: Substring) -> String {
        var result = ""
        var quote: Character?
        var previous: Character = " "
        for character in line {
            if let open = quote {
                if character == open { quote = nil }
                result.append("x")
            } else if character == "\"" || character == "'" {
                quote = character
                result.append("x")
            } else if character == "#", previous == " " || previous == "\t" {
                break
            } else {
                result.append(character)
            }
            previous = character
        }
        return result
    }
}
