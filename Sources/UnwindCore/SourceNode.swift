internal import Yams

/// A YAML node reduced to what the validator needs, with its position kept for messages.
///
/// The validator walks this instead of decoding with `Decodable`, because it must see unknown keys,
/// duplicate keys and line numbers, which `Decodable` throws away.
struct SourceNode: Sendable {
    enum Value: Sendable {
        /// `plain` is false for quoted or explicitly tagged scalars: `"3"` is a string, `3` a number.
        case scalar(String, plain: Bool)
        case sequence([SourceNode])
        case mapping([Entry])
    }

    struct Entry: Sendable {
        var key: String
        var keyLine: Int?
        var keyColumn: Int?
        var value: SourceNode
    }

    var value: Value
    var line: Int?
    var column: Int?
}

extension SourceNode {
    /// Converts a composed Yams tree, enforcing the structural limits that keep hostile files cheap.
    ///
    /// Yams resolves aliases to shared subtrees, so a "billion laughs" file composes quickly but
    /// explodes when walked; counting nodes *as expanded* here is what stops it.
    struct Builder {
        let file: String
        let maximumDepth: Int
        let maximumNodeCount: Int
        private(set) var issues: [DefinitionIssue] = []
        private var nodeCount = 0

        init(file: String, maximumDepth: Int, maximumNodeCount: Int) {
            self.file = file
            self.maximumDepth = maximumDepth
            self.maximumNodeCount = maximumNodeCount
        }

        struct LimitExceeded: Error {}

        mutating func build(_ node: Node) -> SourceNode? {
            do {
                return try convert(node, depth: 1, path: "")
            } catch {
                return nil
            }
        }

        private mutating func convert(_ node: Node, depth: Int, path: String) throws(LimitExceeded) -> SourceNode {
            let mark = node.mark
            nodeCount += 1
            if nodeCount > maximumNodeCount {
                issues.append(DefinitionIssue(
                    file: file, line: mark?.line, column: mark?.column, path: path.isEmpty ? nil : path,
                    message: "document expands to more than \(maximumNodeCount) YAML nodes; "
                        + "refusing to load it (is it an alias bomb?)"))
                throw LimitExceeded()
            }
            if depth > maximumDepth {
                issues.append(DefinitionIssue(
                    file: file, line: mark?.line, column: mark?.column, path: path.isEmpty ? nil : path,
                    message: "nesting is deeper than \(maximumDepth) levels; refusing to load it"))
                throw LimitExceeded()
            }
            switch node {
            case .scalar(let scalar):
                let plain = scalar.style == .plain && scalar.tag == Tag.implicit
                // PostgreSQL's text and jsonb cannot hold a NUL: the definition would validate, then fail every
                // submission when it is stored.
                if scalar.string.unicodeScalars.contains("\u{0}") {
                    issues.append(DefinitionIssue(
                        file: file, line: mark?.line, column: mark?.column, path: path.isEmpty ? nil : path,
                        message: "contains a NUL character (\\0); remove it"))
                }
                return SourceNode(value: .scalar(scalar.string, plain: plain), line: mark?.line, column: mark?.column)
            case .alias(let alias):
                // compose() already resolves aliases; an unresolved one is a Yams invariant break, not user error.
                issues.append(DefinitionIssue(
                    file: file, line: alias.mark?.line, column: alias.mark?.column, path: path.isEmpty ? nil : path,
                    message: "unresolved YAML alias"))
                return SourceNode(value: .scalar("", plain: true), line: mark?.line, column: mark?.column)
            case .sequence(let sequence):
                var children: [SourceNode] = []
                children.reserveCapacity(sequence.count)
                for (index, child) in sequence.enumerated() {
                    children.append(try convert(child, depth: depth + 1, path: "\(path)[\(index)]"))
                }
                return SourceNode(value: .sequence(children), line: mark?.line, column: mark?.column)
            case .mapping(let mapping):
                var entries: [Entry] = []
                var firstLine: [String: Int?] = [:]
                var merges: [(key: Node, value: Node)] = []
                for (keyNode, valueNode) in mapping {
                    // `<<: *defaults` (YAML's merge key): its mapping's keys are added after the explicit ones,
                    // which win.
                    if case .scalar(let keyScalar) = keyNode, keyScalar.string == "<<", keyScalar.style == .plain {
                        merges.append((keyNode, valueNode))
                        continue
                    }
                    guard case .scalar(let keyScalar) = keyNode else {
                        issues.append(DefinitionIssue(
                            file: file, line: keyNode.mark?.line, column: keyNode.mark?.column,
                            path: path.isEmpty ? nil : path,
                            message: "mapping keys must be plain strings, not lists or mappings"))
                        continue
                    }
                    let key = keyScalar.string
                    let childPath = path.isEmpty ? key : "\(path).\(key)"
                    // Yams rejects keys that are equal including their resolved tag; `1` and `"1"` differ
                    // there but are the same key to us.
                    if let previous = firstLine[key] {
                        issues.append(DefinitionIssue(
                            file: file, line: keyNode.mark?.line, column: keyNode.mark?.column, path: childPath,
                            message: "duplicate key '\(Suggestion.shown(key))'" + (previous.map { " (first defined at line \($0))" } ?? "")))
                        continue
                    }
                    firstLine.updateValue(keyNode.mark?.line, forKey: key)
                    let value = try convert(valueNode, depth: depth + 1, path: childPath)
                    entries.append(Entry(key: key, keyLine: keyNode.mark?.line, keyColumn: keyNode.mark?.column, value: value))
                }
                for (keyNode, valueNode) in merges {
                    // A list of mappings merges each in order; an earlier one's key wins over a later one's.
                    let sources: [Node]
                    switch valueNode {
                    case .mapping: sources = [valueNode]
                    case .sequence(let sequence) where sequence.allSatisfy({ if case .mapping = $0 { true } else { false } }): sources = Array(sequence)
                    default:
                        issues.append(DefinitionIssue(
                            file: file, line: keyNode.mark?.line, column: keyNode.mark?.column, path: path.isEmpty ? "<<" : "\(path).<<",
                            message: "a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *defaults"))
                        continue
                    }
                    for source in sources {
                        let merged = try convert(source, depth: depth + 1, path: path)
                        guard case .mapping(let mergedEntries) = merged.value else { continue }
                        for entry in mergedEntries where firstLine[entry.key] == nil {
                            firstLine.updateValue(entry.keyLine, forKey: entry.key)
                            entries.append(entry)
                        }
                    }
                }
                return SourceNode(value: .mapping(entries), line: mark?.line, column: mark?.column)
            }
        }
    }
}

extension SourceNode {
    /// Short description of what was found, for "expected X, got Y" messages.
    var kindDescription: String {
        switch value {
        case .scalar(let text, let plain):
            if plain && SourceNode.isNull(text) { return "null" }
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return "'\(shown)'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    static func isNull(_ text: String) -> Bool {
        ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// The node as JSON: plain scalars are typed the way YAML 1.2's core schema types them
    /// (null, true/false, integers, finite floats); quoted scalars are always strings.
    var jsonValue: JSONValue {
        switch value {
        case .scalar(let text, let plain):
            guard plain else { return .string(text) }
            if Self.isNull(text) { return .null }
            if ["true", "True", "TRUE"].contains(text) { return .bool(true) }
            if ["false", "False", "FALSE"].contains(text) { return .bool(false) }
            if let int = Int(text) { return .number(Double(int)) }
            if text.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true,
               let double = Double(text), double.isFinite {
                return .number(double)
            }
            return .string(text)
        case .sequence(let children):
            return .array(children.map(\.jsonValue))
        case .mapping(let entries):
            var object: [String: JSONValue] = [:]
            for entry in entries { object[entry.key] = entry.value.jsonValue }
            return .object(object)
        }
    }
}
