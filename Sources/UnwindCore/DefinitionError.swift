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
