import ArgumentParser
import Foundation
import Logging
import Postgres
import UnwindStore

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that the database is reachable, migrated and usable by this role.",
        discussion: """
            Checks, in order: the database configuration, the connection and server version, that every \
            migration is applied (and unchanged), and the role's privileges. Exits 0 when all pass, 5 when \
            the database cannot be reached, 1 on any other problem.

            Examples:
              unwind doctor
              UNWIND_DATABASE_URL=postgres://unwind@db.internal/unwind unwind doctor
            """)

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        try runReportingErrors {
            let logger = try database.makeLogger()
            var report = DoctorReport()
            defer { report.printSummary() }

            let resolved: DatabaseOptions.Resolved
            do {
                resolved = try database.resolve(logger: logger)
                report.pass("configuration", resolved.summary)
            } catch {
                let (message, status) = ErrorReporter.describe(error)
                report.fail("configuration", message)
                throw status.code
            }

            let connection: PostgresConnection
            do {
                connection = try PostgresConnection(configuration: resolved.configuration, logger: logger)
            } catch {
                report.fail("connection", ErrorReporter.describe(error).0)
                throw ExitStatus.databaseUnreachable.code
            }
            let diagnostics: DatabaseDiagnostics
            do {
                diagnostics = try DatabaseDiagnostics.read(connection: connection)
            } catch {
                report.fail("connection", ErrorReporter.describe(error).0)
                throw ExitStatus.failure.code
            }
            report.pass("connection", "PostgreSQL \(diagnostics.serverVersion), database \(diagnostics.database), role \(diagnostics.role)")
            if connection.serverVersion < 130000 {
                report.fail("server version", "PostgreSQL \(diagnostics.serverVersion) is too old; Unwind needs 13 or newer")
            }

            let status: Migrator.Status
            do {
                status = try Migrator.embedded(logger: logger).status(connection: connection)
            } catch {
                report.fail("migrations", "cannot read schema_migrations: \(ErrorReporter.describe(error).0)")
                status = Migrator.Status(applied: [], pending: [], problems: [])
            }
            if report.failed {
                // already reported above
            } else if !status.problems.isEmpty {
                report.fail("migrations", status.problems.map(\.description).joined(separator: "; "))
            } else if !status.pending.isEmpty {
                report.fail("migrations", "\(status.pending.count) pending (\(status.pending.map(\.fileName).joined(separator: ", "))); run: unwind migrate")
            } else {
                report.pass("migrations", "\(status.applied.count) applied, none pending")
            }

            // Every migration recorded as applied, yet a table is gone (dropped by hand): `unwind migrate` would do
            // nothing, so do not suggest it.
            let dropped = status.pending.isEmpty && !status.applied.isEmpty ? diagnostics.missingTables : []
            if !dropped.isEmpty {
                report.fail("schema", "table(s) \(dropped.joined(separator: ", ")) missing although every migration is recorded as applied; "
                    + "unwind migrate will not recreate them: restore the database from a backup")
            }
            // Compared only once every migration is applied (and none is unknown): before, the differences are what
            // `unwind migrate` will make, not damage.
            if !diagnostics.schemaDifferences.isEmpty && status.pending.isEmpty && status.problems.isEmpty {
                report.fail("schema", "the tables differ from what the migrations made: \(diagnostics.schemaDifferences.joined(separator: "; ")). "
                    + "Unwind's statements fail on them: restore the database from a backup, or put each column back as db/migrations defines it")
            }
            if diagnostics.isReadOnly || diagnostics.inRecovery {
                report.fail("writes", ErrorReporter.readOnlyHint(role: diagnostics.role, standby: diagnostics.inRecovery))
            }
            if !diagnostics.tablesWithoutPrivileges.isEmpty {
                report.fail("privileges", "role \(diagnostics.role) cannot read and write \(diagnostics.tablesWithoutPrivileges.joined(separator: ", ")); grant the unwind runtime privileges to it")
            } else if diagnostics.missingTables.isEmpty {
                let migrate = diagnostics.canMigrate || diagnostics.isSuperuser ? "and can run migrations" : "but cannot create tables (migrations must run as the owner role)"
                report.pass("privileges", "role \(diagnostics.role) can read and write every Unwind table \(migrate)")
            } else if dropped.isEmpty {
                let migrate = diagnostics.canMigrate || diagnostics.isSuperuser
                if migrate {
                    report.pass("privileges", "role \(diagnostics.role) can create the Unwind tables (run: unwind migrate)")
                } else {
                    report.fail("privileges", "role \(diagnostics.role) cannot create tables in schema \(diagnostics.schema); run the migrations as the owner role")
                }
            }
            if report.failed { throw ExitStatus.failure.code }
        }
    }
}

/// The lines `unwind doctor` prints: one per check, `ok` or `FAIL`, then a summary.
struct DoctorReport {
    private(set) var failed = false

    mutating func pass(_ check: String, _ detail: String) {
        print("ok    \(check.padding(toLength: 15, withPad: " ", startingAt: 0)) \(detail)")
    }

    mutating func fail(_ check: String, _ detail: String) {
        failed = true
        print("FAIL  \(check.padding(toLength: 15, withPad: " ", startingAt: 0)) \(oneLine(detail))")
    }

    func printSummary() {
        print(failed ? "doctor found problems" : "all checks passed")
    }

    private func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " — ")
    }
}
