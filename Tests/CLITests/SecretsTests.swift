import Foundation
import Postgres
import Testing
import UnwindTesting

/// Secrets never appear in anything Unwind writes: a full teardown (and a failing one) with distinctive values,
/// then every byte of logs, CLI output and a dump of the database is searched for them.
@Suite("Secrets stay secret", .enabled(if: TestEnvironment.hasDatabase))
struct SecretsTests {
    @Test func noSecretInLogsOutputsOrTheDatabase() async throws {
        let secretKey = "SK-SECRET-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let password = "PW-SECRET-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let scratch = try TestEnvironment.makeScratchDirectory("secrets")

        // The cloud: the sample account, with a distinctive secret key.
        let sample = try String(contentsOfFile: TestEnvironment.repositoryRoot + "/deploy/cloudsim/seeds/sample.json", encoding: .utf8)
        let seed = scratch + "/seed.json"
        try sample.replacingOccurrences(of: "demoSecretKey0000000000000000000000000001", with: secretKey)
            .write(toFile: seed, atomically: true, encoding: .utf8)
        let simulator = try SimulatorProcess(seed: seed)

        // The database: a login role of the runtime group with a distinctive password, given through a 0600 file.
        let database = try await TestDatabase.create(migrated: true)
        let role = "secret_" + UUID().uuidString.prefix(8).lowercased()
        try database.connect().executeScript(
            "CREATE ROLE \(role) LOGIN PASSWORD '\(password)' IN ROLE unwind_worker", name: "create_role")
        let passwordFile = scratch + "/db-password"
        try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        chmod(passwordFile, 0o600)
        let url = database.url.replacingOccurrences(of: "unwind_worker:unwind-test@", with: "\(role)@")

        let environment = [
            "UNWIND_CLOUD_ENDPOINT": simulator.url, "UNWIND_CLOUD_POLL_INTERVAL": "200ms",
            "UNWIND_PROFILE_DEMO_AK": "DEMOACCESSKEY0000001", "UNWIND_PROFILE_DEMO_SK": secretKey,
            "UNWIND_DATABASE_PASSWORD_FILE": passwordFile, "UNWIND_DATABASE_URL": url,
            "UNWIND_WORKFLOWS_DIR": TestEnvironment.repositoryRoot + "/workflows", "UNWIND_CREDENTIALS_FILE": "/nonexistent",
            "UNWIND_LOG_LEVEL": "trace",
        ]
        let worker = try WorkerProcess(databaseURL: url, arguments: ["--log-level", "trace"], environment: environment)
        let account = ["--set", "domain_id=0a1b2c3d4e5f40718293a4b5c6d7e8f9", "--set", "project_id=1f2e3d4c5b6a47988796a5b4c3d2e1f0",
                       "--set", "region=cn-north-4", "--set", "profile=demo"]
        var written: [String] = []
        func unwind(_ arguments: [String]) async -> CommandOutput {
            let result = await runUnwind(arguments, environment: environment)
            written.append(result.combined)
            return result
        }
        _ = await unwind(["plan", "secmaster-full-teardown"] + account)
        let run = await unwind(["submit", "secmaster-full-teardown", "--accept", "handling-fee", "--wait"] + account)
        #expect(run.status == 0, "\(run.combined)")
        let id = String(try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("submitted ") }).split(separator: " ")[2])
        for arguments in [["status", id], ["status", id, "--output", "json"], ["history", id], ["history", id, "--output", "json"],
                          ["list", "--output", "json"], ["workers"], ["doctor"]] {
            _ = await unwind(arguments)
        }
        // A failure too: wrong credentials give an authentication error that must not echo the key.
        _ = await unwind(["plan", "secmaster-full-teardown", "--set", "profile=nobody"] + account.dropLast(2))
        let wrong = await runUnwind(["plan", "secmaster-full-teardown"] + account, environment: environment.merging(["UNWIND_PROFILE_DEMO_SK": secretKey + "x"]) { $1 })
        written.append(wrong.combined)
        #expect(wrong.status != 0)

        worker.signal(SIGTERM)
        _ = try await worker.waitForExit()
        written.append(worker.log)
        let bindir = try #require(["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/pg_dump") })
        let dump = await runCommand(bindir + "/pg_dump", ["--dbname", database.adminURL, "--data-only"])
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("secmaster-full-teardown"), "the dump holds the workflow")
        written.append(dump.stdout)

        for (index, text) in written.enumerated() {
            #expect(!text.contains(secretKey), "secret key found in output #\(index)")
            #expect(!text.contains(password), "database password found in output #\(index)")
        }
    }

    @Test func aSecretFileReadableByOthersIsRefused() async throws {
        let file = try TestEnvironment.makeScratchDirectory("secrets") + "/db-password"
        try "whatever\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        let result = await runUnwind(["doctor"], environment: [
            "UNWIND_DATABASE_URL": TestEnvironment.url(database: "postgres"), "UNWIND_DATABASE_PASSWORD_FILE": file,
        ])
        #expect(result.status == 64)
        #expect(result.combined.contains("is readable by other users"), "\(result.combined)")
        #expect(result.combined.contains("chmod 600 \(file)"))
    }
}
