import ArgumentParser
import Foundation
import UnwindCore
import UnwindStore

/// The history keeps why an operator acted; the HTTP API refuses an empty reason, and so does the CLI.
func validateReason(_ reason: String) throws {
    guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
        throw ValidationError("--reason must say why, e.g. --reason \"ticket 4411: quota unlocked\"")
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-arm a failed workflow's failed steps (or its failed compensation) with a fresh attempt budget.",
        discussion: """
            Examples:
              unwind resume 3f2a9c1e --reason "quota unlocked by support ticket 4411"
              unwind resume 3f2a9c1e --from release-collection-ecs --reason "re-run after manual fix" --wait
              unwind resume --all-failed --label batch=2026-12 --reason "credentials file fixed"

            --all-failed resumes every failed and compensation_failed workflow (of --workflow, with every --label \
            given), one by one, each recorded like a single resume; exits 1 when any was refused.
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Workflow ID or unique prefix.") var id: String?
    @Option(help: "Re-run from this step (and everything after it).") var from: String?
    @Option(help: "Why (recorded in the history).") var reason: String
    @Flag(name: .customLong("all-failed"), help: "Resume every failed or compensation_failed workflow that --workflow and --label select.")
    var allFailed = false
    @Option(help: "With --all-failed: only workflows of this definition.") var workflow: String?
    @Option(parsing: .singleValue, help: ArgumentHelp("With --all-failed: only workflows with this label (repeatable).", valueName: "key=value"))
    var label: [String] = []

    func validate() throws {
        try validateReason(reason)
        try validateActor(actor)
        if allFailed {
            guard id == nil else { throw ValidationError("give a workflow ID or --all-failed, not both") }
            guard from == nil, !wait else { throw ValidationError("--from and --wait apply to one workflow; leave them out with --all-failed") }
        } else {
            guard id != nil else { throw ValidationError("give the workflow ID (or a unique prefix) to resume, or --all-failed with --label/--workflow") }
            guard workflow == nil, label.isEmpty else { throw ValidationError("--workflow and --label select workflows for --all-failed; add it, or give one workflow ID") }
        }
    }
    @Option(name: .customLong("as"), help: "Who is acting (default: the OS user).") var actor: String?
    @Flag(help: "Wait until the workflow finishes; the exit code reflects its final state.") var wait = false

    func run() throws {
        try runReportingErrors {
            let services = try Services(database: database)
            guard let id else { return try resumeAll(services) }
            let workflowID = try services.store.resolveWorkflowID(id)
            try services.store.perform(OperatorAction(.resume(fromStep: from), actor: currentActor(actor), reason: reason), on: workflowID)
            // Written straight to the descriptor, like the progress lines that may follow (print is buffered).
            Terminal.standardOutput.write("resumed \(workflowID.uuidString.lowercased())\n")
            if wait, try WaitProgress(store: services.store).wait(for: workflowID) != .succeeded {
                throw ExitStatus.workflowDidNotSucceed.code
            }
        }
    }

    /// Every failed and compensation_failed workflow the filters select: their IDs are read first (a resumed one
    /// leaves the list, which would shift pages read meanwhile), then each is resumed in its own transaction.
    private func resumeAll(_ services: Services) throws {
        let labels = try Submit.labelMap(label)
        var selected: [UUID] = []
        for state in ["failed", "compensation_failed"] {
            var offset = 0
            while true {
                let page = try services.store.list(WorkflowFilter(state: state, workflow: workflow, labels: labels, limit: 1000, offset: offset))
                selected += page.map(\.id)
                guard page.count == 1000 else { break }
                offset += 1000
            }
        }
        guard !selected.isEmpty else {
            print("no failed or compensation_failed workflow matches; nothing was resumed")
            return
        }
        var refused = 0
        for workflowID in selected {
            let shown = workflowID.uuidString.lowercased()
            do {
                try services.store.perform(OperatorAction(.resume(fromStep: nil), actor: currentActor(actor), reason: reason), on: workflowID)
                print("resumed \(shown)")
            } catch StoreError.refused(let why) {
                // Its state changed since it was listed (another operator, or it was resumed already).
                refused += 1
                print("refused \(shown): \(why)")
            }
        }
        print("\(selected.count - refused) resumed, \(refused) refused")
        if refused > 0 { throw ExitStatus.failure.code }
    }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a workflow: before its point of no return it compensates; after it, only with --force.",
        discussion: """
            Examples:
              unwind cancel 3f2a9c1e --reason "wrong account"
              unwind cancel 3f2a9c1e --force --reason "finishing this account by hand"
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Workflow ID or unique prefix.") var id: String
    @Flag(help: "Stop at once and compensate nothing: what already ran is left as it is (before the point of no return too), what remains is not done. Needed past the point of no return.") var force = false
    @Option(help: "Why (recorded in the history).") var reason: String

    func validate() throws {
        try validateReason(reason)
        try validateActor(actor)
    }
    @Option(name: .customLong("as"), help: "Who is acting (default: the OS user).") var actor: String?

    func run() throws {
        try runReportingErrors {
            let services = try Services(database: database)
            let workflowID = try services.store.resolveWorkflowID(id)
            try services.store.perform(OperatorAction(.cancel(force: force), actor: currentActor(actor), reason: reason), on: workflowID)
            let shown = workflowID.uuidString.lowercased()
            // The cancel is committed: what follows only describes it. A row that cannot be read back (edited by
            // hand) must not make it look as if the cancel had failed.
            do {
                // The steps the forced cancel cut off, as the history records them (running forward or compensating,
                // and a pivot in a durable wait).
                let running = force
                    ? (try services.store.events(of: workflowID).last { $0.kind == "workflow_cancelled" }?.details?["interrupted"]?.arrayValue ?? [])
                        .compactMap(\.stringValue)
                    : []
                let state = try services.store.workflow(workflowID).state
                switch (state, force) {
                case ("compensating", _):
                    // Steps still running forward (a pivot among them) are waited for: their outcome decides what is
                    // compensated, and a pivot that crosses stops the compensation.
                    let inFlight = try services.store.steps(of: workflowID)
                        .filter { $0.phase == "forward" && ($0.state == "running" || $0.state == "waiting") }.map(\.stepID)
                    if inFlight.isEmpty {
                        print("cancelling \(shown): compensating completed steps")
                    } else {
                        print("cancelling \(shown): waiting for \(inFlight.joined(separator: ", ")), still running, then compensating completed steps; if the pivot crosses its point of no return meanwhile, nothing is compensated and the workflow ends failed, resumable (unwind status \(shown.prefix(8)) shows which)")
                    }
                case (_, true):
                    print("cancelled \(shown) with --force: nothing more is compensated or done; what already ran is left as it is (unwind status \(shown.prefix(8)) lists it)")
                    if !running.isEmpty {
                        // Their results can no longer be recorded, but their cloud calls may have gone through.
                        print("warning: \(running.joined(separator: ", ")) was running and is cut off from its result; what it was doing may have been applied in the cloud: check the account (e.g. unwind plan)")
                    }
                default: print("cancelled \(shown)")
                }
            } catch {
                print("cancelled \(shown) (recorded); its state could not be read back to say more: \(error). unwind history \(shown.prefix(8)) shows what happened")
            }
        }
    }
}

struct Skip: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mark one failed step as done by hand and let the workflow go on.",
        discussion: "Example:\n  unwind skip 3f2a9c1e delete-vpc-endpoints --reason \"endpoint deleted in the console\"")

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Workflow ID or unique prefix.") var id: String
    @Argument(help: "The failed step.") var step: String
    @Option(help: "Why (recorded in the history).") var reason: String

    func validate() throws {
        try validateReason(reason)
        try validateActor(actor)
    }
    @Option(name: .customLong("as"), help: "Who is acting (default: the OS user).") var actor: String?

    func run() throws {
        try runReportingErrors {
            let services = try Services(database: database)
            let workflowID = try services.store.resolveWorkflowID(id)
            try services.store.perform(OperatorAction(.skip(step: step), actor: currentActor(actor), reason: reason), on: workflowID)
            print("skipped \(step) of \(workflowID.uuidString.lowercased())")
        }
    }
}

struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete finished workflows (succeeded, compensated, cancelled) older than a given age, with their history.",
        discussion: "Examples:\n  unwind prune --older-than 90d --dry-run\n  unwind prune --older-than 90d")

    @OptionGroup var database: DatabaseOptions
    @Option(name: .customLong("older-than"), parsing: .unconditional, help: "Age, e.g. 30d or 720h.") var olderThan: String
    @Flag(name: .customLong("dry-run"), help: "Only count what would be deleted.") var dryRun = false

    func run() throws {
        try runReportingErrors {
            let age = try parseAge(olderThan, flag: "--older-than")
            let services = try Services(database: database)
            let cutoff = Date().addingTimeInterval(-age)
            if dryRun {
                let count = try services.store.countPrunable(finishedBefore: cutoff)
                print("would prune \(count) finished workflow(s) that finished before \(cutoff.formatted(.iso8601)) (dry run: nothing deleted)")
                return
            }
            let deleted = try services.store.prune(finishedBefore: cutoff)
            print("pruned \(deleted) finished workflow(s)")
        }
    }
}

struct Workers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List worker processes with their last heartbeat and what they are running.",
        discussion: "Example:\n  unwind workers")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "table or json") var output: OutputFormat = .table

    func run() throws {
        try runReportingErrors {
            let services = try Services(database: database)
            let workers = try services.store.workers()
            switch output {
            case .json:
                print(jsonText(workers))
            case .table:
                var table = TextTable(headers: ["WORKER", "STATE", "RUNNING", "CONCURRENCY", "QUEUES", "HEARTBEAT", "VERSION"])
                for worker in workers {
                    let age = Int(Date().timeIntervalSince(worker.heartbeatAt))
                    table.add([worker.id, worker.state, "\(worker.running)", "\(worker.concurrency)", worker.queues.joined(separator: ","), "\(age)s ago", worker.version])
                }
                print(table.render(), terminator: "")
                if workers.contains(where: { $0.state == "unresponsive" }) {
                    print("\nunresponsive: no heartbeat while holding a step past its lease, or three heartbeats missed (killed, hung, or cut off"
                        + " from the database). Its steps run again on another worker as their leases expire; if the process still runs, stop it.")
                }
            }
        }
    }
}
