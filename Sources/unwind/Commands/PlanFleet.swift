import Foundation
import UnwindCore
import UnwindEngine

/// What `unwind plan --fleet` found for one row of the file.
enum FleetPlanOutcome: Sendable {
    /// The plan, and the acknowledgements it needs that the row (with `--accept`) does not give.
    case planned(WorkflowPlan, missing: [WorkflowPlan.Acknowledgement])
    /// The row is not a valid input: submitting it would be refused the same way.
    case invalid(String)
    /// The plan could not be made (credentials, the cloud's answers, a read that kept failing).
    case failed(String)
}

/// What a fleet plan found, row by row, and the money of the rows that planned.
struct FleetPlanTally {
    var ready = 0, needAcknowledgement = 0, blocked = 0, invalid = 0, failed = 0
    /// Planned rows whose plan warns (e.g. "will stop at preflight", "a fee BSS computes at unsubscription").
    var withWarnings = 0
    /// `--accept` value → rows that need it and do not give it.
    var missing: [String: Int] = [:]
    var totals: [String: Double] = [:]
    var currencies: Set<String> = []

    var rows: Int { ready + needAcknowledgement + blocked + invalid + failed }

    mutating func add(_ outcome: FleetPlanOutcome) {
        switch outcome {
        case .planned(let plan, let missing):
            // A blocked row stops before any change whatever it acknowledges: neither ready nor fixed by --accept.
            if !plan.blockers.isEmpty { blocked += 1 } else if missing.isEmpty { ready += 1 } else { needAcknowledgement += 1 }
            if !plan.warnings.isEmpty { withWarnings += 1 }
            for acknowledgement in missing { self.missing[acknowledgement.flag, default: 0] += 1 }
            for (key, value) in plan.totals ?? [:] { totals[key, default: 0] += value }
            if let currency = plan.currency { currencies.insert(currency) }
        case .invalid: invalid += 1
        case .failed: failed += 1
        }
    }

    var summary: String {
        var text = "\(rows) row(s): \(ready) ready, \(needAcknowledgement) need an acknowledgement"
        if !missing.isEmpty {
            text += " (" + missing.sorted { $0.key < $1.key }.map { "--accept \($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        }
        if blocked > 0 { text += ", \(blocked) blocked (would stop before any change; see their lines)" }
        text += ", \(invalid) invalid, \(failed) failed"
        if withWarnings > 0 { text += "; \(withWarnings) planned row(s) with warnings (see their lines)" }
        if !totals.isEmpty {
            // Amounts in different currencies are not added up into one figure.
            let currency = currencies.count == 1 ? " " + currencies.first! : (currencies.isEmpty ? "" : " (mixed currencies)")
            text += "; totals of the planned rows: " + FleetPlanTally.amounts(totals) + currency
        }
        return text + "\nnothing was changed or submitted"
    }

    static func amounts(_ values: [String: Double]) -> String {
        values.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: ", ")
    }
}

/// One row of `plan --fleet --output json`: one JSON object per line.
private struct FleetPlanLine: Encodable {
    var line: Int
    var result = ""
    var missing: [String]?
    var detail: String?
    var plan: WorkflowPlan?
}

extension Plan {
    /// Plans every row of a fleet file, `parallel` accounts at a time, reporting in file order as it goes
    /// (streamed: a file of any size is never held in memory). Read-only, like a single plan; no database.
    func planFleet(_ path: String, definition: WorkflowDefinition) throws {
        let shared = try inputOptions.input(for: definition).withAcknowledgements(accept, for: definition)
        let output = output, parallel = parallel ?? 8, acknowledgedByFlag = accept
        let invocation = PlanInvocation(logLevel: resolvedLogLevel, logFormat: try LogFormat.resolve(logFormat))
        let runner = invocation.makeRunner()

        let tally = try invocation.blocking { () async throws -> FleetPlanTally in
            let reader = try FleetReader(path: path, definition: definition)
            var tally = FleetPlanTally()
            /// Finished rows by their position in the file, waiting for the rows before them.
            var finished: [Int: (line: Int, outcome: FleetPlanOutcome)] = [:]
            var nextToReport = 0, position = 0, inFlight = 0
            /// Concurrency key → the first line that has it.
            var repeats = FleetRepeats()

            func reportReady() {
                while let (line, outcome) = finished.removeValue(forKey: nextToReport) {
                    tally.add(outcome)
                    Terminal.standardOutput.write(Self.fleetLine(line, outcome, output: output))
                    nextToReport += 1
                }
            }
            try await withThrowingTaskGroup(of: (Int, Int, FleetPlanOutcome).self) { group in
                func collectOne() async throws {
                    guard let (index, line, outcome) = try await group.next() else { return }
                    inFlight -= 1
                    finished[index] = (line, outcome)
                    reportReady()
                }
                for row in reader {
                    let index = position
                    position += 1
                    switch row.result {
                    case .failure(let error):
                        finished[index] = (row.line, .invalid(error.message))
                    case .success(let submission):
                        let input: [String: JSONValue]
                        do {
                            // A row's own `accept` adds to --accept rather than replacing it.
                            input = try definition.validateInput(try definition.input(shared.merging(submission.input) { $1 }, withAcknowledgements: acknowledgedByFlag))
                        } catch let error as InputValidationError {
                            finished[index] = (row.line, .invalid(error.problems.joined(separator: "; ")))
                            break
                        } catch {
                            finished[index] = (row.line, .invalid("\(error)"))
                            break
                        }
                        // What submit --fleet refuses besides the input (labels, idempotency keys) is invalid here too.
                        let limits = SubmissionLimits.problems(labels: submission.labels, notBefore: nil, idempotencyKey: submission.idempotencyKey)
                        if !limits.isEmpty {
                            finished[index] = (row.line, .invalid(limits.joined(separator: "; ")))
                            break
                        }
                        let accepted = definition.acknowledgements(in: input)
                        let line = row.line
                        // A row repeating an earlier one (its input, its key, or its concurrency key: one teardown per
                        // account) is invalid, as submit --fleet finds it: planned, it was counted twice, and its
                        // plan read the account as it is now, not as the earlier row's teardown leaves it.
                        let key = submission.idempotencyKey
                            ?? WorkflowDefinitionLoader.contentHash(of: definition.name + "\n" + JSONValue.object(input).canonicalJSON)
                        if let repeated = repeats.problem(
                            line: line, idempotencyKey: key, concurrencyKey: definition.renderConcurrencyKey(input: input),
                            explicitKey: submission.idempotencyKey != nil) {
                            finished[index] = (line, .invalid(repeated))
                            break
                        }
                        group.addTask {
                            do {
                                let plan = try await runner.plan(definition, input: input)
                                return (index, line, .planned(plan, missing: plan.missingAcknowledgements(accepted: accepted)))
                            } catch {
                                return (index, line, .failed(ErrorReporter.describe(error).0))
                            }
                        }
                        inFlight += 1
                    }
                    reportReady()
                    // Bounded: `parallel` plans at a time, and rows that finished early wait for at most a few
                    // thousand of their neighbours behind a slow one.
                    while inFlight >= parallel || (inFlight > 0 && finished.count >= 4096) { try await collectOne() }
                }
                while inFlight > 0 { try await collectOne() }
            }
            if position == 0 {
                throw CLIError(description: "--fleet '\(path)' has no rows (an empty file, or a header only); nothing was planned", status: .usage)
            }
            return tally
        }
        // Beside JSON lines the summary goes to standard error, keeping standard output JSON.
        if output == .table { Terminal.standardOutput.write("\n" + tally.summary + "\n") } else { Terminal.standardError.write(tally.summary + "\n") }
        if tally.invalid + tally.failed > 0 { throw ExitStatus.failure.code }
        if check, tally.needAcknowledgement + tally.blocked > 0 { throw ExitStatus.refused.code }
    }

    private static func fleetLine(_ line: Int, _ outcome: FleetPlanOutcome, output: OutputFormat) -> String {
        switch output {
        case .json:
            var row = FleetPlanLine(line: line)
            switch outcome {
            case .planned(let plan, let missing):
                row.result = !plan.blockers.isEmpty ? "blocked" : missing.isEmpty ? "ready" : "needs_acknowledgement"
                row.missing = missing.map(\.flag)
                row.plan = plan
            case .invalid(let reason):
                row.result = "invalid"
                row.detail = reason
            case .failed(let reason):
                row.result = "failed"
                row.detail = reason
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            return ((try? String(decoding: encoder.encode(row), as: UTF8.self)) ?? "{}") + "\n"
        case .table:
            switch outcome {
            case .planned(let plan, let missing):
                let totals = plan.totals.map { FleetPlanTally.amounts($0) + (plan.currency.map { " " + $0 } ?? "") } ?? "-"
                var detail = TextTable.neutralise(plan.summary ?? "")
                for warning in plan.warnings { detail += "; warning: " + TextTable.neutralise(warning) }
                if !plan.blockers.isEmpty {
                    return "line \(line)\tblocked\t\(totals)\t\(detail); " + plan.blockers.map(TextTable.neutralise).joined(separator: "; ") + "\n"
                }
                if missing.isEmpty { return "line \(line)\tready\t\(totals)\t\(detail)\n" }
                let needed = missing.map { "--accept \($0.flag) (\(TextTable.neutralise($0.reason)))" }.joined(separator: "; ")
                return "line \(line)\tneeds acknowledgement\t\(totals)\t\(detail); \(needed)\n"
            case .invalid(let reason):
                return "line \(line)\tinvalid\t-\t\(TextTable.neutralise(reason))\n"
            case .failed(let reason):
                return "line \(line)\tfailed\t-\t\(TextTable.neutralise(reason))\n"
            }
        }
    }
}
