import ArgumentParser
import Foundation
import UnwindCore
import UnwindEngine
import UnwindStore

/// Input flags shared by `submit` and `plan`: `--set key=value …` and `--input FILE.json`.
struct InputOptions: ParsableArguments {
    @Option(name: .customLong("set"), parsing: .singleValue, help: ArgumentHelp("Set one input field (repeatable).", valueName: "key=value"))
    var assignments: [String] = []

    @Option(name: .customLong("input"), help: ArgumentHelp("Read the input from a JSON object file ('-' for stdin).", valueName: "file"), completion: .file(extensions: ["json"]))
    var inputFile: String?

    /// The input object: the file first, then each --set on top, typed by the definition's input fields.
    func input(for definition: WorkflowDefinition) throws -> [String: JSONValue] {
        var input: [String: JSONValue] = [:]
        if let inputFile {
            let data: Data
            if inputFile == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: inputFile) else {
                    throw CLIError(description: "--input: cannot read '\(inputFile)'", status: .usage)
                }
                data = contents
            }
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let object) = value else {
                throw CLIError(description: "--input: '\(inputFile)' is not a JSON object (expected {\"field\": value, …})", status: .usage)
            }
            input = object
        }
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw CLIError(description: "--set '\(assignment)': expected key=value", status: .usage)
            }
            let key = String(assignment[..<equals])
            let text = String(assignment[assignment.index(after: equals)...])
            input[key] = try Self.typedValue(text, key: key, field: definition.inputs.first { $0.name == key })
        }
        return input
    }

    static func typedValue(_ text: String, key: String, field: InputField?) throws -> JSONValue {
        switch field?.type {
        case .bool?:
            switch text.lowercased() {
            case "true", "yes", "1": return .bool(true)
            case "false", "no", "0": return .bool(false)
            default: throw CLIError(description: "--set \(key)=\(text): \(key) is a bool; use true or false", status: .usage)
            }
        case .int?:
            guard let value = Int(text) else { throw CLIError(description: "--set \(key)=\(text): \(key) is an int", status: .usage) }
            return .number(Double(value))
        case .number?:
            guard let value = Double(text) else { throw CLIError(description: "--set \(key)=\(text): \(key) is a number", status: .usage) }
            return .number(value)
        case .object?, .array?:
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw CLIError(description: "--set \(key)=…: \(key) takes JSON (e.g. {\"a\":1} or [1,2])", status: .usage)
            }
            return value
        case .string?, nil:
            return .string(text)
        }
    }
}

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit one workflow.",
        discussion: """
            The input is validated against the workflow's declared inputs before anything is stored. Submitting \
            again with the same --idempotency-key returns the existing workflow. A workflow whose concurrency key \
            (e.g. its cloud account) is held by another unfinished workflow is refused (exit 4).

            Examples:
              unwind submit example-linear --set ticket=OPS-42
              unwind submit example-linear --input input.json --idempotency-key OPS-42 --wait
              unwind submit example-linear --set ticket=OPS-43 --not-before 2026-12-01T02:00:00Z
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var workflows: WorkflowOptions
    @Argument(help: "The workflow definition's name (see: unwind workflows list).") var workflow: String
    @OptionGroup var inputOptions: InputOptions

    @Option(name: .customLong("idempotency-key"), help: "Submitting again with the same key returns the existing workflow.")
    var idempotencyKey: String?

    @Option(name: .customLong("label"), parsing: .singleValue, help: ArgumentHelp("Attach a label (repeatable), e.g. account=acme.", valueName: "key=value"))
    var labels: [String] = []

    @Option(name: .customLong("not-before"), help: ArgumentHelp("Start no earlier than this time (ISO 8601, or +10m / +2h from now).", valueName: "time"))
    var notBefore: String?

    @Option(help: "Higher runs first among due steps.") var priority: Int = 0
    @Option(help: "Queue the workflow's steps go to.") var queue: String = "default"
    @Option(name: .customLong("as"), help: "Who is submitting (default: the OS user).") var actor: String?
    @Flag(help: "Wait until the workflow finishes, showing progress; the exit code reflects its final state.") var wait = false
    @Option(help: "table or json") var output: OutputFormat = .table

    func run() throws {
        try runReportingErrors {
            let definition = try workflows.definition(named: workflow)
            let input = try inputOptions.input(for: definition)
            var labelMap: [String: String] = [:]
            for label in labels {
                let parts = label.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw CLIError(description: "--label '\(label)': expected key=value", status: .usage)
                }
                labelMap[String(parts[0])] = String(parts[1])
            }
            let startAt = try notBefore.map { try parseTime($0, flag: "--not-before") }
            _ = try definition.validateInput(input)
            let services = try Services(database: database)
            let outcome = try WorkflowSubmitter(store: services.store).submit(
                definition, input: input, labels: labelMap, idempotencyKey: idempotencyKey, notBefore: startAt,
                submittedBy: currentActor(actor), priority: priority, queue: queue)
            let id = outcome.workflowID.uuidString.lowercased()
            switch (outcome, output) {
            case (_, .json):
                let created: Bool = if case .created = outcome { true } else { false }
                Terminal.standardOutput.write(JSONValue.object(["id": .string(id), "created": .bool(created), "workflow": .string(definition.name)]).prettyJSON + "\n")
            case (.created, .table):
                Terminal.standardOutput.write("submitted \(definition.name) \(id)\n")
            case (.existing, .table):
                Terminal.standardOutput.write("already submitted with idempotency key '\(idempotencyKey ?? "")': \(id)\n")
            }
            if wait {
                let final = try WaitProgress(store: services.store).wait(for: outcome.workflowID)
                if final != .succeeded { throw ExitStatus.workflowDidNotSucceed.code }
            }
        }
    }
}

/// Parses ISO 8601 (`2026-12-01T02:00:00Z`) or a relative `+10m`.
func parseTime(_ text: String, flag: String) throws -> Date {
    if text.hasPrefix("+"), let duration = Duration(definitionText: String(text.dropFirst())) {
        return Date().addingTimeInterval(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
    if let date = try? Date(text, strategy: .iso8601) { return date }
    throw CLIError(description: "\(flag): '\(text)' is not a time; use ISO 8601 (2026-12-01T02:00:00Z) or +10m", status: .usage)
}
