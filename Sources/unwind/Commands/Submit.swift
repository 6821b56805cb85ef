import ArgumentParser
import Dispatch
import Foundation
import Synchronization
import UnwindCore
import UnwindEngine
import UnwindStore

/// Input flags shared by `submit` and `plan`: `--set key=value …` and `--input FILE.json`.
/// `--accept`: the acknowledgements a workflow's plan asks for, given on the command line (`plan`, `submit`).
struct AcknowledgementOptions: ParsableArguments {
    @Option(name: .customLong("accept"), parsing: .singleValue, help: ArgumentHelp("Acknowledge something the workflow's plan asks for (repeatable, or a comma list), e.g. handling-fee.", valueName: "ack"))
    var flags: [String] = []

    /// The values, a comma list taken apart (as `--set` and fleet cells take lists).
    var values: [String] { flags.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty } }
}

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
                data = (try? FileHandle.standardInput.read(upToCount: Self.maximumInputBytes + 1)) ?? Data()
            } else {
                if let problem = UserFile.problem(inputFile) { throw CLIError(description: "--input: \(problem)", status: .usage) }
                // Through a handle rather than `contents(atPath:)`, so that `--input <(command)` (a pipe) reads too.
                guard let handle = FileHandle(forReadingAtPath: inputFile), let contents = try? handle.read(upToCount: Self.maximumInputBytes + 1) ?? Data() else {
                    throw CLIError(description: "--input: cannot read '\(inputFile)'", status: .usage)
                }
                try? handle.close()
                data = contents
            }
            // Inputs are stored with every workflow and read at every step: the API's limit, not a file's.
            guard data.count <= Self.maximumInputBytes else {
                throw CLIError(description: "--input: '\(inputFile)' is larger than \(Self.maximumInputBytes / 1024) KiB; keep inputs small and name large data by path or URL", status: .usage)
            }
            // Decoding would replace bad bytes with U+FFFD and store text the user never wrote.
            guard var text = String(validating: data, as: UTF8.self) else {
                throw CLIError(description: "--input: '\(inputFile)' is not valid UTF-8 text; save it as UTF-8", status: .usage)
            }
            // A byte-order mark (editors on Windows write one) is harmless here, as in definitions and fleet files.
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            let value: JSONValue
            do {
                value = try JSONValue(parsing: text, rejectingDuplicateNames: true)
            } catch {
                throw CLIError(description: "--input: '\(inputFile)' is not valid JSON (\(error.description)); expected {\"field\": value, …}", status: .usage)
            }
            guard case .object(let object) = value else {
                throw CLIError(description: "--input: '\(inputFile)' is not a JSON object (expected {\"field\": value, …})", status: .usage)
            }
            input = object
        }
        // Every bad --set is reported at once, as the input's own validation reports every field.
        var problems: [String] = []
        var assigned: Set<String> = []
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                problems.append("--set '\(assignment)': expected key=value")
                continue
            }
            let key = String(assignment[..<equals])
            let text = String(assignment[assignment.index(after: equals)...])
            guard assigned.insert(key).inserted else {
                problems.append("--set \(key) is given twice; give each input once (a list takes commas: --set \(key)=a,b)")
                continue
            }
            do {
                input[key] = try Self.typedValue(text, key: key, field: definition.inputs.first { $0.name == key })
            } catch {
                problems.append((error as? CLIError)?.description ?? "\(error)")
            }
        }
        if !problems.isEmpty { throw CLIError(description: problems.joined(separator: "\n"), status: .usage) }
        return input
    }

    /// The largest `--input` accepted, as the API's request body limit.
    static let maximumInputBytes = 1 << 20

    static func typedValue(_ text: String, key: String, field: InputField?) throws -> JSONValue {
        switch field?.type {
        case .bool?:
            switch text.lowercased() {
            case "true", "yes", "y", "on", "1": return .bool(true)
            case "false", "no", "n", "off", "0": return .bool(false)
            default: throw CLIError(description: "--set \(key)=\(text): \(key) is a bool; use true or false", status: .usage)
            }
        case .int?:
            guard let value = Int(text) else { throw CLIError(description: "--set \(key)=\(text): \(key) is an int", status: .usage) }
            if let problem = InputType.exactIntProblem(Double(value)) { throw CLIError(description: "--set \(key)=\(text): \(key) \(problem)", status: .usage) }
            return .number(Double(value))
        case .number?:
            // Decimal notation only: Swift's Double(_:) also reads hexadecimal (`0x1p3` = 8), which no input means.
            let decimal = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }
            guard decimal, let value = Double(text), value.isFinite else {
                throw CLIError(description: "--set \(key)=\(text): \(key) is a number; use a finite one such as 12.5", status: .usage)
            }
            return .number(value)
        case .array? where !text.trimmingCharacters(in: .whitespaces).hasPrefix("["):
            // A plain list, as people write it in a spreadsheet cell or on a command line: `handling-fee` or
            // `handling-fee,refund-loss`. JSON (`["handling-fee"]`) is taken as JSON.
            return .array(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { .string($0) })
        case .object?, .array?:
            do {
                return try JSONValue(parsing: text, rejectingDuplicateNames: true)
            } catch {
                throw CLIError(description: "--set \(key)=…: \(key) takes JSON (e.g. {\"a\":1} or [1,2]); \(error.description)", status: .usage)
            }
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
              unwind submit example-linear --fleet tickets.csv --set pause=false

            With --fleet FILE.csv|FILE.jsonl, one workflow is submitted per row (the --set values apply to every \
            row, the row's own values win), in one transaction per batch of 500 rows. Each row gets a result line: \
            submitted, exists (its idempotency key was used before), refused (its concurrency key is held) or \
            invalid (with the reason). The whole file is checked first: an invalid row (a bad value, or a row \
            repeating an earlier one's idempotency key, its input (rows without a key), or its concurrency key) \
            stops the submission with every \
            invalid row named and nothing submitted (exit 64), unless --skip-invalid submits the valid rows. \
            Unless a row sets idempotency_key, its key is derived from the workflow and the row's input, so \
            running the same file again submits nothing twice; --idempotency-key then names a namespace for those \
            keys. Exits 0 when every row was submitted or existed, 64 when invalid rows stopped the file, 1 when \
            rows were left out (--skip-invalid) or refused. --dry-run checks the whole file (streamed, any size), \
            submits nothing and exits 1 if a row is invalid.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var workflows: WorkflowOptions
    @Argument(help: "The workflow definition's name (see: unwind workflows list).") var workflow: String
    @OptionGroup var inputOptions: InputOptions

    @Option(help: ArgumentHelp("Submit one workflow per row of a .csv (header row of input fields) or .jsonl file.", valueName: "file"), completion: .file(extensions: ["csv", "jsonl"]))
    var fleet: String?

    @Option(name: .customLong("idempotency-key"), help: "Submitting again with the same key returns the existing workflow.")
    var idempotencyKey: String?

    @Option(name: .customLong("label"), parsing: .singleValue, help: ArgumentHelp("Attach a label (repeatable), e.g. account=acme.", valueName: "key=value"))
    var labels: [String] = []

    @Option(name: .customLong("not-before"), help: ArgumentHelp("Start no earlier than this time (ISO 8601, or +10m / +2h / +3d from now).", valueName: "time"))
    var notBefore: String?

    @OptionGroup var acknowledgements: AcknowledgementOptions
    var accept: [String] { acknowledgements.values }

    @Flag(name: .customLong("skip-plan"), help: "Do not run the workflow's plan before submitting (its own steps still check acknowledgements).")
    var skipPlan = false

    @Flag(name: .customLong("dry-run"), help: "With --fleet: check every row and report the invalid ones; submit nothing.")
    var dryRun = false

    @Flag(name: .customLong("skip-invalid"), help: "With --fleet: submit the valid rows even when others are invalid (they are reported, and the exit code is 1).")
    var skipInvalid = false

    // `.unconditional` so that `--priority -1` works without `=` (a negative number is not another flag).
    @Option(parsing: .unconditional, help: "Higher runs first among due steps.") var priority: Int = 0
    @Option(help: "Queue the workflow's steps go to.") var queue: String = "default"
    @Option(name: .customLong("as"), help: "Who is submitting (default: the OS user).") var actor: String?
    @Flag(help: "Wait until the workflow finishes, showing progress; the exit code reflects its final state.") var wait = false
    @Option(help: "table or json") var output: OutputFormat = .table

    func validate() throws {
        if fleet != nil && wait { throw ValidationError("--wait follows one workflow; it cannot be used with --fleet") }
        if dryRun && fleet == nil { throw ValidationError("--dry-run checks a fleet file; for one workflow use: unwind plan") }
        if fleet != nil && inputOptions.inputFile != nil { throw ValidationError("--input cannot be combined with --fleet; use --set for values shared by every row") }
        if !skipPlan { try CloudSettings.check() }
        if let problem = QueueName.problem(queue) { throw ValidationError("--queue: \(problem)") }
        try validateActor(actor)
        let maxPriority = SubmissionLimits.maxPriority
        guard (-maxPriority...maxPriority).contains(priority) else { throw ValidationError("--priority must be between -\(maxPriority) and \(maxPriority) (higher runs first)") }
        if let idempotencyKey, idempotencyKey.trimmingCharacters(in: .whitespaces).isEmpty {
            // An unset shell variable must not make every submission after the first return the first one.
            throw ValidationError("--idempotency-key must not be empty; leave the flag out to submit without one")
        }
        if let idempotencyKey, idempotencyKey.count > SubmissionLimits.maxIdempotencyKeyLength {
            throw ValidationError("--idempotency-key must be at most \(SubmissionLimits.maxIdempotencyKeyLength) characters")
        }
    }

    func run() throws {
        try runReportingErrors {
            let definition = try workflows.definition(named: workflow)
            if let fleet {
                try submitFleet(fleet, definition: definition)
                return
            }
            let input = try inputOptions.input(for: definition).withAcknowledgements(accept, for: definition)
            let labelMap = try labelFlags()
            let startAt = try notBefore.map { try parseTime($0, flag: "--not-before") }
            let limits = SubmissionLimits.problems(labels: labelMap, notBefore: startAt)
            if !limits.isEmpty { throw CLIError(description: limits.joined(separator: "\n"), status: .usage) }
            let validated = try definition.validateInput(input)
            if !skipPlan {
                // Refuse before anything changes when the plan needs an acknowledgement that was not given
                // (the same gate the HTTP API applies).
                do {
                    // The plan runs with the command's --log-level (it sets up logging for the whole process).
                    let level = database.logLevel ?? ProcessInfo.processInfo.environment["UNWIND_LOG_LEVEL"] ?? "warning"
                    try PlanInvocation(logLevel: level, logFormat: try LogFormat.resolve(database.logFormat))
                        .checkAcknowledgements(definition, input: validated)
                } catch let refusal as AcknowledgementRequired {
                    let lines = refusal.missing.map { "  --accept \($0.flag): \($0.reason)" }.joined(separator: "\n")
                    if let problem = refusal.definitionProblem {
                        throw CLIError(
                            description: "refused: the plan of \(definition.name) asks for acknowledgements; nothing was submitted:\n\(lines)\n\(problem)",
                            status: .refused)
                    }
                    throw CLIError(
                        description: "refused: the plan needs acknowledging before \(definition.name) can be submitted; nothing was submitted. Add:\n\(lines)\n(see the whole plan with: unwind plan \(definition.name) …)",
                        status: .refused)
                }
            }
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
                // With --output json, standard output is one JSON document; the progress goes to standard error.
                let final = try WaitProgress(store: services.store, toStandardError: output == .json).wait(for: outcome.workflowID)
                if final != .succeeded { throw ExitStatus.workflowDidNotSucceed.code }
            }
        }
    }
}

extension Submit {
    /// The `--label key=value` flags (for a fleet, every row gets them; a row's own `label.*` values win).
    func labelFlags() throws -> [String: String] { try Self.labelMap(labels) }

    /// `--label key=value` flags as a map. A key given twice is refused rather than keeping one of the values
    /// silently (on `list` two values of one label would also match nothing).
    static func labelMap(_ flags: [String]) throws -> [String: String] {
        var labelMap: [String: String] = [:]
        for label in flags {
            let parts = label.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw CLIError(description: "--label '\(label)': expected key=value", status: .usage)
            }
            let key = String(parts[0])
            if let earlier = labelMap[key] {
                throw CLIError(
                    description: "--label \(key) is given twice ('\(earlier)' and '\(parts[1])'); give each label once",
                    status: .usage)
            }
            labelMap[key] = String(parts[1])
        }
        return labelMap
    }

    /// Fleet batches in the database at once (one connection and transaction each).
    static let submissionLanes = 2

    /// Rows of a fleet file kept in memory between the check of the whole file and the submission (about 20 MB at
    /// most); a longer file is read and checked again instead, so that any size stays streamed.
    static let rowsKeptBetweenPasses = 20_000

    /// A fleet row waiting for its batch: a valid row has a request, an invalid one the reason.
    private typealias FleetBatchRow = (line: Int, request: SubmitRequest?, invalid: String?)

    private func submitFleet(_ path: String, definition: WorkflowDefinition) throws {
        let shared = try inputOptions.input(for: definition).withAcknowledgements(accept, for: definition)
        let sharedLabels = try labelFlags()
        let reader = try FleetReader(path: path, definition: definition)
        let startAt = try notBefore.map { try parseTime($0, flag: "--not-before") }
        // The start time is every row's: checked once. Labels are checked per row (a row's own add to --label).
        let sharedLimits = SubmissionLimits.problems(labels: sharedLabels, notBefore: startAt)
        if !sharedLimits.isEmpty { throw CLIError(description: sharedLimits.joined(separator: "\n"), status: .usage) }
        let services: Services? = dryRun ? nil : try Services(database: database)
        let submitter = currentActor(actor)
        let namespace = idempotencyKey ?? "fleet"
        var counts = FleetTally()
        // Fleet rows are not planned one by one (that is a cloud read per row); rows that acknowledge nothing are
        // counted so that the operator hears, before the workers do, that a fee would stop them at preflight.
        let takesAcknowledgements = definition.inputs.contains { $0.name == "accept" }
        var unacknowledged = 0
        // Rows in file order; invalid ones are resolved already, the others wait for the batch insert.
        var batch: [FleetBatchRow] = []
        var waiting: [[FleetBatchRow]] = []

        // On standard output with the table; beside JSON lines it goes to standard error, keeping the output JSON.
        func printSummary() {
            let summary = dryRun ? counts.dryRunSummary : counts.summary
            if output == .table { Terminal.standardOutput.write(summary + "\n") } else { Terminal.standardError.write(summary + "\n") }
        }
        func report(_ line: Int, _ outcome: String, _ detail: String) {
            switch output {
            case .json:
                Terminal.standardOutput.write(JSONValue.object(["line": .number(Double(line)), "result": .string(outcome), "detail": .string(detail)]).canonicalJSON + "\n")
            case .table:
                Terminal.standardOutput.write("line \(line)\t\(outcome)\t\(TextTable.neutralise(detail))\n")
            }
        }
        func flush() throws {
            guard !batch.isEmpty else { return }
            if dryRun {
                for (line, request, invalid) in batch {
                    if request == nil {
                        counts.invalid += 1
                        report(line, "invalid", invalid ?? "")
                    } else {
                        counts.valid += 1
                    }
                }
                batch.removeAll(keepingCapacity: true)
                return
            }
            guard services != nil else { return }
            waiting.append(batch)
            batch.removeAll(keepingCapacity: true)
            if waiting.count >= Self.submissionLanes { try submitWaiting() }
        }
        // Batches go to the database `submissionLanes` at a time, each in its own transaction on its own connection,
        // so that PostgreSQL's work (most of a fleet's time) uses more than one core. While one set of batches is in
        // the database, the next rows are read, validated and hashed. Rows are still reported in file order, and a
        // batch that fails stops the submission after the others' rows are reported: the next set is only sent once
        // the previous one succeeded.
        var submitting: (rows: [[FleetBatchRow]], lanes: FleetLanes)?
        func submitWaiting() throws {
            guard let services, !waiting.isEmpty else { return }
            try collectSubmitted()
            let store = services.store
            let requests = waiting.map { $0.compactMap(\.request) }
            let lanes = FleetLanes()
            submitting = (waiting, lanes)
            waiting.removeAll(keepingCapacity: true)
            for lane in requests.indices {
                DispatchQueue.global().async(group: lanes.done) {
                    let result = Result { try store.submitBatch(definition: definition, requests: requests[lane]) }
                    lanes.results.withLock { $0[lane] = result }
                }
            }
        }
        func collectSubmitted() throws {
            guard let (rows, lanes) = submitting else { return }
            submitting = nil
            lanes.done.wait()
            let finished = lanes.results.withLock { $0 }
            var failure: (error: any Error, firstLine: Int)?
            for (lane, rows) in rows.enumerated() {
                switch finished[lane] {
                case .success(let outcomes)?: reportOutcomes(rows, outcomes)
                case .failure(let error)?: failure = failure ?? (error, rows.first?.line ?? 0)
                case nil: break
                }
            }
            if let failure {
                // Say how far the file got and how to go on, not only what the database said: each batch is one
                // transaction, so the failed batch stored nothing, and re-running the file skips what was stored.
                printSummary()
                let (message, _) = ErrorReporter.describe(failure.error)
                throw CLIError(
                    description: "the batch of rows from line \(failure.firstLine) failed and nothing from it was stored: \(message). Rows reported above are stored; fix the cause and run the same file again (stored rows report 'exists')",
                    status: .failure)
            }
        }
        // Rows that exist already whose workflow ended without doing its work: re-running the file submits them
        // again only under a new --idempotency-key, which the summary says.
        var endedUndone = 0
        func reportOutcomes(_ rows: [FleetBatchRow], _ outcomes: [BatchSubmitOutcome]) {
            let existingIDs = outcomes.compactMap { outcome -> UUID? in if case .existing(let id) = outcome { id } else { nil } }
            let states = existingIDs.isEmpty ? [:] : ((try? services?.store.states(of: existingIDs)) ?? [:])
            var outcomes = outcomes[...]
            for (line, request, invalid) in rows {
                guard request != nil, let outcome = outcomes.popFirst() else {
                    counts.invalid += 1
                    report(line, "invalid", invalid ?? "")
                    continue
                }
                switch outcome {
                case .created(let id):
                    counts.submitted += 1
                    report(line, "submitted", id.uuidString.lowercased())
                case .existing(let id):
                    counts.existing += 1
                    let state = states[id]
                    if state == "compensated" || state == "cancelled" { endedUndone += 1 }
                    report(line, "exists", id.uuidString.lowercased() + (state.map { " (\($0))" } ?? ""))
                case .concurrencyKeyHeld(let key, let holder):
                    counts.refused += 1
                    report(line, "refused", "concurrency key '\(key)' is held by \(holder?.uuidString.lowercased() ?? "another row")")
                case .idempotencyKeyReused(let key, let holder):
                    counts.refused += 1
                    report(line, "refused", "idempotency key '\(key)' was used by \(holder.uuidString.lowercased()) with a different input; give this row its own key")
                }
            }
        }

        /// One row, validated: its request, or why it is invalid.
        func check(_ row: FleetRow, _ repeats: inout FleetRepeats) -> FleetBatchRow {
            switch row.result {
            case .failure(let error):
                return (row.line, nil, error.message)
            case .success(let submission):
                let validated: [String: JSONValue]
                do {
                    // A row's own `accept` adds to --accept rather than replacing it.
                    validated = try definition.validateInput(try definition.input(shared.merging(submission.input) { $1 }, withAcknowledgements: accept))
                } catch {
                    return (row.line, nil, error.problems.joined(separator: "; "))
                }
                let labels = sharedLabels.merging(submission.labels) { $1 }
                let limits = SubmissionLimits.problems(labels: labels, notBefore: nil, idempotencyKey: submission.idempotencyKey)
                if !limits.isEmpty { return (row.line, nil, limits.joined(separator: "; ")) }
                let key = submission.idempotencyKey
                    ?? "\(namespace):\(WorkflowDefinitionLoader.contentHash(of: definition.name + "\n" + JSONValue.object(validated).canonicalJSON))"
                if let repeated = repeats.problem(
                    line: row.line, idempotencyKey: key, concurrencyKey: definition.renderConcurrencyKey(input: validated),
                    explicitKey: submission.idempotencyKey != nil) {
                    return (row.line, nil, repeated)
                }
                return (row.line, SubmitRequest(
                    definition: definition, input: validated, labels: labels, idempotencyKey: key,
                    notBefore: startAt, submittedBy: submitter, priority: priority, queue: queue), nil)
            }
        }

        // Rows the first pass checked, kept for the second while the file is small; a larger one is read again.
        var checkedRows: [FleetBatchRow]?
        if !dryRun && !skipInvalid {
            // All or nothing: the whole file is checked before any row is stored, so that a bad row changes nothing.
            var repeats = FleetRepeats()
            var invalidRows = 0
            var kept: [FleetBatchRow]? = []
            // A pipe (a FIFO, /dev/stdin) can be read once: its rows are all kept, whatever their number. A regular
            // file is read again when it is long.
            let readOnce = (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) != .typeRegular
            for row in reader {
                let checked = check(row, &repeats)
                if kept != nil { if readOnce || kept!.count < Self.rowsKeptBetweenPasses { kept!.append(checked) } else { kept = nil } }
                guard checked.request == nil else { continue }
                invalidRows += 1
                report(checked.line, "invalid", checked.invalid ?? "")
            }
            if invalidRows > 0 {
                throw CLIError(
                    description: "\(invalidRows) invalid row(s) in --fleet '\(path)' (listed above); nothing was submitted. Fix them and run the same file again, or submit the valid rows with --skip-invalid",
                    status: .usage)
            }
            checkedRows = kept
        }
        var rowsHandled = 0
        func handle(_ checked: FleetBatchRow) throws {
            rowsHandled += 1
            if let request = checked.request, takesAcknowledgements, definition.acknowledgements(in: request.input).isEmpty { unacknowledged += 1 }
            batch.append(checked)
            if batch.count >= 500 { try flush() }
        }
        if let checkedRows {
            for checked in checkedRows { try handle(checked) }
        } else {
            // The whole-file check read `reader` to its end when it ran: the submission reads the file again.
            var repeats = FleetRepeats()
            let rows = dryRun || skipInvalid ? reader : try FleetReader(path: path, definition: definition)
            for row in rows { try handle(check(row, &repeats)) }
        }
        try flush()
        try submitWaiting()
        try collectSubmitted()
        if rowsHandled == 0 && counts.invalid == 0 {
            throw CLIError(description: "--fleet '\(path)' has no rows (an empty file, or a header only); nothing was submitted", status: .usage)
        }
        printSummary()
        if endedUndone > 0 {
            Terminal.standardError.write("note: \(endedUndone) row(s) exist as workflows that ended compensated or cancelled (their work was undone or left): running the same file again never submits them anew. To run those rows again, put them in a file of their own and submit it with a new --idempotency-key (a namespace for the keys derived from rows; a row with an idempotency_key of its own needs a new one in the file)\n")
        }
        if unacknowledged > 0 {
            Terminal.standardError.write("note: \(unacknowledged) row(s) acknowledge nothing (no accept field, no --accept): where a plan needs an acknowledgement (e.g. a handling fee) the workflow stops at preflight with nothing changed. See which rows need what with unwind plan \(definition.name) --fleet \(path), which names what to acknowledge; then acknowledge it for every row with --accept VALUE or an accept column (e.g. --accept handling-fee for the SecMaster teardown)\n")
        }
        if counts.hasProblems { throw ExitStatus.failure.code }
    }
}

/// The batches of a fleet submission in the database at one time, one per lane, and what each returned.
private final class FleetLanes: Sendable {
    let done = DispatchGroup()
    let results = Mutex<[Int: Result<[BatchSubmitOutcome], any Error>]>([:])
}

/// What a fleet submission did, row by row.
struct FleetTally {
    var submitted = 0, existing = 0, refused = 0, invalid = 0, valid = 0
    var hasProblems: Bool { refused + invalid > 0 }
    var summary: String { "\(submitted) submitted, \(existing) already existed, \(refused) refused, \(invalid) invalid" }
    var dryRunSummary: String { "dry run: \(valid) valid, \(invalid) invalid; nothing was submitted" }
}

/// The furthest a relative `--not-before` reaches.
let maximumDelayDays = 3650

/// Seconds from now for `+1d`, `+2h30m`, `+30d12h`: an optional number of days, then a definition duration
/// (`h`, `m`, `s`, `ms`); nil when `text` is not one.
func relativeDelay(_ text: String) -> Double? {
    guard text.hasPrefix("+") else { return nil }
    var rest = text.dropFirst()
    var seconds = 0.0
    var hasDays = false
    if let days = rest.prefixMatch(of: /(\d{1,5})d/) {
        guard let count = Int(days.1), count <= maximumDelayDays else { return nil }
        seconds = Double(count) * 86_400
        hasDays = true
        rest = rest[days.range.upperBound...]
    }
    if !rest.isEmpty {
        guard let duration = Duration(definitionText: String(rest)) else { return nil }
        seconds += Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    } else if !hasDays {
        return nil
    }
    return seconds > 0 ? seconds : nil
}

/// Parses ISO 8601 (`2026-12-01T02:00:00Z`) or a relative `+10m`, `+1d`.
func parseTime(_ text: String, flag: String) throws -> Date {
    if let seconds = relativeDelay(text) {
        return Date().addingTimeInterval(seconds)
    }
    switch StrictTime.read(text) {
    case .time(let date): return date
    case .impossible:
        throw CLIError(description: "\(flag): '\(text)' is not a real date and time (no such day, hour or second); check it", status: .usage)
    case .malformed: break
    }
    if text.hasPrefix("+") {
        throw CLIError(description: "\(flag): '\(text)' is not a delay; use days, hours, minutes, seconds such as +10m, +2h, +1d or +30d12h (at most \(maximumDelayDays) days and 30 days of hours), or a date", status: .usage)
    }
    // A date, or a time without a zone, is refused rather than read as UTC: an operator in UTC+8 writing
    // 2026-12-05 would start eight hours off.
    if text.wholeMatch(of: /\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?/) != nil {
        let day = String(text.prefix(10))
        throw CLIError(
            description: "\(flag): '\(text)' has no time zone; write it with one, e.g. \(day)T02:00:00Z (UTC) or \(day)T02:00:00+08:00, or a delay such as +10m",
            status: .usage)
    }
    throw CLIError(description: "\(flag): '\(text)' is not a time; use ISO 8601 (2026-12-01T02:00:00Z) or +10m", status: .usage)
}
