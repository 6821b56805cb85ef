import Foundation
internal import Crypto
internal import Yams

/// Loads and validates workflow definition files.
///
/// Definition files are operator-supplied and may be hostile or simply broken, so loading never
/// traps: every failure, from unreadable bytes to a cyclic step graph, becomes a ``DefinitionError``
/// listing all the problems found with file and line.
public enum WorkflowDefinitionLoader {
    /// Files larger than this are rejected before parsing. Real definitions are a few KiB.
    public static let maximumFileSize = 1 << 20
    /// Deepest mapping/list nesting accepted. Real definitions nest about five levels.
    public static let maximumDepth = 64
    /// Most YAML nodes accepted, counting each alias use as a full copy of what it refers to.
    public static let maximumNodeCount = 100_000

    /// Parses and validates a definition held in memory.
    ///
    /// - Parameters:
    ///   - yaml: the file contents. The content hash is taken over its UTF-8 bytes.
    ///   - file: the name used in messages. When it ends in `.yaml`/`.yml`, the workflow `name` must
    ///     equal the file's stem.
    ///   - knownActions: every action name registered with the engine; anything else is an error.
    ///   - planActions: the plan actions among them, when the caller knows: `plan:` must name one, a step none.
    public static func load(yaml: String, file: String, knownActions: Set<String>, planActions: Set<String>? = nil) throws(DefinitionError) -> WorkflowDefinition {
        func fail(line: Int? = nil, column: Int? = nil, _ message: String) -> DefinitionError {
            DefinitionError(issues: [DefinitionIssue(file: file, line: line, column: column, message: message)])
        }
        let size = yaml.utf8.count
        guard size <= maximumFileSize else {
            throw fail("file is \(size) bytes; definition files are limited to \(maximumFileSize) bytes (1 MiB)")
        }
        if let hazard = AliasKeyGuard.firstHazard(in: yaml) {
            throw fail(line: hazard.line, hazard.message)
        }

        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw DefinitionError(issues: [issue(from: error, file: file, yaml: yaml)])
        } catch {
            throw fail("cannot parse YAML: \(error)")
        }
        guard let root else {
            throw fail("file is empty; a workflow needs at least 'name' and 'steps'")
        }

        var builder = SourceNode.Builder(file: file, maximumDepth: maximumDepth, maximumNodeCount: maximumNodeCount)
        let tree = builder.build(root)
        guard let tree, builder.issues.isEmpty else {
            throw DefinitionError(issues: builder.issues)
        }

        var validator = DefinitionValidator(file: file, knownActions: knownActions, planActions: planActions)
        guard let result = validator.validate(tree), validator.issues.isEmpty else {
            throw DefinitionError(issues: sortedByLine(validator.issues))
        }
        return WorkflowDefinition(
            name: result.name,
            description: result.description,
            planAction: result.planAction,
            concurrencyKeyTemplate: result.concurrencyKeyTemplate,
            inputs: result.inputs,
            steps: result.steps,
            contentHash: contentHash(of: yaml),
            source: yaml
        )
    }

    /// Reads a definition file and validates it. Rejects missing files, directories, files over
    /// ``maximumFileSize`` (without reading them whole) and bytes that are not UTF-8.
    public static func load(contentsOf path: String, knownActions: Set<String>, planActions: Set<String>? = nil) throws(DefinitionError) -> WorkflowDefinition {
        func fail(line: Int? = nil, _ message: String) -> DefinitionError {
            DefinitionError(issues: [DefinitionIssue(file: path, line: line, message: message)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw fail("file not found")
        }
        guard !isDirectory.boolValue else { throw fail("is a directory, not a definition file") }
        // Opening a FIFO (or a device) for reading blocks until someone writes to it: only regular files are read.
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw fail("is not a regular file (a pipe, socket or device?)") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw fail("cannot open file for reading") }
        defer { try? handle.close() }

        let data: Data
        do {
            // One byte over the limit is enough to know it is too big.
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw fail("cannot read file: \(error.localizedDescription)")
        }
        guard data.count <= maximumFileSize else {
            throw fail("file is larger than \(maximumFileSize) bytes (1 MiB); definition files are limited to that size")
        }
        let bytes = [UInt8](data)
        guard var text = String(validating: bytes, as: UTF8.self) else {
            let (line, offset) = firstInvalidUTF8(in: bytes)
            throw fail(line: line, "file is not valid UTF-8 (first bad byte at offset \(offset)); save it as UTF-8")
        }
        // Editors on Windows save UTF-8 with a byte-order mark; YAML allows one, the parser does not.
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        return try load(yaml: text, file: path, knownActions: knownActions, planActions: planActions)
    }

    /// Lowercase hex SHA-256 of the UTF-8 bytes.
    public static func contentHash(of yaml: String) -> String {
        SHA256.hash(data: Array(yaml.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    // MARK: - Helpers

    /// Issues in line order read like the file; equal lines keep the order they were found in, and
    /// issues without a line go last.
    private static func sortedByLine(_ issues: [DefinitionIssue]) -> [DefinitionIssue] {
        issues.enumerated()
            .sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }
            .map(\.element)
    }

    static func issue(from error: YamlError, file: String, yaml: String) -> DefinitionIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if problem.contains("Maximum nesting level") {
                message = "nesting is deeper than the YAML parser allows; refusing to load it"
            } else if let context {
                message += " (\(context.text) at line \(context.mark.line))"
            }
            return DefinitionIssue(file: file, line: mark.line, column: mark.column, message: message)
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in yaml.utf8.prefix(offset).lazy.filter { $0 == UInt8(ascii: "\n") }.count + 1 }
            return DefinitionIssue(file: file, line: line, message: "invalid YAML input: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams reports the first occurrence; point at the repeat, which is usually the mistake.
            let key = duplicates.first ?? "?"
            let first = context.mark.line
            let repeatLine = lineOfRepeatedKey(key, firstLine: first, column: context.mark.column, yaml: yaml)
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return DefinitionIssue(file: file, line: repeatLine ?? first, column: repeatLine == nil ? context.mark.column : nil,
                                   message: "duplicate key \(keys) in the same mapping (first defined at line \(first))")
        default:
            return DefinitionIssue(file: file, message: "cannot parse YAML: \(error)")
        }
    }

    /// Best-effort search for the second `key:` at the same column as the first, for block mappings.
    private static func lineOfRepeatedKey(_ key: String, firstLine: Int, column: Int, yaml: String) -> Int? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard firstLine >= 1, firstLine <= lines.count else { return nil }
        let indent = column - 1
        for index in firstLine..<lines.count {
            let line = lines[index]
            let body = line.dropFirst(indent)
            guard line.prefix(indent).allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(spelling) {
                if body.dropFirst(spelling.count).drop(while: { $0 == " " }).first == ":" { return index + 1 }
            }
        }
        return nil
    }

    private static func firstInvalidUTF8(in bytes: [UInt8]) -> (line: Int, offset: Int) {
        var line = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return (line, index)
            }
            let end = index + length
            guard end <= bytes.count, String(validating: bytes[index..<end], as: UTF8.self) != nil else {
                return (line, index)
            }
            if byte == UInt8(ascii: "\n") { line += 1 }
            index = end
        }
        return (line, index)
    }
}
