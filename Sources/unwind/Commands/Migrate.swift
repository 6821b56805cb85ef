import ArgumentParser
import Foundation
import Postgres
import UnwindStore

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations (or list them with --status).",
        discussion: """
            Migrations are the numbered SQL files of db/migrations, compiled into this binary. Each is applied \
            in its own transaction and recorded in schema_migrations with a checksum; an edited applied \
            migration is refused. Several processes may migrate at once: an advisory lock makes them take turns.

            Examples:
              unwind migrate
              unwind migrate --status
              unwind migrate --database-url postgres://unwind@db.internal/unwind
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "List applied and pending migrations without changing anything.")
    var status = false

    func run() throws {
        try runReportingErrors {
            let logger = try database.makeLogger()
            let resolved = try database.resolve(logger: logger)
            let migrator = try Migrator.embedded(logger: logger)
            let connection = try PostgresConnection(configuration: resolved.configuration, logger: logger)
            if status {
                let current = try migrator.status(connection: connection)
                print("database: \(resolved.summary)")
                for applied in current.applied {
                    let name = String(format: "%04d_%@", applied.version, applied.name)
                    print("  applied  \(name)  \(applied.appliedAt.formatted(.iso8601))")
                }
                for pending in current.pending {
                    print("  pending  \(String(pending.fileName.dropLast(4)))")
                }
                for problem in current.problems {
                    print("  problem  \(problem)")
                }
                print("\(current.applied.count) applied, \(current.pending.count) pending")
                if !current.problems.isEmpty { throw ExitStatus.failure.code }
            } else {
                let applied = try migrator.migrate(connection: connection)
                if applied.isEmpty {
                    print("database is up to date (\(migrator.migrations.count) migrations applied)")
                } else {
                    for migration in applied { print("applied \(migration.fileName)") }
                    print("\(applied.count) migration(s) applied; database is up to date")
                }
            }
        }
    }
}
