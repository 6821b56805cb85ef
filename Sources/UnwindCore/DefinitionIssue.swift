/// One problem found in a workflow definition file.
///
/// `description` is the line a user sees, compiler style, so editors can jump to it:
/// `workflows/x.yaml:12: steps[2].after: step 'chrage' does not exist; did you mean 'charge'?`
public struct DefinitionIssue: Sendable, Equatable, CustomStringConvertible {
    /// The file as the caller named it (not resolved), so messages match what the user typed.
    public var file: String
    /// 1-based line, when the YAML parser gives one.
    public var line: Int?
    /// 1-based column, when the YAML parser gives one.
    public var column: Int?
    /// Where in the document, e.g. `steps[2].retry.max_attempts` (sequence indices are 0-based).
    public var path: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, path: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let path, !path.isEmpty { text += "\(path): " }
        return text + message
    }
}

/// Why a definition file was rejected. Carries every issue found, not just the first, so one
/// `unwind workflows validate` run shows everything that needs fixing.
public struct DefinitionError: Error, Sendable, CustomStringConvertible {
    public var issues: [DefinitionIssue]

    public init(issues: [DefinitionIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}

/// Why a submitted workflow input was rejected; every problem names its field.
public struct InputValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [String]

    public init(problems: [String]) {
        self.problems = problems
    }

    public var description: String {
        "invalid workflow input: " + problems.joined(separator: "; ")
    }
}
