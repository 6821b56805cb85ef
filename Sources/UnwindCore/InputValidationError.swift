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
