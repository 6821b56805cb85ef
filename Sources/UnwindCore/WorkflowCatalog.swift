import Foundation

/// The workflow definitions in one directory (`workflows/`): every `*.yaml` and `*.yml` file,
/// not recursing into subdirectories.
public struct WorkflowCatalog: Sendable {
    public var definitions: [WorkflowDefinition]

    public init(definitions: [WorkflowDefinition]) {
        self.definitions = definitions
    }

    public func definition(named name: String) -> WorkflowDefinition? {
        definitions.first { $0.name == name }
    }

    /// What a name given by an operator resolves to in a loaded directory.
    public enum Lookup: Sendable {
        /// The workflow directory itself could not be listed (permissions, not a directory).
        case directoryUnreadable(DefinitionError)
        case found(WorkflowDefinition)
        /// A file named after the workflow (`name.yaml` or `name.yml`) has errors. Reported even when another file
        /// defines the name (both `x.yaml` and `x.yml`): which one was meant is not for us to guess.
        case broken(DefinitionError)
        case unknown(knownNames: [String])
    }

    public static func lookup(_ name: String, definitions: [WorkflowDefinition], errors: [DefinitionError]) -> Lookup {
        if let broken = errors.first(where: { $0.issues.contains { $0.file.hasSuffix("/\(name).yaml") || $0.file.hasSuffix("/\(name).yml") } }) {
            return .broken(broken)
        }
        if let definition = definitions.first(where: { $0.name == name }) { return .found(definition) }
        // The directory itself could not be read: that, not an unknown name, is what to report.
        if definitions.isEmpty, let unreadable = errors.first(where: { $0.issues.contains { $0.message.hasPrefix("cannot list workflow directory") } }) {
            return .directoryUnreadable(unreadable)
        }
        return .unknown(knownNames: definitions.map(\.name).sorted())
    }

    /// Loads every definition file in `directory`, sorted by file name.
    ///
    /// Bad files do not stop the others from loading: each produces its own ``DefinitionError``.
    /// A `name` already used by an earlier file is an error on the later file, which is then left out.
    public static func load(directory: String, knownActions: Set<String>, planActions: Set<String>? = nil) -> (definitions: [WorkflowDefinition], errors: [DefinitionError]) {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .filter { !$0.hasPrefix(".") }
                .sorted()
        } catch {
            let issue = DefinitionIssue(file: directory, message: "cannot list workflow directory: \(error.localizedDescription)")
            return ([], [DefinitionError(issues: [issue])])
        }

        var definitions: [WorkflowDefinition] = []
        var errors: [DefinitionError] = []
        var fileByName: [String: String] = [:]
        for file in files {
            let path = directory.hasSuffix("/") ? directory + file : directory + "/" + file
            do {
                let definition = try WorkflowDefinitionLoader.load(contentsOf: path, knownActions: knownActions, planActions: planActions)
                if let first = fileByName[definition.name] {
                    errors.append(DefinitionError(issues: [DefinitionIssue(
                        file: path, path: "name",
                        message: "workflow name '\(definition.name)' is already defined in \(first)")]))
                    continue
                }
                fileByName[definition.name] = path
                definitions.append(definition)
            } catch {
                errors.append(error)
            }
        }
        return (definitions, errors)
    }
}
