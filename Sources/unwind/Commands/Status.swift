import ArgumentParser
import Foundation
import UnwindCore
import UnwindStore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one workflow: state, steps, attempts, errors, and what to do next.",
        discussion: """
            ID may be a unique prefix of the workflow ID (at least 4 characters).

            Examples:
              unwind status 3f2a9c1e
              unwind status 3f2a9c1e --output json
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Workflow ID or unique prefix.") var id: String
    @Option(help: "table or json") var output: OutputFormat = .table

    func run() throws {
        try runReportingErrors {
            let services = try Services(database: database)
            let workflowID = try services.store.resolveWorkflowID(id)
            let workflow = try services.store.workflow(workflowID)
            let steps = try services.store.steps(of: workflowID)
            switch output {
            case .json:
                print(jsonText(StatusDocument(workflow: workflow, steps: steps)))
            case .table:
                // A workflow whose steps wait on a queue no worker serves waits forever, silently: say so.
                let unserved = try ["running", "compensating", "scheduled"].contains(workflow.state)
                    && !services.store.liveWorkerServes(queue: workflow.queue)
                printHuman(workflow, steps, queueUnserved: unserved)
            }
        }
    }

    struct StatusDocument: Encodable {
        var workflow: WorkflowRecord
        var steps: [StepRecord]
    }

    private func printHuman(_ workflow: WorkflowRecord, _ steps: [StepRecord], queueUnserved: Bool) {
        let id = workflow.id.uuidString.lowercased()
        print("workflow    \(workflow.workflow)  \(id)")
        // Said while it matters (running, failed, cancelling): a finished workflow has nothing left to undo, and a
        // teardown that found nothing to remove still "crossed" its pivot without changing anything.
        let pastPivot = workflow.pivotCrossed && workflow.state != "succeeded"
        print("state       \(workflow.state)\(pastPivot ? "  (past the point of no return)" : "")")
        print("definition  \(workflow.definitionHash.prefix(12))")
        print("submitted   \(workflow.createdAt.formatted(.iso8601)) by \(TextTable.neutralise(workflow.submittedBy))")
        if let notBefore = workflow.notBefore { print("not before  \(notBefore.formatted(.iso8601))") }
        if workflow.queue != "default" || queueUnserved { print("queue       \(TextTable.neutralise(workflow.queue))") }
        if workflow.startedAt == nil && workflow.finishedAt == nil {
            print("duration    not started")
        } else if workflow.finishedAt == nil, ["failed", "compensation_failed"].contains(workflow.state),
                  let stopped = steps.compactMap(\.finishedAt).max() {
            // Stopped for an operator (resumable, so not finished): how long it ran, not how long it has waited.
            print("duration    \(Self.duration(stopped.timeIntervalSince(workflow.startedAt ?? workflow.createdAt))) until it stopped at \(stopped.formatted(.iso8601))")
        } else {
            let end = workflow.finishedAt ?? Date()
            print("duration    \(Self.duration(end.timeIntervalSince(workflow.startedAt ?? workflow.createdAt)))\(workflow.finishedAt == nil ? " so far" : "")")
        }
        if case .object(let input) = workflow.input, !input.isEmpty {
            print("input       " + Self.oneLine(input, whole: "the whole input"))
        }
        // What the workflow reported (the teardown: what it removed, the fee and refund BSS booked), at a glance.
        if case .object(var output) = workflow.output, !output.isEmpty {
            output["warnings"] = nil  // printed below the steps, one per line
            if !output.isEmpty { print("output      " + Self.oneLine(output, whole: "the whole output")) }
        }
        if !workflow.labels.isEmpty {
            print("labels      " + workflow.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.map(TextTable.neutralise).joined(separator: " "))
        }
        print()
        var table = TextTable(headers: ["STEP", "STATE", "ATTEMPTS", "DURATION", "NEXT RETRY", "PROGRESS", "LAST ERROR"])
        for step in steps {
            var state = step.phase == "compensate" ? "\(step.state) (compensation)" : step.state
            // A running step whose lease ran out: its worker died or hangs; another worker takes it over.
            if step.state == "running", let expires = step.leaseExpiresAt, expires < Date() {
                state += ", lease expired \(Self.duration(Date().timeIntervalSince(expires))) ago"
            }
            let duration = step.startedAt.map { Self.duration((step.finishedAt ?? Date()).timeIntervalSince($0)) } ?? "-"
            let nextRetry = (step.state == "ready" || step.state == "waiting") && step.dueAt > Date() ? step.dueAt.formatted(.iso8601) : "-"
            var error = step.lastError.map { ($0["code"]?.stringValue.map { "[\($0)] " } ?? "") + ($0["message"]?.stringValue ?? "") } ?? ""
            // A step that succeeded after a failed attempt keeps that attempt's error: say it is history.
            if !error.isEmpty, step.state == "succeeded" || step.state == "compensated" { error = "(an earlier attempt) " + error }
            // Actions that checkpoint per resource say how far they got (e.g. "collection ECS 2/3 released").
            table.add([step.stepID, state, "\(step.attempt)", duration, nextRetry, step.progressNote ?? "-", clipped(error, 100)])
        }
        print(table.render(), terminator: "")
        // A workflow's report may name what it could not do and leaves to the operator (the teardown: collection
        // nodes whose server it could not find); the rest of the report is in --output json.
        if let warnings = workflow.output?["warnings"]?.arrayValue?.compactMap(\.stringValue), !warnings.isEmpty {
            print()
            for warning in warnings { print("warning     \(TextTable.neutralise(warning))") }
        }
        if let error = workflow.error, workflow.state != "succeeded" {
            print()
            // A retryable failure's message says the step tries again; the reason says it has stopped trying.
            let gaveUp = error["reason"]?.stringValue == "attempts exhausted" ? "  (no attempts left)" : ""
            print("error       \(TextTable.neutralise(error["message"]?.stringValue ?? error.canonicalJSON))\(gaveUp)")
        }
        let short = String(id.prefix(8))
        switch workflow.state {
        case "failed":
            if let failed = steps.first(where: { $0.state == "failed" })?.stepID {
                print("\nnext: fix the cause, then: unwind resume \(short) --reason \"…\"  (or, once done by hand: unwind skip \(short) \(failed) --reason \"…\")")
            } else {
                // Stopped with no failed step (a cancel that met the point of no return): only a resume goes on.
                print("\nnext: unwind resume \(short) --reason \"…\"  to finish the remaining steps")
            }
        case "compensation_failed":
            print("\nnext: fix the cause, then: unwind resume \(short) --reason \"…\"  (resumes the compensation)")
        case "running", "scheduled", "compensating":
            if queueUnserved {
                print("\nnote: no live worker serves queue '\(TextTable.neutralise(workflow.queue))'; start one with: unwind worker --queues \(workflow.queue)")
            }
            print("\nnext: follow it with: unwind history \(short)")
        default:
            break
        }
    }

    /// `key=value` pairs of an object on one line, long values and lists shortened; `whole` names where the rest is.
    static func oneLine(_ object: [String: JSONValue], whole: String) -> String {
        var shortened = false
        let summary = object.sorted { $0.key < $1.key }.map { key, value in
            let text: String
            if case .array(let items) = value, items.count > 3 || value.canonicalJSON.count > 60 {
                text = "[\(items.count) item\(items.count == 1 ? "" : "s")]"
                shortened = true
            } else {
                text = value.stringValue ?? value.canonicalJSON
            }
            if text.count > 60 { shortened = true }
            return "\(key)=\(clipped(text, 60))"
        }.joined(separator: " ")
        if summary.count > 300 { shortened = true }
        return TextTable.neutralise(clipped(summary, 300)) + (shortened ? "  (shortened; \(whole): --output json)" : "")
    }

    static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 1 { return String(format: "%.0fms", seconds * 1000) }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds)
        return total < 3600 ? "\(total / 60)m\(total % 60)s" : "\(total / 3600)h\((total % 3600) / 60)m"
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List recent workflows, newest first.",
        discussion: """
            Examples:
              unwind list
              unwind list --state failed --since 24h
              unwind list --label account=acme --output json
            """)

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only workflows in this state.") var state: WorkflowStateArgument?
    @Option(help: "Only this workflow definition.") var workflow: String?
    @Option(parsing: .singleValue, help: ArgumentHelp("Only workflows with this label (repeatable).", valueName: "key=value")) var label: [String] = []
    @Option(help: "Only workflows created within this long (e.g. 24h or 7d).") var since: String?
    @Option(help: "Page size.") var limit: Int = 50
    @Option(help: "Page number, from 1.") var page: Int = 1
    @Option(help: "table or json") var output: OutputFormat = .table

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be between 1 and 1000") }
        guard page >= 1 else { throw ValidationError("--page starts at 1") }
        // The offset is (page - 1) × limit; a page past a billion rows is a typo, not a request.
        guard page <= 1_000_000_000 / limit else { throw ValidationError("--page must be at most \(1_000_000_000 / limit) with --limit \(limit)") }
    }

    func run() throws {
        try runReportingErrors {
            let labels = try Submit.labelMap(label)
            let sinceDate = try since.map { Date().addingTimeInterval(-(try parseAge($0, flag: "--since"))) }
            let services = try Services(database: database)
            // One more than a page: whether another page exists is then known, not guessed from a full page.
            let fetched = try services.store.list(WorkflowFilter(
                state: state?.rawValue, workflow: workflow, since: sinceDate, labels: labels, limit: limit + 1, offset: (page - 1) * limit))
            let items = Array(fetched.prefix(limit))
            let more = fetched.count > limit
            switch output {
            case .json:
                print(jsonText(items))
                // Standard error, so the output stays one JSON array: a script reading only it would miss the rest.
                if more { Terminal.standardError.write("note: more workflows match: --page \(page + 1)\n") }
            case .table:
                var table = TextTable(headers: ["ID", "WORKFLOW", "STATE", "STEPS", "CREATED", "LABELS"])
                for item in items {
                    table.add([
                        String(item.id.uuidString.lowercased().prefix(8)), item.workflow, item.state,
                        "\(item.stepsDone)/\(item.stepsTotal)", item.createdAt.formatted(.iso8601),
                        item.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                    ])
                }
                print(table.render(), terminator: "")
                if more { print("(more: --page \(page + 1))") }
            }
        }
    }
}

enum WorkflowStateArgument: String, ExpressibleByArgument, CaseIterable {
    case scheduled, running, compensating, succeeded, compensated, failed
    case compensationFailed = "compensation_failed"
    case cancelled
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a workflow's event history: attempts and their errors, checkpoints, compensations, operator actions.",
        discussion: "Examples:\n  unwind history 3f2a9c1e\n  unwind history 3f2a9c1e --output json")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Workflow ID or unique prefix.") var id: String
    @Option(help: "table or json") var output: OutputFormat = .table

    func run() throws {
        try runReportingErrors {
            let services = try Services(database: database)
            let workflowID = try services.store.resolveWorkflowID(id)
            let events = try services.store.events(of: workflowID)
            switch output {
            case .json:
                print(jsonText(events))
            case .table:
                var table = TextTable(headers: ["#", "TIME", "EVENT", "STEP", "ATTEMPT", "BY", "DETAILS"])
                for event in events {
                    let step = event.stepID.map { $0 + (event.phase == "compensate" ? " (comp)" : "") } ?? ""
                    let by = event.actor ?? event.workerID ?? ""
                    var details = event.reason.map { "reason: \($0)" } ?? ""
                    if let message = event.details?["message"]?.stringValue { details += (details.isEmpty ? "" : "; ") + message }
                    else if let object = event.details, case .object = object { details += (details.isEmpty ? "" : "; ") + object.canonicalJSON }
                    table.add(["\(event.id)", event.at.formatted(.iso8601), event.kind, step, event.attempt.map(String.init) ?? "", by, String(details.prefix(120))])
                }
                print(table.render(), terminator: "")
            }
        }
    }
}
