import Dispatch
import Foundation
import Postgres
import Testing
import UnwindTesting

/// Bad input a user can send: each gets a clear error, a non-zero exit and no change in the database; odd
/// but valid values are stored and shown verbatim, never executed, with terminal escapes neutralised.
@Suite("Bad input corpus", .enabled(if: TestEnvironment.hasDatabase), .serialized)
struct BadInputCorpusTests {
    final class Setup: Sendable {
        let database: TestDatabase
        let workflows: String

        init() throws {
            database = try TestDatabase.create(migrated: true)
            workflows = try TestEnvironment.makeScratchDirectory("corpus")
            try """
                name: notes
                inputs:
                  account: {type: string, required: true, pattern: "^[a-z0-9-]+$", max_length: 32}
                  note: {type: string, default: "", max_length: 200}
                  count: {type: int, default: 1}
                steps:
                  - {id: only, action: test.noop}
                """.write(toFile: workflows + "/notes.yaml", atomically: true, encoding: .utf8)
        }

        func unwind(_ arguments: [String]) async -> CommandOutput {
            await runUnwind(arguments + ["--database-url", database.url], environment: ["UNWIND_WORKFLOWS_DIR": workflows])
        }

        func workflowCount() throws -> Int {
            try database.connect().query("SELECT count(*) AS n FROM workflows").rows.first!.decode("n", as: Int.self)
        }

        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = workflows + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    static func expectCleanFailure(_ result: CommandOutput, status: Int32, mentions text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "\(result.combined)", sourceLocation: sourceLocation)
        #expect(result.combined.contains(text), "\(result.combined)", sourceLocation: sourceLocation)
        #expect(!result.combined.contains("Fatal error") && !result.combined.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    /// `--as` goes into the history: a newline there would forge a line of `unwind history`. Refused before anything
    /// is submitted or changed, like the API's `actor`.
    @Test func whoIsActingMustBeAName() async throws {
        let setup = try Setup()
        for name in ["jane doe", "evil\nworkflow_cancelled", "", String(repeating: "x", count: 65), "a\u{1b}[2J"] {
            await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=acme", "--as", name]), status: 64,
                                          mentions: "--as: the name")
        }
        #expect(try setup.workflowCount() == 0)
        let accepted = await setup.unwind(["submit", "notes", "--set", "account=acme", "--as", "jürgen.müller@ops"])
        #expect(accepted.status == 0, "a name in any script is fine: \(accepted.combined)")
    }

    /// Inputs read as people write them, and only so: a byte-order mark before an input file's JSON is harmless, and
    /// a number is decimal (Swift also reads `0x1p3`, which nobody means as 8).
    @Test func inputFilesWithAByteOrderMarkAndHexadecimalNumbers() async throws {
        let setup = try Setup()
        let path = try setup.write("input.json", [0xEF, 0xBB, 0xBF] + Array(#"{"account": "bom-ok"}"#.utf8))
        let withBOM = await setup.unwind(["submit", "notes", "--input", path])
        #expect(withBOM.status == 0, "\(withBOM.combined)")
        try """
            name: measured
            inputs:
              ratio: {type: number, required: true}
            steps:
              - {id: only, action: test.noop}
            """.write(toFile: setup.workflows + "/measured.yaml", atomically: true, encoding: .utf8)
        await Self.expectCleanFailure(setup.unwind(["submit", "measured", "--set", "ratio=0x1p3"]), status: 64, mentions: "ratio is a number")
        #expect(await setup.unwind(["submit", "measured", "--set", "ratio=-1.5e3"]).status == 0)
    }

    /// A cancel is committed before it is described: a row that cannot be read back made it exit 1 with an error,
    /// as if the cancel had failed. (The workflow is read back with the unreadable column marked now; a read-back
    /// that fails all the same says the cancel was recorded.)
    @Test func aCancelOfAWorkflowWithAnUnreadableInputSaysItWasRecorded() async throws {
        let setup = try Setup()
        let submitted = await setup.unwind(["submit", "notes", "--set", "account=acme", "--not-before", "+1h"])
        #expect(submitted.status == 0, "\(submitted.combined)")
        let id = try #require(try setup.database.connect().query("SELECT id FROM workflows").rows.first?.decode("id", as: UUID.self)).uuidString
        _ = try setup.database.connect().query(#"UPDATE workflows SET input = '{"account": "acme", "count": 1e400}'"#)
        let cancel = await setup.unwind(["cancel", id, "--reason", "not needed"])
        #expect(cancel.status == 0, "\(cancel.combined)")
        #expect(cancel.stdout.contains("cancelled"), "\(cancel.combined)")
        let state = try setup.database.connect().query("SELECT state FROM workflows").rows.first?.decode("state", as: String.self)
        #expect(state == "cancelled")
    }

    @Test func fleetFilesWithWrongEncodingsAndBrokenRows() async throws {
        let setup = try Setup()
        // UTF-16 (as some spreadsheet exports are): refused as a whole, nothing submitted.
        let utf16 = try setup.write("fleet16.csv", [0xFF, 0xFE] + Array("account\nacme\n".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--fleet", utf16]), status: 64, mentions: "is UTF-16 text; save it as UTF-8")
        #expect(try setup.workflowCount() == 0)

        // A UTF-8 byte-order mark is harmless; Latin-1, NUL bytes, an over-long row and a short row are not.
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("account,note\nacme,fine\n".utf8)
        bytes += Array("globex,caf".utf8) + [0xE9] + Array("\n".utf8)              // Latin-1 é
        bytes += Array("initech,nul".utf8) + [0x00] + Array("here\n".utf8)
        bytes += Array("umbrella,".utf8) + Array(repeating: UInt8(ascii: "x"), count: 1 << 20) + Array("\n".utf8)
        bytes += Array("hooli\n".utf8)
        bytes += Array("bad name,x\n".utf8)
        let broken = try setup.write("broken.csv", bytes)
        // By default a bad row stops the whole file: every invalid row is named, nothing is submitted.
        let refused = await setup.unwind(["submit", "notes", "--fleet", broken])
        #expect(refused.status == 64, "\(refused.combined)")
        #expect(refused.stdout.split(separator: "\n").count == 5 && !refused.stdout.contains("submitted"), "\(refused.stdout)")
        #expect(refused.stderr.contains("5 invalid row(s)") && refused.stderr.contains("nothing was submitted"), "\(refused.stderr)")
        #expect(try setup.workflowCount() == 0)
        let result = await setup.unwind(["submit", "notes", "--fleet", broken, "--skip-invalid"])
        #expect(result.status == 1, "\(result.combined)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("line 2\tsubmitted") }, "the BOM did not spoil the header: \(lines)")
        #expect(lines.contains("line 3\tinvalid\tnot valid UTF-8 text (save the file as UTF-8)"))
        #expect(lines.contains("line 4\tinvalid\tcontains NUL bytes: this is not a text file"))
        #expect(lines.contains("line 5\tinvalid\trow is longer than 1024 KiB"))
        #expect(lines.contains("line 6\tinvalid\thas 1 fields but the header has 2"))
        #expect(lines.contains { $0.hasPrefix("line 7\tinvalid\t'account'") })
        #expect(lines.last == "1 submitted, 0 already existed, 0 refused, 5 invalid")
        #expect(try setup.workflowCount() == 1, "only the good row")

        // A header that cannot be read stops the file even with --skip-invalid: the next line was taken for the
        // header, and rows that happened to fit it were submitted under the wrong columns.
        let badHeader = try setup.write("header.csv", Array("account,not".utf8) + [0xE9] + Array("\nnote,account\nx,acme2\n".utf8))
        let header = await setup.unwind(["submit", "notes", "--fleet", badHeader, "--skip-invalid"])
        #expect(header.stdout.contains("line 1\tinvalid\tthe header: not valid UTF-8 text (save the file as UTF-8); no row was read (fix the header)"), "\(header.combined)")
        #expect(!header.stdout.contains("submitted\t"), "\(header.stdout)")
        #expect(try setup.workflowCount() == 1, "nothing more")

        // A fleet's keys follow the rules of one submission: a blank or over-long idempotency key and a label
        // without a name are refused by line (they were stored; a blank key then returned the first workflow).
        let keys = try setup.write("keys.jsonl", Array("""
            {"account":"k1","_idempotency_key":""}
            {"account":"k2","_idempotency_key":"   "}
            {"account":"k3","_idempotency_key":"\(String(repeating: "k", count: 600))"}
            {"account":"k4","_labels":{"":"x"}}

            """.utf8))
        let refusedKeys = await setup.unwind(["submit", "notes", "--fleet", keys])
        #expect(refusedKeys.status == 64, "\(refusedKeys.combined)")
        #expect(refusedKeys.stdout.contains("line 1\tinvalid\tidempotency_key: must not be empty"), "\(refusedKeys.stdout)")
        #expect(refusedKeys.stdout.contains("line 2\tinvalid\tidempotency_key: must not be empty"), "\(refusedKeys.stdout)")
        #expect(refusedKeys.stdout.contains("line 3\tinvalid\tidempotency_key: longer than 500 characters"), "\(refusedKeys.stdout)")
        #expect(refusedKeys.stdout.contains("line 4\tinvalid\tlabels: a label key cannot be empty"), "\(refusedKeys.stdout)")
        #expect(try setup.workflowCount() == 1, "nothing more was submitted")
    }

    /// Found by trying the CLI as a new user would: each of these crashed, deleted too much, or was accepted and
    /// then silently misbehaved. Now each is refused up front, and nothing changes.
    @Test func valuesThatUsedToCrashOrMisleadAreRefused() async throws {
        let setup = try Setup()
        let first = await setup.unwind(["submit", "notes", "--set", "account=acme"])
        #expect(first.status == 0, "\(first.combined)")
        #expect(try setup.workflowCount() == 1)

        // prune: an age must be positive, have a unit and be sane; "-1d" used to delete every finished workflow.
        for age in ["-1d", "0d", "0x10d", "30", "nand", "infd"] {
            await Self.expectCleanFailure(setup.unwind(["prune", "--older-than=\(age)"]), status: 64, mentions: "is not an age")
        }
        for age in ["1000000000d", "1000000d"] {
            await Self.expectCleanFailure(setup.unwind(["prune", "--older-than=\(age)"]), status: 64, mentions: "is more than 100 years")
        }
        // A directory as the fleet file used to trap inside FileHandle.
        try FileManager.default.createDirectory(atPath: setup.workflows + "/dir.csv", withIntermediateDirectories: true)
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--fleet", setup.workflows + "/dir.csv"]), status: 64, mentions: "is a directory")
        // A header naming a column twice spoils every row: one error, on the header's line.
        let header = try setup.write("twice.csv", Array("account,account\nacme,x\nbeta,y\n".utf8))
        let twice = await setup.unwind(["submit", "notes", "--fleet", header])
        #expect(twice.status == 64, "\(twice.combined)")
        #expect(twice.stdout.split(separator: "\n").map(String.init) == [
            "line 1\tinvalid\tthe header names column 'account' twice; no row was read (fix the header)",
        ])
        #expect(twice.stderr.contains("nothing was submitted"), "\(twice.stderr)")
        // Fleet rows are not planned: rows of a workflow that takes acknowledgements, acknowledging nothing, get a note.
        try """
            name: fees
            inputs:
              account: {type: string, required: true}
              accept: {type: array, default: []}
            steps:
              - {id: only, action: test.noop}
            """.write(toFile: setup.workflows + "/fees.yaml", atomically: true, encoding: .utf8)
        let fleet = try setup.write("fees.csv", Array("account\nacme\nbeta\n".utf8))
        let unacknowledged = await setup.unwind(["submit", "fees", "--fleet", fleet, "--dry-run"])
        #expect(unacknowledged.stderr.contains("note: 2 row(s) acknowledge nothing"), "\(unacknowledged.combined)")
        let acknowledged = await setup.unwind(["submit", "fees", "--fleet", fleet, "--dry-run", "--accept", "handling-fee"])
        #expect(acknowledged.status == 0 && !acknowledged.stderr.contains("note:"), "\(acknowledged.combined)")
        // An array column takes a plain list as well as JSON: what people type into a spreadsheet cell.
        let listed = try setup.write("listed.csv", Array("account,accept\nacme,handling-fee\nbeta,\"handling-fee, refund-loss\"\ngamma,\"[\"\"handling-fee\"\"]\"\n".utf8))
        let listedRun = await setup.unwind(["submit", "fees", "--fleet", listed, "--dry-run"])
        #expect(listedRun.status == 0 && !listedRun.stderr.contains("note:") && listedRun.stdout.contains("3 valid"), "\(listedRun.combined)")
        // A missing --input file says why.
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--input", setup.workflows + "/nope.json"]), status: 64, mentions: "nope.json' does not exist")
        // list --since takes days like prune does, and the same refusals.
        let week = await setup.unwind(["list", "--since", "7d"])
        #expect(week.status == 0 && week.stdout.contains("notes"), "\(week.combined)")
        await Self.expectCleanFailure(setup.unwind(["list", "--since", "7"]), status: 64, mentions: "--since: '7' is not an age")
        // A name twice in one JSON object means two things to two parsers: refused in --input and in fleet lines.
        let twiceInput = try setup.write("twice.json", Array(#"{"account":"dk1","account":"dk2"}"#.utf8))
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--input", twiceInput]), status: 64, mentions: "appears twice in one object")
        let twiceLine = try setup.write("twice.jsonl", Array(#"{"account":"dj1","account":"dj2"}"#.utf8) + [0x0A])
        let lineResult = await setup.unwind(["submit", "notes", "--fleet", twiceLine])
        #expect(lineResult.status == 64 && lineResult.stdout.contains("appears twice in one object"), "\(lineResult.combined)")
        // A page number whose offset overflows.
        await Self.expectCleanFailure(setup.unwind(["list", "--page", "200000000000000000"]), status: 64, mentions: "--page must be at most")
        // An empty idempotency key (an unset shell variable) would have returned the first submission for every later one.
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=beta", "--idempotency-key", ""]), status: 64, mentions: "--idempotency-key must not be empty")
        // Queue names no worker can serve, and a priority the column cannot hold.
        for queue in ["a,b", "", "with space"] {
            await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=beta", "--queue", queue]), status: 64, mentions: "--queue:")
        }
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=beta", "--priority", "99999999999"]), status: 64, mentions: "--priority must be between")
        await Self.expectCleanFailure(setup.unwind(["worker", "--queues", ",,"]), status: 64, mentions: "--queues: a queue name cannot be empty")
        await Self.expectCleanFailure(setup.unwind(["worker", "--worker-id", ""]), status: 64, mentions: "--worker-id must be 1 to 200 characters")
        // An operator's reason is the history's record of why.
        await Self.expectCleanFailure(setup.unwind(["cancel", "00000000", "--reason", "  "]), status: 64, mentions: "--reason must say why")
        // A cloud setting that is set but unreadable is an error, not a silent default.
        let badTimeout = await runUnwind(["worker", "--database-url", setup.database.url], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_CLOUD_TIMEOUT": "abc"])
        Self.expectCleanFailure(badTimeout, status: 64, mentions: "UNWIND_CLOUD_TIMEOUT='abc' is not a duration")
        // An int beyond 2^53 - 1 would be stored as a neighbouring value: refused from --set and from --input.
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=beta", "--set", "count=9007199254740993"]), status: 64,
                                      mentions: "count is beyond ±9007199254740991")
        let bigInput = try setup.write("big.json", Array(#"{"account":"beta","count":9007199254740993}"#.utf8))
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--input", bigInput]), status: 64, mentions: "'count': is beyond ±9007199254740991")
        let largest = await setup.unwind(["submit", "notes", "--set", "account=beta", "--set", "count=-9007199254740991"])
        #expect(largest.status == 0, "the largest exact int is accepted: \(largest.combined)")
        #expect(try setup.workflowCount() == 2)
        // A date without a time zone would be read as UTC, hours off for most operators.
        for time in ["2026-12-05", "2026-12-05T02:00", "2026-12-05 02:00:00"] {
            await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=beta", "--not-before", time]), status: 64,
                                          mentions: "has no time zone; write it with one, e.g. 2026-12-05T02:00:00Z")
        }
        // A start time past what ISO 8601 writes back (it was stored, then could be neither shown nor cancelled, and
        // held its account's concurrency key), or before 1970; too many labels.
        for time in ["10000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"] {
            await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=beta", "--not-before", time]), status: 64,
                                          mentions: "not_before: ")
        }
        let manyLabels = (0...64).flatMap { ["--label", "k\($0)=v"] }
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=beta"] + manyLabels), status: 64,
                                      mentions: "labels: 65 labels; at most 64 are allowed")
        // A directory given as the database password file.
        let passwordDirectory = setup.workflows + "/password.d"
        try FileManager.default.createDirectory(atPath: passwordDirectory, withIntermediateDirectories: true)
        let directoryAsPassword = await runUnwind(["list"], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_DATABASE_URL": setup.database.url, "UNWIND_DATABASE_PASSWORD_FILE": passwordDirectory])
        Self.expectCleanFailure(directoryAsPassword, status: 64, mentions: "is not a regular file")
        // A password file without a URL: refused, rather than quietly using (and creating) the embedded database.
        let stateDirectory = try TestEnvironment.makeScratchDirectory("no-embedded")
        let passwordWithoutURL = await runCommand(
            TestEnvironment.binDirectory + "/unwind", ["list"],
            environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_DATABASE_PASSWORD_FILE": passwordDirectory, "UNWIND_STATE_DIR": stateDirectory],
            removingEnvironment: ["UNWIND_DATABASE_URL"])
        Self.expectCleanFailure(passwordWithoutURL, status: 64, mentions: "UNWIND_DATABASE_PASSWORD_FILE is set but no database URL is")
        #expect(try FileManager.default.contentsOfDirectory(atPath: stateDirectory).isEmpty, "no embedded database was created")
        // An empty password file (a secret not mounted yet) is refused, not replaced by PGPASSWORD or ~/.pgpass.
        let emptyPassword = setup.workflows + "/empty-password"
        FileManager.default.createFile(atPath: emptyPassword, contents: Data("\n".utf8), attributes: [.posixPermissions: 0o600])
        let emptyPasswordRun = await runUnwind(["list"], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_DATABASE_URL": setup.database.url, "UNWIND_DATABASE_PASSWORD_FILE": emptyPassword])
        Self.expectCleanFailure(emptyPasswordRun, status: 64, mentions: "UNWIND_DATABASE_PASSWORD_FILE: '\(emptyPassword)' is empty")
        // A malformed LISTEN URL names its variable.
        let badListen = await runUnwind(["worker"], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_DATABASE_URL": setup.database.url, "UNWIND_LISTEN_DATABASE_URL": "postgres://[::1"])
        Self.expectCleanFailure(badListen, status: 64, mentions: "UNWIND_LISTEN_DATABASE_URL: ")
        // A state directory that cannot be created says why and what to set, not "error 512".
        let blocker = try TestEnvironment.makeScratchDirectory("state-blocker") + "/file"
        FileManager.default.createFile(atPath: blocker, contents: Data())
        let unwritableState = await runCommand(
            TestEnvironment.binDirectory + "/unwind", ["list"],
            environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_STATE_DIR": blocker + "/state"],
            removingEnvironment: ["UNWIND_DATABASE_URL"])
        Self.expectCleanFailure(unwritableState, status: 5, mentions: "exists and is not a directory; set UNWIND_STATE_DIR to a directory you can write")
        #expect(try setup.workflowCount() == 2, "nothing else was submitted or pruned")
    }

    /// A scheduled workflow has not started: its status says so rather than counting time, and shows every input.
    @Test func aScheduledWorkflowsStatusSaysNotStarted() async throws {
        let setup = try Setup()
        let submitted = await setup.unwind(["submit", "notes", "--set", "account=later", "--set", "note=kept", "--not-before", "+1h"])
        let id = try #require(submitted.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, "\(submitted.combined)")
        let status = await setup.unwind(["status", id])
        #expect(status.stdout.contains("duration    not started"), "\(status.combined)")
        #expect(status.stdout.contains("account=later") && status.stdout.contains("note=kept"), "\(status.combined)")
    }

    /// `submit --wait` with no worker running would wait forever in silence; after a few seconds it says why.
    @Test func waitingWithNoWorkerSaysHowToStartOne() async throws {
        let setup = try Setup()
        let result = await runCommand("/usr/bin/timeout", [
            "-s", "KILL", "9", TestEnvironment.binDirectory + "/unwind", "submit", "notes", "--set", "account=lonely", "--wait", "--database-url", setup.database.url,
        ], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows])
        // KILL: the test runner's children may inherit a blocked SIGTERM.
        #expect(result.status == 137, "timeout ended it: \(result.combined)")
        #expect(result.stdout.contains("note: no live worker serves queue 'default'; start one with: unwind worker --queues default"), "\(result.combined)")
    }

    /// A fleet read from a pipe is read once: the whole-file check keeps its rows for the submission (it opened the
    /// file a second time and waited forever for a writer).
    @Test func aFleetFromAPipeIsCheckedAndSubmitted() async throws {
        let setup = try Setup()
        let fifo = setup.workflows + "/pipe.csv"
        let script = "mkfifo \"$1\" && { printf 'account\\npipe1\\npipe2\\n' > \"$1\" & } && exec /usr/bin/timeout -s KILL 60 \"$0\" submit notes --fleet \"$1\" --database-url \"$2\""
        let result = await runCommand("/bin/bash", ["-c", script, TestEnvironment.binDirectory + "/unwind", fifo, setup.database.url],
                                      environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows])
        #expect(result.status == 0 && result.stdout.contains("2 submitted"), "\(result.combined)")
        #expect(try setup.workflowCount() == 2)
    }

    @Test func aMillionRowFleetIsStreamedNotLoaded() async throws {
        // A minute of blocking work (writing 100 MB, waiting for the child): on a Dispatch thread, so that it never
        // holds one of the few threads of Swift's cooperative pool the other (async) tests need.
        let run = try await offThePool { try Self.millionRowFleet() }
        #expect(run.size > 90_000_000)
        let lines = run.output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "0", "\(run.output.combined)")
        let peakKiB = Int(lines.dropFirst().first ?? "") ?? .max
        #expect(peakKiB < 100 * 1024, "peak RSS \(peakKiB) KiB for a \(run.size / 1_000_000) MB file: streamed")
        #expect(run.output.stdout.contains("dry run: 1000000 valid, 0 invalid; nothing was submitted"))
        #expect(run.workflows == 0)
    }

    struct MillionRowRun: Sendable {
        var size: Int
        var output: CommandOutput
        var workflows: Int
    }

    /// Writes the file and runs the dry run; the checks happen in the test, on its own task.
    private static func millionRowFleet() throws -> MillionRowRun {
        let setup = try Setup()
        let path = setup.workflows + "/million.csv"
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw TestFailure(description: "cannot write \(path)") }
        try handle.write(contentsOf: Data("account,note\n".utf8))
        var chunk = ""
        for row in 0..<1_000_000 {
            chunk += "account-\(row),row \(row) of a very large fleet file that must never be held in memory whole\n"
            if row % 50_000 == 49_999 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.close()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0

        // Peak memory of the child, measured by the kernel (ru_maxrss, KiB) through a tiny Python wrapper.
        let measured = runCommand("/usr/bin/env", [
            "python3", "-c",
            "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                + "print(r.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stdout[-300:])",
            TestEnvironment.binDirectory + "/unwind", "submit", "notes", "--fleet", path, "--dry-run",
        ], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows])
        return MillionRowRun(size: size, output: measured, workflows: try setup.workflowCount())
    }

    @Test func sqlLookingAndControlCharacterValuesAreStoredVerbatimAndNeutralisedOnATerminal() async throws {
        let setup = try Setup()
        let hostile = "x'); DROP TABLE workflows; -- \u{1B}[2J\u{1B}]0;pwned\u{07}\u{1B}[31mred\r\nnext \u{202E}desrever\u{2066}"
        let input = try JSONSerialization.data(withJSONObject: ["account": "acme", "note": hostile])
        let inputFile = try setup.write("input.json", Array(input))
        let submitted = await setup.unwind(["submit", "notes", "--input", inputFile])
        #expect(submitted.status == 0, "\(submitted.combined)")
        let id = try #require(submitted.stdout.split(separator: "\n").first { $0.hasPrefix("submitted ") }?.split(separator: " ")[2])

        // Verbatim in the database and in JSON output; the tables still exist.
        let stored = try setup.database.connect().query("SELECT input->>'note' AS note FROM workflows").rows.first?.decode("note", as: String.self)
        #expect(stored == hostile)
        let json = await setup.unwind(["status", String(id), "--output", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(((document?["workflow"] as? [String: Any])?["input"] as? [String: Any])?["note"] as? String == hostile)

        // Tables never carry a raw escape, bell or carriage return to the terminal.
        for output in await [setup.unwind(["status", String(id)]), setup.unwind(["list"]), setup.unwind(["history", String(id)])] {
            #expect(output.status == 0, "\(output.combined)")
            #expect(!output.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\r" || $0 == "\u{202E}" || $0 == "\u{2066}" }, "\(output.stdout.debugDescription)")
        }
        await #expect(setup.unwind(["status", String(id)]).stdout.contains("DROP TABLE workflows"), "shown, not executed")

        // Over-long, wrongly typed and missing values are refused before anything is written.
        let before = try setup.workflowCount()
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=acme2", "--set", "note=" + String(repeating: "y", count: 201)]),
                                status: 64, mentions: "the maximum is 200")
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "account=acme3", "--set", "count=many"]), status: 64, mentions: "count")
        await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--set", "note=x"]), status: 64, mentions: "account")
        #expect(try setup.workflowCount() == before)
    }

    @Test func badWorkerDurationsAreRefusedBeforeTheWorkerRegisters() async throws {
        let setup = try Setup()
        await Self.expectCleanFailure(setup.unwind(["worker", "--batch-window", "5s"]), status: 64,
                                      mentions: "--batch-window: '5s' is longer than 1s")
        await Self.expectCleanFailure(setup.unwind(["worker", "--batch-window", "soon"]), status: 64,
                                      mentions: "--batch-window: 'soon' is not a duration")
        await Self.expectCleanFailure(setup.unwind(["worker", "--lease", "0s"]), status: 64,
                                      mentions: "--lease: '0s' is not a duration")
        // A negative value is read as the value (argument-parser took it for a flag and said it was missing).
        await Self.expectCleanFailure(setup.unwind(["worker", "--lease", "-1s"]), status: 64,
                                      mentions: "--lease: '-1s' is not a duration")
        await Self.expectCleanFailure(setup.unwind(["prune", "--older-than", "-1d"]), status: 64, mentions: "'-1d' is not an age")
        // Heartbeats renew a lease every third of it: a lease of 300ms expired under a healthy worker, whose steps
        // were then taken over and compensated.
        await Self.expectCleanFailure(setup.unwind(["worker", "--lease", "300ms"]), status: 64,
                                      mentions: "--lease: '300ms' is shorter than 2")
        let fromEnvironment = await runUnwind(["worker", "--database-url", setup.database.url], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_BATCH_WINDOW": "abc"])
        Self.expectCleanFailure(fromEnvironment, status: 64, mentions: "UNWIND_BATCH_WINDOW: 'abc' is not a duration")
        // A malformed cloud endpoint would fail (and compensate) every teardown the worker picked up.
        let badEndpoint = await runUnwind(["worker", "--database-url", setup.database.url], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows, "UNWIND_CLOUD_ENDPOINT": "not-a-url"])
        Self.expectCleanFailure(badEndpoint, status: 64, mentions: "UNWIND_CLOUD_ENDPOINT (cloud endpoint override) 'not-a-url' is not an http(s) URL")
        let workers = try setup.database.connect().query("SELECT count(*) AS n FROM workers").rows.first!.decode("n", as: Int.self)
        #expect(workers == 0)
    }

    @Test func malformedIDsGetAClearErrorAndChangeNothing() async throws {
        let setup = try Setup()
        for bad in ["'; DROP TABLE workflows; --", "%", "_", String(repeating: "a", count: 10_000), "\u{1B}[31m", "../../etc/passwd", ""] {
            for command in [["status", bad], ["history", bad], ["resume", bad, "--reason", "r"], ["cancel", bad, "--reason", "r"]] {
                let result = await setup.unwind(command)
                #expect(result.status == 64 || result.status == 3, "\(command): \(result.combined)")
                #expect(!result.combined.contains("Fatal error"), "\(command)")
                #expect(!result.stderr.unicodeScalars.contains("\u{1B}"), "the error does not echo a raw escape")
                #expect(result.stderr.split(separator: "\n").count <= 3, "one clear line: \(result.stderr.prefix(300))")
            }
        }
        #expect(try setup.workflowCount() == 0)
        #expect(try setup.database.connect().query("SELECT count(*) AS n FROM events").rows.first?.decode("n", as: Int.self) == 0)

        // A definition file's own text echoed by `workflows validate` (an unknown key, an action's name).
        let file = NSTemporaryDirectory() + "esc-\(UUID().uuidString.prefix(8)).yaml"
        try "name: esc\n\"\\e[2Jkey\": 1\nsteps:\n  - {id: a, action: \"test.noop\\e[31m\"}\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let validate = await runUnwind(["workflows", "validate", file])
        #expect(validate.status == 64, "\(validate.combined)")
        #expect(validate.stderr.contains("unknown key") && validate.stderr.contains("\\u{1b}[2Jkey"), "\(validate.stderr)")
        #expect(!validate.combined.unicodeScalars.contains("\u{1B}"), "validate does not echo a raw escape")
    }

    /// Values PostgreSQL cannot store as given (a NaN, a NUL character) are refused when the input is checked, so
    /// a fleet is never cut off half-way by the database; an idempotency key is never answered with another
    /// input's workflow.
    @Test func valuesTheDatabaseCannotHoldAndReusedKeysAreRefusedUpFront() async throws {
        let setup = try Setup()
        try """
            name: amounts
            inputs:
              account: {type: string, required: true}
              amount: {type: number, default: 1}
              region: {type: string, default: ""}
              flag: {type: bool, default: false}
              tenant: {type: string}
              extra: {type: object}
            concurrency_key: "{tenant}"
            steps:
              - {id: only, action: test.noop}
            """.write(toFile: setup.workflows + "/amounts.yaml", atomically: true, encoding: .utf8)
        // Nested deeper than a stored value may be: once wrapped in the input it could not be read back, and every
        // worker that claimed it with other workflows failed them all.
        let deep = String(repeating: #"{"a":"#, count: 300) + "1" + String(repeating: "}", count: 300)
        await Self.expectCleanFailure(setup.unwind(["submit", "amounts", "--set", "account=a", "--set", "extra=\(deep)"]), status: 64,
                                      mentions: "nested more than 256 levels deep")
        let deepFleet = try setup.write("deep.csv", Array("account,extra\nd1,\"\(deep.replacingOccurrences(of: "\"", with: "\"\""))\"\n".utf8))
        await Self.expectCleanFailure(setup.unwind(["submit", "amounts", "--fleet", deepFleet]), status: 64, mentions: "nested more than 256 levels deep")
        for value in ["nan", "inf", "-infinity", "1e999"] {
            await Self.expectCleanFailure(setup.unwind(["submit", "amounts", "--set", "account=a", "--set", "amount=\(value)"]), status: 64, mentions: "use a finite one")
        }
        let nul = try setup.write("nul.json", Array(#"{"account": "a\u0000b"}"#.utf8))
        await Self.expectCleanFailure(setup.unwind(["submit", "amounts", "--input", nul]), status: 64, mentions: "contains a NUL character")
        let badUTF8 = try setup.write("latin1.json", Array(#"{"account": ""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8))
        await Self.expectCleanFailure(setup.unwind(["submit", "amounts", "--input", badUTF8]), status: 64, mentions: "is not valid UTF-8")
        // Every bad --set at once; common spellings of a bool are taken.
        let several = await setup.unwind(["submit", "amounts", "--set", "account=a", "--set", "amount=abc", "--set", "flag=maybe", "--set", "nokey"])
        Self.expectCleanFailure(several, status: 64, mentions: "--set amount=abc")
        #expect(several.stderr.contains("--set flag=maybe") && several.stderr.contains("--set 'nokey'"), "\(several.combined)")
        #expect(try setup.workflowCount() == 0)
        await #expect(setup.unwind(["submit", "amounts", "--set", "account=a", "--set", "flag=on"]).status == 0)

        // A NUL in one fleet row: that row is invalid (in the dry run too), every other row is submitted.
        var lines = (0..<3).map { #"{"account": "n\#($0)"}"# }
        lines.insert(#"{"account": "bad", "region": "a\u0000b"}"#, at: 1)
        let fleet = try setup.write("nul.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
        let dry = await setup.unwind(["submit", "amounts", "--fleet", fleet, "--dry-run"])
        #expect(dry.status == 1 && dry.stdout.contains("3 valid, 1 invalid"), "\(dry.combined)")
        let before = try setup.workflowCount()
        let all = await setup.unwind(["submit", "amounts", "--fleet", fleet])
        #expect(all.status == 64 && all.stdout.contains("line 2\tinvalid\t'region': contains a NUL character"), "\(all.combined)")
        #expect(try setup.workflowCount() == before, "all or nothing")
        let run = await setup.unwind(["submit", "amounts", "--fleet", fleet, "--skip-invalid"])
        #expect(run.status == 1 && run.stdout.contains("line 2\tinvalid\t'region': contains a NUL character"), "\(run.combined)")
        #expect(run.stdout.contains("3 submitted, 0 already existed, 0 refused, 1 invalid"), "\(run.combined)")
        #expect(try setup.workflowCount() == 4)

        // One idempotency key, two inputs: the second is refused, in a fleet (as a repeat of the first row, before
        // anything is submitted) and in a single submission.
        let reused = try setup.write("reused.csv", Array("account,idempotency_key\nacc24,K1\nacc25,K1\n".utf8))
        let reusedRun = await setup.unwind(["submit", "amounts", "--fleet", reused, "--skip-invalid"])
        #expect(reusedRun.status == 1, "\(reusedRun.combined)")
        #expect(reusedRun.stdout.contains("line 3\tinvalid\tidempotency_key 'K1' is also line 2's"), "\(reusedRun.combined)")
        await Self.expectCleanFailure(setup.unwind(["submit", "amounts", "--set", "account=acc26", "--idempotency-key", "K1"]), status: 4,
                                      mentions: "idempotency key 'K1' was already used by workflow")
        await #expect(setup.unwind(["submit", "amounts", "--set", "account=acc24", "--idempotency-key", "K1"]).status == 0, "the same input is a repeat")
        #expect(try setup.workflowCount() == 5)

        // A concurrency key that renders empty (its only placeholder is absent) is no key: both are accepted.
        await #expect(setup.unwind(["submit", "amounts", "--set", "account=e1"]).status == 0)
        await #expect(setup.unwind(["submit", "amounts", "--set", "account=e2"]).status == 0)
    }

    /// Fleet files of odd shapes: a stray quote is a character, CR-only lines and an empty file are named.
    @Test func oddlyShapedFleetFiles() async throws {
        let setup = try Setup()
        let stray = try setup.write("stray.csv", Array("account,note\nqq01,ab\"c\nqq02,x\nqq03,\"say \"\"hi\"\"\"\n".utf8))
        let strayRun = await setup.unwind(["submit", "notes", "--fleet", stray])
        #expect(strayRun.status == 0 && strayRun.stdout.contains("3 submitted"), "\(strayRun.combined)")
        let notes = try setup.database.connect().query("SELECT input->>'note' AS note FROM workflows ORDER BY input->>'account'").rows.map { try $0.decode("note", as: String.self) }
        #expect(notes == ["ab\"c", "x", "say \"hi\""])
        let carriageReturns = try setup.write("cr.csv", Array("account,note\rqq05,x\rqq06,y\r".utf8))
        let crRun = await setup.unwind(["submit", "notes", "--fleet", carriageReturns])
        #expect(crRun.status == 64 && crRun.stdout.contains("lone carriage return"), "\(crRun.combined)")
        for (name, text) in [("empty.csv", ""), ("header.csv", "account,note\n"), ("empty.jsonl", "\n")] {
            let path = try setup.write(name, Array(text.utf8))
            await Self.expectCleanFailure(setup.unwind(["submit", "notes", "--fleet", path]), status: 64, mentions: "has no rows")
        }
        #expect(try setup.workflowCount() == 3)
    }

    /// Definition files of odd shapes: a byte-order mark, two files for one name, a FIFO, an empty concurrency
    /// key, a priority out of range.
    @Test func oddlyShapedDefinitionFiles() async throws {
        let setup = try Setup()
        let body = "inputs:\n  account: {type: string, required: true}\nsteps:\n  - {id: only, action: test.noop}\n"
        _ = try setup.write("bom.yaml", [0xEF, 0xBB, 0xBF] + Array(("name: bom\n" + body).utf8))
        await #expect(setup.unwind(["submit", "bom", "--set", "account=a"]).status == 0)
        _ = try setup.write("twice.yaml", Array(("name: twice\n" + body).utf8))
        _ = try setup.write("twice.yml", Array(("name: twice\n" + body).utf8))
        await Self.expectCleanFailure(setup.unwind(["submit", "twice", "--set", "account=a"]), status: 64, mentions: "is already defined in")
        // Named together, the two files are one catalog too; an empty directory is not silently "valid".
        await Self.expectCleanFailure(runUnwind(["workflows", "validate", setup.workflows + "/twice.yaml", setup.workflows + "/twice.yml"]),
                                      status: 64, mentions: "twice.yml: name: workflow name 'twice' is already defined in")
        let empty = try TestEnvironment.makeScratchDirectory("empty-workflows")
        await Self.expectCleanFailure(runUnwind(["workflows", "validate"], environment: ["UNWIND_WORKFLOWS_DIR": empty]),
                                      status: 64, mentions: "no workflow definitions (*.yaml, *.yml) in")
        #expect(mkfifo(setup.workflows + "/pipe.yaml", 0o600) == 0)
        let listed = await runUnwind(["workflows", "validate"], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows])
        #expect(listed.status != 0 && listed.combined.contains("pipe.yaml") && listed.combined.contains("is not a regular file"), "\(listed.combined)")
        try FileManager.default.removeItem(atPath: setup.workflows + "/pipe.yaml")
        _ = try setup.write("emptykey.yaml", Array(("name: emptykey\nconcurrency_key: \"\"\n" + body).utf8))
        _ = try setup.write("priority.yaml", Array("name: priority\nsteps:\n  - {id: only, action: test.noop, priority: 3000000000}\n".utf8))
        _ = try setup.write("intpattern.yaml", Array("name: intpattern\ninputs:\n  n: {type: int, pattern: \"^1$\"}\nsteps:\n  - {id: only, action: test.noop}\n".utf8))
        let validate = await runUnwind(["workflows", "validate"], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows])
        #expect(validate.combined.contains("inputs.n.pattern: applies only to string inputs"), "\(validate.combined)")
        #expect(validate.combined.contains("concurrency_key: is empty"), "\(validate.combined)")
        #expect(validate.combined.contains("steps[0].priority: must be between -1000000 and 1000000"), "\(validate.combined)")
        // A plan of a workflow that declares none is a usage error; a negative priority needs no '='.
        await Self.expectCleanFailure(runUnwind(["plan", "bom", "--set", "account=a"], environment: ["UNWIND_WORKFLOWS_DIR": setup.workflows]), status: 64, mentions: "declares no plan")
        await #expect(setup.unwind(["submit", "bom", "--set", "account=b", "--priority", "-1"]).status == 0)
        // An --input larger than the API would take.
        let huge = try setup.write("huge.json", Array(("{\"account\": \"" + String(repeating: "a", count: 1 << 20) + "\"}").utf8))
        await Self.expectCleanFailure(setup.unwind(["submit", "bom", "--input", huge]), status: 64, mentions: "is larger than 1024 KiB")
        #expect(try setup.workflowCount() == 2)
    }
}
