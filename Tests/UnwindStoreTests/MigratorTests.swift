import Dispatch
import Foundation
import Postgres
import Testing
import UnwindStore
import UnwindTesting

@Suite("Migrations", .enabled(if: TestEnvironment.hasDatabase))
struct MigratorTests {
    @Test func appliesEverythingOnAnEmptyDatabaseAndThenNothing() async throws {
        let database = try await TestDatabase.create()
        let connection = try PostgresConnection(configuration: try PostgresConfiguration(database.ownerURL))
        let migrator = try Migrator.embedded()
        #expect(!migrator.migrations.isEmpty)
        #expect(try migrator.status(connection: connection).pending.count == migrator.migrations.count)

        let applied = try migrator.migrate(connection: connection)
        #expect(applied.map(\.version) == migrator.migrations.map(\.version))
        let tables = try connection.query(
            "SELECT count(*) AS n FROM unnest($1::text[]) AS t(name) WHERE to_regclass(t.name) IS NOT NULL",
            [DatabaseDiagnostics.runtimeTables], name: "tables")
        #expect(try tables.first?.decode("n", as: Int.self) == DatabaseDiagnostics.runtimeTables.count)

        // What `doctor` compares the tables with is exactly what the migrations make (a new migration that changes
        // the columns must change DatabaseDiagnostics.expectedColumns too).
        let diagnostics = try DatabaseDiagnostics.read(connection: connection)
        #expect(diagnostics.schemaDifferences.isEmpty, "\(diagnostics.schemaDifferences)")
        let columns = try connection.query(
            "SELECT count(*) AS n FROM unnest($1::text[]) AS t(name) JOIN pg_attribute a ON a.attrelid = to_regclass(t.name) AND a.attnum > 0 AND NOT a.attisdropped",
            [DatabaseDiagnostics.runtimeTables], name: "columns")
        #expect(try columns.first?.decode("n", as: Int.self) == DatabaseDiagnostics.expectedColumns.values.map(\.count).reduce(0, +),
                "every column the migrations make is listed in DatabaseDiagnostics.expectedColumns")

        #expect(try migrator.migrate(connection: connection).isEmpty)
        let status = try migrator.status(connection: connection)
        #expect(status.isCurrent)
        #expect(status.applied.map(\.checksum) == migrator.migrations.map(\.checksum))
    }

    /// A database shared with another application: its own `schema_migrations` (golang-migrate's shape), or tables
    /// of Unwind's names without one. Both used to end in a bare SQL error.
    @Test func anotherApplicationsTablesAreNamedWithWhatToDo() async throws {
        let foreign = try await TestDatabase.create()
        let connection = try PostgresConnection(configuration: try PostgresConfiguration(foreign.ownerURL))
        try connection.executeScript("CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (3, false)", name: "golang_migrate")
        let migrator = try Migrator.embedded()
        #expect {
            try migrator.status(connection: connection)
        } throws: { error in
            guard case MigrationError.foreignMigrationsTable = error else { return false }
            return "\(error)".contains("not Unwind's") && "\(error)".contains("a database of its own")
        }
        #expect(throws: MigrationError.self) { try migrator.migrate(connection: connection) }

        let unrecorded = try await TestDatabase.create()
        let other = try PostgresConnection(configuration: try PostgresConfiguration(unrecorded.ownerURL))
        try other.executeScript("CREATE TABLE workflow_definitions (id int)", name: "other_app")
        #expect {
            try migrator.migrate(connection: other)
        } throws: { error in
            guard case MigrationError.tablesAlreadyThere = error else { return false }
            return "\(error)".contains("another application's tables")
        }
        #expect(try migrator.status(connection: other).applied.isEmpty, "nothing recorded: the failed first migration was rolled back")
    }

    /// A session in a long transaction on a table a migration alters (a worker of the previous version, say): the
    /// migration gives up after 10 s, changing nothing, instead of queueing a lock that holds up every worker.
    @Test func aMigrationBlockedByALongTransactionGivesUpInsteadOfHoldingUpTheWorkers() async throws {
        let database = try await TestDatabase.create()
        let connection = try PostgresConnection(configuration: try PostgresConfiguration(database.ownerURL))
        let migrator = try Migrator.embedded()
        try migrator.migrate(connection: connection)
        try connection.executeScript(
            "ALTER TABLE steps DROP CONSTRAINT steps_counters_in_range; ALTER TABLE workers DROP COLUMN heartbeat_seconds; DELETE FROM schema_migrations WHERE version >= 6",
            name: "previous_version")
        let holder = try PostgresConnection(configuration: try PostgresConfiguration(database.ownerURL))
        try holder.transaction { holder in
            _ = try holder.query("SELECT count(*) FROM workers")
            #expect {
                try migrator.migrate(connection: connection)
            } throws: { error in
                "\(error)".contains("0006") && "\(error)".contains("waited 10 s")
            }
        }
        #expect(try migrator.status(connection: connection).pending.count == 2, "nothing was applied")
        #expect(try migrator.migrate(connection: connection).count == 2, "once the transaction ended, it goes through")
    }

    @Test func concurrentMigrateProcessesApplyEachFileOnce() async throws {
        let database = try await TestDatabase.create()
        let outputs = DispatchQueue.global()
        let group = DispatchGroup()
        let results = ResultsBox()
        for _ in 0..<3 {
            group.enter()
            outputs.async {
                results.append(runUnwind(["migrate", "--database-url", database.ownerURL]))
                group.leave()
            }
        }
        group.wait()
        for result in results.all {
            #expect(result.status == 0, "\(result.combined)")
        }
        let connection = try database.connect()
        let count = try connection.query("SELECT count(*) AS n, count(DISTINCT version) AS d FROM schema_migrations", name: "count").first
        let migrations = try Migrator.embedded().migrations.count
        #expect(try count?.decode("n", as: Int.self) == migrations)
        #expect(try count?.decode("d", as: Int.self) == migrations)
        #expect(results.all.filter { $0.stdout.contains("applied 0001") }.count == 1)
    }

    @Test func aTamperedChecksumIsRefusedWithAClearMessage() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let connection = try database.connect()
        try connection.query("UPDATE schema_migrations SET checksum = $1 WHERE version = 1", [String(repeating: "0", count: 64)], name: "tamper")
        let error = try #require(throws: MigrationError.self) { try Migrator.embedded().migrate(connection: connection) }
        #expect(error.description.contains("0001_engine_schema.sql was changed after it was applied"))

        let cli = await runUnwind(["migrate", "--database-url", database.ownerURL])
        #expect(cli.status == 5, "a database in a state this binary cannot use: misconfigured (README's exit codes)")
        #expect(cli.stderr.contains("error: migration 0001_engine_schema.sql was changed after it was applied"))
        #expect(!cli.combined.contains("Fatal error"))

        let doctor = await runUnwind(["doctor", "--database-url", database.url])
        #expect(doctor.status == 1)
        #expect(doctor.stdout.contains("FAIL  migrations"))
    }

    @Test func aMigrationFromANewerBinaryIsReported() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let connection = try database.connect()
        try connection.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", [9999, "future", "x"], name: "future")
        let error = try #require(throws: MigrationError.self) { try Migrator.embedded().migrate(connection: connection) }
        #expect(error.description.contains("9999_future"))
        #expect(error.description.contains("upgrade this binary"))
    }

    @Test func aFailingMigrationRollsBackCompletely() async throws {
        let database = try await TestDatabase.create()
        let connection = try PostgresConnection(configuration: try PostgresConfiguration(database.ownerURL))
        let good = try Migration(fileName: "0001_good.sql", bytes: Array("CREATE TABLE a (id int);".utf8))
        let bad = try Migration(fileName: "0002_bad.sql", bytes: Array("CREATE TABLE b (id int); SELECT no_such_function();".utf8))
        let migrator = try Migrator(migrations: [good, bad])
        let error = try #require(throws: MigrationError.self) { try migrator.migrate(connection: connection) }
        #expect(error.description.contains("migration 0002_bad.sql failed and was rolled back"))
        #expect(try connection.query("SELECT to_regclass('b') IS NULL AS gone", name: "b").first?.decode("gone", as: Bool.self) == true)
        #expect(try migrator.status(connection: connection).applied.map(\.version) == [1])
    }

    /// A database that already has a table of that name (someone else's `workflows`): the first migration fails,
    /// and not even the bookkeeping table is left behind.
    @Test func aFirstMigrationThatFailsLeavesAFreshDatabaseUntouched() async throws {
        let database = try await TestDatabase.create()
        let connection = try PostgresConnection(configuration: try PostgresConfiguration(database.ownerURL))
        try connection.executeScript("CREATE TABLE workflows (id int)", name: "foreign_table")
        #expect(throws: MigrationError.self) { try Migrator.embedded().migrate(connection: connection) }
        #expect(try connection.query("SELECT to_regclass('schema_migrations') IS NULL AS gone", name: "bookkeeping").first?.decode("gone", as: Bool.self) == true)
    }

    @Test func theRuntimeRoleMayWriteRowsButNotChangeTheSchema() async throws {
        let database = try await TestDatabase.create(migrated: true)
        let runtime = try database.connectAsRuntime()
        try runtime.query("SELECT count(*) FROM workflows", name: "read")
        try runtime.query("DELETE FROM events WHERE false", name: "delete")
        for (sql, name) in [
            ("CREATE TABLE sneaky (id int)", "create_table"), ("TRUNCATE events", "truncate"), ("DROP TABLE steps", "drop"),
            ("ALTER TABLE workflows ADD COLUMN x int", "alter"), ("DELETE FROM schema_migrations", "forget_migrations"),
        ] {
            let error = try #require(throws: PostgresError.self, "\(name)") { try runtime.executeScript(sql, name: name) }
            #expect(error.sqlState == "42501", "\(name): \(error)")
        }
        // doctor, as the runtime role: healthy, and it says the role cannot run migrations.
        let doctor = await runUnwind(["doctor", "--database-url", database.url])
        #expect(doctor.status == 0, "\(doctor.combined)")
        #expect(doctor.stdout.contains("cannot create tables (migrations must run as the owner role)"))
    }

    @Test func badFileNamesAreRejected() async {
        #expect(throws: MigrationError.badFileName("1_x.sql")) { try Migration(fileName: "1_x.sql", bytes: []) }
        #expect(throws: MigrationError.notUTF8("0003_x.sql")) { try Migration(fileName: "0003_x.sql", bytes: [0xff, 0xfe]) }
    }
}

final class ResultsBox: Sendable {
    private let results = Mutex<[CommandOutput]>([])
    func append(_ result: CommandOutput) { results.withLock { $0.append(result) } }
    var all: [CommandOutput] { results.withLock { $0 } }
}

import Synchronization
