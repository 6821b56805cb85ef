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
