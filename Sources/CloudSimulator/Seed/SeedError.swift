/// A problem with a seed file, reported on one line: the file, the JSON path and what is wrong.
public struct SeedError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// e.g. `accounts[0].servers[2].charging_mode`; empty for problems with the whole file.
    public var path: String
    public var problem: String

    public init(file: String, path: String, problem: String) {
        self.file = file
        self.path = path
        self.problem = problem
    }

    public var description: String {
        path.isEmpty ? "seed file \(file): \(problem)" : "seed file \(file): at \(path): \(problem)"
    }
}
