import ArgumentParser
import Dispatch
import Foundation
import Logging
import Synchronization
import UnwindCore
import UnwindEngine

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a workflow would do, calling only read-only APIs, and what it needs acknowledged.",
        discussion: """
            Runs the workflow's declared plan action (no database needed) and prints, step by step, what would \
            happen to each resource with the amounts involved, and which --accept flags a submission needs. \
            Exits 0; with --check, exits 4 when an acknowledgement in the plan is not given by --accept, or when \
            the plan says the workflow will stop before changing anything (BLOCKED).

            With --fleet FILE.csv|FILE.jsonl (the file unwind submit --fleet takes), every row is planned, \
            --parallel accounts at a time, and reported in file order: ready, needs acknowledgement (which --accept, \
            and why), blocked (it would stop before changing anything, and why), invalid (what submit would refuse) \
            or failed (the plan could not be made), with each row's totals; then a summary with the totals of the \
            planned rows. Exits 1 when a row is invalid or failed; otherwise 0, or with --check 4 when a row needs \
            an acknowledgement it does not give or is blocked.

            Examples:
              unwind plan secmaster-full-teardown --set domain_id=… --set project_id=… --set region=cn-north-4 --set profile=ops
              unwind plan secmaster-full-teardown --input account.json --output json
              unwind plan secmaster-full-teardown --fleet accounts.csv --accept handling-fee --check
            """)

    @OptionGroup var workflows: WorkflowOptions
    @Argument(help: "The workflow definition's name.") var workflow: String
    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var acknowledgements: AcknowledgementOptions
    var accept: [String] { acknowledgements.values }
    @Flag(help: "Exit 4 when the plan needs an acknowledgement that --accept does not give, or is blocked.") var check = false
    @Option(help: ArgumentHelp("Plan every row of a fleet file (.csv or .jsonl, as for submit --fleet); --set values apply to every row.", valueName: "file"))
    var fleet: String?
    @Option(help: ArgumentHelp("With --fleet: how many accounts are planned at a time (1–64, default 8).", valueName: "n"))
    var parallel: Int?
    @Option(help: "table or json") var output: OutputFormat = .table
    @Option(name: .customLong("log-level"), help: "Log level for the plan action (default: $UNWIND_LOG_LEVEL, else warning).") var logLevel: String?
    @Option(name: .customLong("log-format"), help: ArgumentHelp("text or json (default: $UNWIND_LOG_FORMAT, else text).", valueName: "format"))
    var logFormat: String?

    /// `--log-level`, else `UNWIND_LOG_LEVEL`, else warning.
    var resolvedLogLevel: String { logLevel ?? ProcessInfo.processInfo.environment["UNWIND_LOG_LEVEL"] ?? "warning" }

    func validate() throws {
        try CloudSettings.check()
        if Logger.Level(rawValue: resolvedLogLevel) == nil {
            throw ValidationError("log level '\(resolvedLogLevel)' (--log-level or UNWIND_LOG_LEVEL) is not one of trace, debug, info, notice, warning, error, critical")
        }
        if fleet != nil && inputOptions.inputFile != nil { throw ValidationError("--input cannot be combined with --fleet; use --set for values shared by every row") }
        if let parallel, !(1...64).contains(parallel) { throw ValidationError("--parallel must be between 1 and 64, got \(parallel)") }
        if fleet == nil && parallel != nil { throw ValidationError("--parallel applies to --fleet only") }
    }

    func run() throws {
        try runReportingErrors {
            let definition = try workflows.definition(named: workflow)
            guard definition.planAction != nil else {
                throw CLIError(description: "workflow '\(definition.name)' declares no plan, so there is nothing to show (add `plan: ACTION` to its definition); submit it with: unwind submit \(definition.name)", status: .usage)
            }
            if let fleet {
                try planFleet(fleet, definition: definition)
                return
            }
            let input = try definition.validateInput(try inputOptions.input(for: definition).withAcknowledgements(accept, for: definition))
            let plan = try PlanInvocation(logLevel: resolvedLogLevel, logFormat: try LogFormat.resolve(logFormat)).run(definition, input: input)
            // --accept is in the input's `accept` now, with any the input gave itself.
            let accepted = definition.acknowledgements(in: input)
            switch output {
            case .json: print(jsonText(plan))
            case .table: print(PlanRenderer.render(plan, workflow: definition.name, accepted: accepted), terminator: "")
            }
            if check, !plan.missingAcknowledgements(accepted: accepted).isEmpty || !plan.blockers.isEmpty {
                throw ExitStatus.refused.code
            }
        }
    }
}

/// Runs the plan action of a definition from synchronous CLI code.
struct PlanInvocation {
    var logLevel: String = "warning"
    /// nil: `UNWIND_LOG_FORMAT`, else text.
    var logFormat: LogFormat? = nil

    func run(_ definition: WorkflowDefinition, input: [String: JSONValue]) throws -> WorkflowPlan {
        let runner = makeRunner()
        return try blocking { try await runner.plan(definition, input: input) }
    }

    /// Throws ``AcknowledgementRequired`` when the workflow's plan needs an acknowledgement `accepted` lacks.
    func checkAcknowledgements(_ definition: WorkflowDefinition, input: [String: JSONValue]) throws {
        let gate = AcknowledgementGate(runner: makeRunner())
        _ = try blocking { try await gate.check(definition, input: input) }
    }

    func makeRunner() -> PlanRunner {
        LoggingBootstrap.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .warning, format: logFormat)
        return PlanRunner(registry: BuiltInActions.registry, logger: Logger(label: "unwind.plan"))
    }

    func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let value = try await body()
                result.withLock { $0 = .success(value) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        switch result.withLock({ $0 }) {
        case .success(let value): return value
        case .failure(let error as PlanError): throw CLIError(description: error.description, status: .failure)
        case .failure(let error): throw error
        case .none: throw CLIError(description: "planning produced no result")
        }
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Puts the `--accept` values into the input field `accept` when the workflow declares one.
    func withAcknowledgements(_ accepted: [String], for definition: WorkflowDefinition) throws -> [String: JSONValue] {
        try definition.input(self, withAcknowledgements: accepted)
    }
}

enum PlanRenderer {
    static func render(_ plan: WorkflowPlan, workflow: String, accepted: Set<String>) -> String {
        var text = "plan for \(workflow)\n"
        if let summary = plan.summary { text += TextTable.neutralise(summary) + "\n" }
        text += "\n"
        let amountKeys = Array(Set(plan.steps.flatMap { $0.items.flatMap { $0.amounts?.keys.map { $0 } ?? [] } })).sorted()
        var table = TextTable(headers: ["STEP", "RESOURCE", "ACTION"] + amountKeys.map { $0.uppercased() } + ["DETAIL"])
        for step in plan.steps {
            for item in step.items {
                let amounts = amountKeys.map { key in item.amounts?[key].map { String(format: "%.2f", $0) } ?? "-" }
                table.add([step.step, item.resource, item.action] + amounts + [item.detail ?? ""])
            }
        }
        text += table.render()
        if let totals = plan.totals, !totals.isEmpty {
            text += "\ntotals: " + totals.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", ")
            text += (plan.currency.map { " " + $0 } ?? "") + "\n"
        }
        for warning in plan.warnings { text += "warning: \(TextTable.neutralise(warning))\n" }
        for blocker in plan.blockers { text += "BLOCKED: \(TextTable.neutralise(blocker))\n" }
        if plan.acknowledgements.isEmpty {
            text += "\nno acknowledgement needed\n"
        } else {
            text += "\n"
            for ack in plan.acknowledgements {
                let given = accepted.contains(ack.flag) ? "given" : "NEEDED"
                text += "acknowledgement \(given): --accept \(ack.flag)  (\(TextTable.neutralise(ack.reason)))\n"
            }
        }
        return text
    }
}
