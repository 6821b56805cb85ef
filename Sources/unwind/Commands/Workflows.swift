import ArgumentParser
import Foundation
import UnwindCore

struct Workflows: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate and list workflow definitions.",
        subcommands: [Validate.self, List.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check workflow definition files; every problem is reported with its file and line.",
            discussion: """
                With no paths, validates every *.yaml in the workflows directory. Exits 0 when all are valid, \
                64 otherwise.

                Examples:
                  unwind workflows validate
                  unwind workflows validate workflows/secmaster-full-teardown.yaml
                """)

        @OptionGroup var workflows: WorkflowOptions

        @Argument(help: "Definition files to check.", completion: .file(extensions: ["yaml", "yml"]))
        var paths: [String] = []

        func run() throws {
            try runReportingErrors {
                let registry = BuiltInActions.registry
                let known = registry.names, plans = registry.planNames
                var errors: [DefinitionError] = []
                var valid: [WorkflowDefinition] = []
                if paths.isEmpty {
                    let catalog = try workflows.catalog()
                    valid = catalog.definitions
                    errors = catalog.errors
                    if valid.isEmpty && errors.isEmpty {
                        // Most likely the wrong directory: say so rather than succeed having checked nothing.
                        throw CLIError(
                            description: "no workflow definitions (*.yaml, *.yml) in '\(workflows.directory)'; nothing was validated. Pass --workflows-dir or set UNWIND_WORKFLOWS_DIR, or name the files",
                            status: .usage)
                    }
                } else {
                    // Files named together are one catalog, as a directory is: a name given twice is an error on
                    // the later file (submissions would find only one of them).
                    var fileByName: [String: String] = [:]
                    for path in paths {
                        do {
                            let definition = try WorkflowDefinitionLoader.load(contentsOf: path, knownActions: known, planActions: plans)
                            if let first = fileByName[definition.name] {
                                errors.append(DefinitionError(issues: [DefinitionIssue(
                                    file: path, path: "name", message: "workflow name '\(definition.name)' is already defined in \(first)")]))
                                continue
                            }
                            fileByName[definition.name] = path
                            valid.append(definition)
                        } catch let error as DefinitionError {
                            errors.append(error)
                        }
                    }
                }
                for definition in valid.sorted(by: { $0.name < $1.name }) {
                    print("ok    \(definition.name) (\(definition.steps.count) steps, hash \(definition.contentHash.prefix(12)))")
                }
                for error in errors {
                    // A definition file's own text (a key, an action name) is echoed in the message: no escapes.
                    for issue in error.issues { Terminal.standardError.write("error: \(TextTable.neutralise("\(issue)"))\n") }
                }
                if !errors.isEmpty {
                    let count = errors.reduce(0) { $0 + $1.issues.count }
                    Terminal.standardError.write("\(count) problem(s) in \(errors.count) file(s)\n")
                    throw ExitStatus.usage.code
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the workflow definitions available for submission.",
            discussion: "Examples:\n  unwind workflows list\n  unwind workflows list --output json")

        @OptionGroup var workflows: WorkflowOptions
        @Option(help: "table or json") var output: OutputFormat = .table

        func run() throws {
            try runReportingErrors {
                let catalog = try workflows.catalog()
                let definitions = catalog.definitions.sorted { $0.name < $1.name }
                switch output {
                case .json:
                    let items = definitions.map { definition -> JSONValue in
                        .object([
                            "name": .string(definition.name), "description": definition.description.map { .string($0) } ?? .null,
                            "steps": .array(definition.steps.map { .string($0.id) }),
                            "pivot": definition.pivotStepID.map { .string($0) } ?? .null,
                            "hash": .string(definition.contentHash),
                        ])
                    }
                    print(JSONValue.array(items).prettyJSON)
                case .table:
                    var table = TextTable(headers: ["NAME", "STEPS", "PIVOT", "DESCRIPTION"])
                    for definition in definitions {
                        table.add([definition.name, "\(definition.steps.count)", definition.pivotStepID ?? "-", definition.description ?? ""])
                    }
                    print(table.render(), terminator: "")
                }
                if !catalog.errors.isEmpty {
                    Terminal.standardError.write("\(catalog.errors.count) definition file(s) are invalid; see: unwind workflows validate\n")
                }
            }
        }
    }
}
