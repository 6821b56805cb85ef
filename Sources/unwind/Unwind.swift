import ArgumentParser
import Foundation

@main
struct Unwind: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unwind",
        abstract: "Durable saga orchestrator for tearing down cloud security subscriptions.",
        discussion: """
            State lives in PostgreSQL: --database-url or UNWIND_DATABASE_URL. With neither, unwind creates and \
            starts a private local PostgreSQL under your state directory (unwind db status shows where).

            Exit codes: 0 success, 1 failure, 2 workflow did not succeed (with --wait), 3 not found, \
            4 refused, 5 database unreachable, 64 usage error.
            """,
        version: UnwindVersion.current,
        subcommands: [
            Submit.self, Status.self, ListCommand.self, History.self, Resume.self, Cancel.self, Skip.self,
            WorkerCommand.self, Workers.self, Workflows.self, Prune.self, Migrate.self, Doctor.self, DB.self,
        ]
    )
}

enum UnwindVersion {
    static let current = "0.1.0"
}
