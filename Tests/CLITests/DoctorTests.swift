import Foundation
import Testing
import UnwindTesting

@Suite("unwind doctor and bad database input", .enabled(if: TestEnvironment.hasDatabase))
struct DoctorTests {
    /// One readable line on stderr or in the report, a non-zero exit, and no Swift crash output.
    func expectReadableFailure(_ result: CommandOutput, mentions needle: String, status: Int32 = 5) {
        #expect(result.status == status, "\(result.combined)")
        #expect(result.combined.contains(needle), "\(result.combined)")
        #expect(!result.combined.contains("Fatal error"))
        #expect(!result.combined.contains("Stack dump"))
        #expect(!result.combined.contains("hunter2"), "the password must never be printed")
        let failLines = result.combined.split(separator: "\n").filter { $0.hasPrefix("FAIL") || $0.hasPrefix("error:") }
        #expect(failLines.count == 1, "\(result.combined)")
    }

    @Test func aMalformedURL() async {
        let result = await runUnwind(["doctor", "--database-url", "postgres://app:hunter2@db:notaport/unwind"])
        expectReadableFailure(result, mentions: "malformed database URL")
        // libpq echoes the whole string when it cannot tell it is a URL: a missing colon, a password with an "@".
        for url in ["postgres//app:hunter2@db/unwind", "postgres//app:pw@hunter2@db/unwind", "app:hunter2@db/unwind"] {
            expectReadableFailure(await runUnwind(["doctor", "--database-url", url]), mentions: "malformed database URL")
        }
    }

    @Test func aWrongPassword() async {
        let url = TestEnvironment.url(database: "postgres", password: "hunter2")
        let result = await runUnwind(["doctor", "--database-url", url])
        expectReadableFailure(result, mentions: "password authentication failed")
    }

    @Test func anUnreachableHost() async {
        let result = await runUnwind(["doctor"], environment: ["UNWIND_DATABASE_URL": "postgres://app:hunter2@host.invalid:5432/unwind"])
        expectReadableFailure(result, mentions: "host.invalid")
    }

    @Test func aClosedPort() async {
        let result = await runUnwind(["doctor", "--database-url", "postgres://app:hunter2@127.0.0.1:1/unwind?connect_timeout=3"])
        expectReadableFailure(result, mentions: "Connection refused")
    }

    @Test func aFreshDatabaseNeedsMigrationsThenIsHealthy() async throws {
        let database = try await TestDatabase.create()
        let before = await runUnwind(["doctor", "--database-url", database.ownerURL])
        #expect(before.status == 1)
        #expect(before.stdout.contains("FAIL  migrations"))
        #expect(before.stdout.contains("run: unwind migrate"))
        await #expect(runUnwind(["migrate", "--database-url", database.ownerURL]).status == 0)
        let after = await runUnwind(["doctor", "--database-url", database.ownerURL])
        #expect(after.status == 0, "\(after.combined)")
        #expect(after.stdout.contains("all checks passed"))
        #expect(after.stdout.contains("ok    privileges"))
    }

    /// A migrated database and the URL of a new login role that was granted `grant` (e.g. `SELECT ON workflows`).
    /// `then`: more SQL to run as the superuser, with `{role}` standing for the new role.
    func urlOfARoleWith(_ grant: String, prefix: String, then more: String = "") async throws -> String {
        let database = try await TestDatabase.create(migrated: true)
        let role = prefix + database.name.suffix(6)
        try database.connect().executeScript(
            "CREATE ROLE \(role) LOGIN PASSWORD 'unwind-test'; GRANT \(grant) TO \(role); \(more.replacingOccurrences(of: "{role}", with: role))",
            name: "create_role")
        return database.adminURL.replacingOccurrences(of: "postgres:unwind-test@", with: "\(role):unwind-test@")
    }

    @Test func aRoleWithoutPrivilegesIsReported() async throws {
        let url = try await urlOfARoleWith("SELECT ON workflows", prefix: "reader_")
        let result = await runUnwind(["doctor", "--database-url", url])
        #expect(result.status == 1, "\(result.combined)")
        #expect(result.stdout.contains("FAIL  privileges"))
    }

    /// `has_table_privilege(…, 'SELECT, INSERT, UPDATE, DELETE')` is true when any one is held: a read-only role
    /// passed doctor, then its worker died in a Dispatch trap when it could not register.
    @Test func aReadOnlyRoleIsNamedWithWhatItLacksAndItsWorkerExitsCleanly() async throws {
        let url = try await urlOfARoleWith("SELECT ON ALL TABLES IN SCHEMA public", prefix: "readonly_")
        let doctor = await runUnwind(["doctor", "--database-url", url])
        #expect(doctor.status == 1, "\(doctor.combined)")
        #expect(doctor.stdout.contains("FAIL  privileges"), "\(doctor.combined)")
        #expect(doctor.stdout.contains("workers (INSERT, UPDATE, DELETE)"), "\(doctor.combined)")

        let worker = await runUnwind(["worker", "--database-url", url])
        expectReadableFailure(worker, mentions: "permission denied for table workers")
        #expect(worker.stderr.contains("hint: the database role lacks privileges"), "\(worker.combined)")
        #expect(!worker.combined.contains("crashed"), "\(worker.combined)")
    }

    /// Every privilege granted, but the role's sessions are read-only (as on a standby): doctor passed it, and every
    /// command then failed with a bare "cannot execute … in a read-only transaction".
    @Test func aReadOnlySessionFailsDoctorAndEveryWriteSaysWhatToDo() async throws {
        let url = try await urlOfARoleWith(
            "SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public", prefix: "ro_session_",
            then: "ALTER ROLE {role} SET default_transaction_read_only = on")
        let doctor = await runUnwind(["doctor", "--database-url", url])
        #expect(doctor.status == 1, "\(doctor.combined)")
        #expect(doctor.stdout.contains("FAIL  writes") && doctor.stdout.contains("target_session_attrs=read-write"), "\(doctor.combined)")
        let worker = await runUnwind(["worker", "--database-url", url])
        expectReadableFailure(worker, mentions: "read-only transaction", status: 5)
        #expect(worker.stderr.contains("hint: the session is read-only"), "\(worker.combined)")
    }

    /// A column dropped or retyped, or a table dropped, by hand: doctor passed, and every worker then failed every
    /// statement; with a table gone it even suggested `unwind migrate`, which does nothing.
    @Test func tablesChangedByHandAreNamedByDoctor() async throws {
        let database = try await TestDatabase.create(migrated: true)
        try database.connect().executeScript(
            "ALTER TABLE steps DROP COLUMN completed_seq; ALTER TABLE workers ALTER COLUMN pid TYPE bigint", name: "drift")
        let doctor = await runUnwind(["doctor", "--database-url", database.adminURL])
        #expect(doctor.status == 1, "\(doctor.combined)")
        #expect(doctor.stdout.contains("FAIL  schema") && doctor.stdout.contains("steps lacks column completed_seq (integer)")
                && doctor.stdout.contains("workers.pid is bigint, not integer"), "\(doctor.combined)")
        // Every other command says so too, instead of storing a submission that can never run or refusing every batch.
        let submit = await runUnwind(["submit", "example-linear", "--set", "ticket=OPS-1", "--database-url", database.adminURL],
                                     environment: ["UNWIND_WORKFLOWS_DIR": TestEnvironment.repositoryRoot + "/workflows"])
        #expect(submit.status == 5 && submit.stderr.contains("steps lacks column completed_seq") && submit.stderr.contains("unwind doctor"), "\(submit.combined)")
        #expect(try database.connect().query("SELECT count(*) AS n FROM workflows").rows.first?.decode("n", as: Int.self) == 0)

        try database.connect().executeScript("DROP TABLE events", name: "drop")
        let dropped = await runUnwind(["doctor", "--database-url", database.adminURL])
        #expect(dropped.status == 1, "\(dropped.combined)")
        #expect(dropped.stdout.contains("table(s) events missing although every migration is recorded as applied"), "\(dropped.combined)")
        #expect(!dropped.stdout.contains("run: unwind migrate"), "\(dropped.combined)")
    }

    /// A database migrated by the previous version: what the pending migrations add is not damage.
    @Test func aDatabaseAwaitingMigrationsIsNotReportedAsChangedByHand() async throws {
        let database = try await TestDatabase.create(migrated: true)
        try database.connect().executeScript(
            "ALTER TABLE workers DROP COLUMN heartbeat_seconds; ALTER TABLE steps DROP CONSTRAINT steps_counters_in_range; DELETE FROM schema_migrations WHERE version >= 6",
            name: "previous_version")
        let doctor = await runUnwind(["doctor", "--database-url", database.adminURL])
        #expect(doctor.status == 1 && doctor.stdout.contains("FAIL  migrations") && doctor.stdout.contains("run: unwind migrate"), "\(doctor.combined)")
        #expect(!doctor.stdout.contains("FAIL  schema") && !doctor.stdout.contains("backup"), "\(doctor.combined)")
        await #expect(runUnwind(["migrate", "--database-url", database.adminURL]).status == 0)
        let after = await runUnwind(["doctor", "--database-url", database.adminURL])
        #expect(after.status == 0, "\(after.combined)")
    }

    @Test func aSetButEmptyDatabaseURLIsRefusedRatherThanUsingTheEmbeddedDatabase() async throws {
        let state = try TestEnvironment.makeScratchDirectory("empty-url-state")
        let result = await runUnwind(["list"], environment: ["UNWIND_DATABASE_URL": "", "UNWIND_STATE_DIR": state])
        expectReadableFailure(result, mentions: "UNWIND_DATABASE_URL is set but empty", status: 64)
        #expect(!FileManager.default.fileExists(atPath: state + "/postgres"), "no embedded database was created")
        let binaries = await runUnwind(["db", "start"], environment: ["UNWIND_PG_BINDIR": "/nonexistent/bin", "UNWIND_STATE_DIR": state])
        expectReadableFailure(binaries, mentions: "UNWIND_PG_BINDIR is '/nonexistent/bin', which holds no initdb", status: 5)
    }

    @Test func usageErrorsExitWith64() async {
        let result = await runUnwind(["migrate", "--no-such-flag"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Unknown option '--no-such-flag'"))
    }
}

@Suite("Embedded database", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct EmbeddedDatabaseTests {
    /// As root the database stays in /var/lib/unwind whatever XDG_STATE_HOME says (the server runs as `unwind`,
    /// which cannot reach a root's home); other users follow XDG_STATE_HOME.
    @Test func theStateDirectoryOfRootIgnoresXDGStateHome() async throws {
        let state = try TestEnvironment.makeScratchDirectory("xdg")
        let status = await runUnwind(["db", "status"], environment: ["XDG_STATE_HOME": state, "UNWIND_STATE_DIR": ""])
        let expected = geteuid() == 0 ? "/var/lib/unwind/postgres/data" : "\(state)/unwind/postgres/data"
        #expect(status.stdout.contains("data directory:   \(expected)"), "\(status.combined)")
    }

    @Test func withNoDatabaseConfiguredUnwindCreatesStartsAndUsesItsOwn() async throws {
        let state = try TestEnvironment.makeScratchDirectory("state")
        let environment = ["UNWIND_STATE_DIR": state]
        defer { _ = runUnwind(["db", "stop"], environment: environment) }
        let migrate = await runUnwind(["migrate"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.combined)")
        #expect(migrate.stdout.contains("applied 0001_engine_schema.sql"))

        let doctor = await runUnwind(["doctor"], environment: environment)
        #expect(doctor.status == 0, "\(doctor.combined)")
        #expect(doctor.stdout.contains("ok    configuration   embedded database in \(state)/postgres/data"))
        #expect(doctor.stdout.contains("all checks passed"))

        let status = await runUnwind(["db", "status"], environment: environment)
        #expect(status.stdout.contains("state:            running"))
        #expect(status.stdout.contains("(no TCP port)"))
        // The server listens on no TCP port at all.
        let conf = try String(contentsOfFile: state + "/postgres/data/postgresql.conf", encoding: .utf8)
        #expect(conf.contains("listen_addresses = ''"))

        let stop = await runUnwind(["db", "stop"], environment: environment)
        #expect(stop.stdout.contains("embedded database stopped"))
        await #expect(runUnwind(["db", "status"], environment: environment).stdout.contains("state:            stopped"))
        // Next use starts it again.
        await #expect(runUnwind(["doctor"], environment: environment).status == 0)
    }
}
