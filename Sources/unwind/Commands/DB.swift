import ArgumentParser
import Foundation
import LocalPostgres
import Logging

struct DB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the embedded local database (used when no database URL is configured).",
        subcommands: [Status.self, Start.self, Stop.self])

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show where the embedded database lives and whether it is running.",
            discussion: "Example:\n  unwind db status")

        func run() throws {
            try runReportingErrors {
                let cluster = LocalPostgresCluster.defaultLocation()
                let status = try cluster.status()
                print("data directory:   \(status.dataDirectory)")
                print("socket directory: \(status.socketDirectory) (no TCP port)")
                print("server log:       \(status.logFile)")
                if let user = cluster.serverUser { print("server user:      \(user)") }
                if !status.initialized {
                    print("state:            not created yet (created on first use, e.g. unwind migrate)")
                } else if status.running {
                    print("state:            running" + (status.serverPID.map { " (pid \($0))" } ?? ""))
                } else {
                    print("state:            stopped (started on next use, or: unwind db start)")
                }
                if ProcessInfo.processInfo.environment["UNWIND_DATABASE_URL"].map({ !$0.isEmpty }) == true {
                    print("note:             UNWIND_DATABASE_URL is set, so unwind uses that database, not this one")
                }
            }
        }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create (if needed) and start the embedded database.",
            discussion: "Example:\n  unwind db start")

        func run() throws {
            try runReportingErrors {
                LoggingBootstrap.bootstrap(level: .warning)
                let logger = Logger(label: "unwind.db")
                let cluster = LocalPostgresCluster.defaultLocation()
                try cluster.ensureRunning(logger: logger)
                print("embedded database running in \(cluster.dataDirectory)")
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the embedded database (it starts again on next use).",
            discussion: "Example:\n  unwind db stop")

        func run() throws {
            try runReportingErrors {
                let cluster = LocalPostgresCluster.defaultLocation()
                if try cluster.stop() {
                    print("embedded database stopped")
                } else {
                    print("embedded database was not running")
                }
            }
        }
    }
}
