import Foundation
import Testing
import UnwindTesting

/// The operator's path through a teardown, with the real `unwind` binary, a worker process and the simulator.
@Suite("unwind with the cloud simulator", .enabled(if: TestEnvironment.hasDatabase))
struct TeardownCLITests {
    @Test func planRefuseSubmitWaitStatusAndHistory() async throws {
        let simulator = try SimulatorProcess(seed: TestEnvironment.repositoryRoot + "/deploy/cloudsim/seeds/sample.json")
        let database = try await TestDatabase.create(migrated: true)
        let cloud = [
            "UNWIND_CLOUD_ENDPOINT": simulator.url, "UNWIND_CLOUD_POLL_INTERVAL": "200ms",
            "UNWIND_PROFILE_DEMO_AK": "DEMOACCESSKEY0000001", "UNWIND_PROFILE_DEMO_SK": "demoSecretKey0000000000000000000000000001",
            "UNWIND_WORKFLOWS_DIR": TestEnvironment.repositoryRoot + "/workflows", "UNWIND_CREDENTIALS_FILE": "/nonexistent",
        ]
        // At debug level the worker logs every cloud call (never a key).
        let worker = try WorkerProcess(databaseURL: database.url, arguments: ["--log-level", "debug"], environment: cloud)
        let account = ["--set", "domain_id=0a1b2c3d4e5f40718293a4b5c6d7e8f9", "--set", "project_id=1f2e3d4c5b6a47988796a5b4c3d2e1f0",
                       "--set", "region=cn-north-4", "--set", "profile=demo"]
        func unwind(_ arguments: [String]) async -> CommandOutput {
            await runUnwind(arguments + ["--database-url", database.url], environment: cloud)
        }

        let planOutput = await runUnwind(["plan", "secmaster-full-teardown", "--output", "json"] + account, environment: cloud)
        #expect(planOutput.status == 0, "\(planOutput.combined)")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(planOutput.stdout.utf8)) as? [String: Any])
        #expect((plan["acknowledgements"] as? [[String: Any]])?.first?["flag"] as? String == "handling-fee")
        let plannedFee = try #require((plan["totals"] as? [String: Any])?["fee"] as? Double)
        let table = await runUnwind(["plan", "secmaster-full-teardown"] + account, environment: cloud)
        #expect(table.stdout.contains("alternative: turn auto-renew off and let it expire"))
        #expect(table.stdout.contains("10 of 10 five-day full refunds left this year"))

        let refused = await unwind(["submit", "secmaster-full-teardown", "--log-level", "debug"] + account)
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("--accept handling-fee"))
        #expect(refused.stderr.contains("cloud request"), "submit's plan logs at the command's --log-level: \(refused.stderr)")
        #expect(try simulator.ledger(account: "demo").isEmpty, "nothing reached the cloud")

        let run = await unwind(["submit", "secmaster-full-teardown", "--accept", "handling-fee", "--wait"] + account)
        #expect(run.status == 0, "\(run.combined)\n\(worker.log)")
        #expect(run.stdout.contains("succeeded  8/8 steps"))
        let id = String(try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("submitted ") }).split(separator: " ")[2])
        // Each cloud call's log line names the workflow and the step that made it.
        let cloudCalls = worker.log.split(separator: "\n").filter { $0.contains("cloud request") }
        #expect(cloudCalls.contains { $0.contains("workflow.id=\(id)") && $0.contains("step.id=inventory") }, "\(worker.log.suffix(2000))")
        #expect(cloudCalls.contains { $0.contains("workflow.id=\(id)") && $0.contains("step.id=verify") })
        #expect(!worker.log.contains("demoSecretKey"))

        let status = await unwind(["status", String(id.prefix(8))])
        #expect(status.stdout.contains("input       "))
        #expect(status.stdout.contains("profile=demo"))
        #expect(status.stdout.contains("verify                            succeeded"))
        // The report at a glance: the money BSS booked, and a list shortened to its length.
        let outputLine = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("output      ") }, "\(status.stdout)")
        #expect(outputLine.contains("fee=\(plannedFee)") && outputLine.contains("currency=CNY") && outputLine.contains("orders=[2 items]"), "\(outputLine)")
        let document = try await #require(try JSONSerialization.jsonObject(with: Data(unwind(["status", id, "--output", "json"]).stdout.utf8)) as? [String: Any])
        let output = (document["workflow"] as? [String: Any])?["output"] as? [String: Any]
        #expect(output?["fee"] as? Double == plannedFee, "the fee booked is the fee planned")
        #expect(output?["edition_after"] as? String == "BASIC")
        await #expect(unwind(["history", id]).stdout.contains("pivot_crossed"))
        #expect(try simulator.changedTwice(account: "demo").isEmpty)
    }

    /// A credentials file that others can read waits for its owner to fix it: a worker's step retries until then, but
    /// `plan`, run by hand, says so at once instead of trying again for half a minute.
    @Test func planStopsAtOnceOnACredentialsFileOthersCanRead() async throws {
        let simulator = try SimulatorProcess(seed: TestEnvironment.repositoryRoot + "/deploy/cloudsim/seeds/sample.json")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unwind-creds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/credentials"
        try "[demo]\nak = DEMOACCESSKEY0000001\nsk = demoSecretKey0000000000000000000000000001\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o644)
        let plan = await runUnwind([
            "plan", "secmaster-full-teardown", "--set", "domain_id=0a1b2c3d4e5f40718293a4b5c6d7e8f9",
            "--set", "project_id=1f2e3d4c5b6a47988796a5b4c3d2e1f0", "--set", "region=cn-north-4", "--set", "profile=demo",
        ], environment: [
            "UNWIND_CLOUD_ENDPOINT": simulator.url, "UNWIND_CREDENTIALS_FILE": file,
            "UNWIND_WORKFLOWS_DIR": TestEnvironment.repositoryRoot + "/workflows",
        ])
        #expect(plan.status != 0)
        #expect(plan.stderr.contains("can be read by other users") && plan.stderr.contains("chmod 600"), "\(plan.stderr)")
        #expect(plan.stderr.contains("fix the cause, then try again"), "\(plan.stderr)")
        #expect(!plan.stderr.contains("(tried") && !plan.combined.contains("trying again"), "not tried again: \(plan.combined)")
        #expect(!plan.combined.contains("demoSecretKey"))
    }

    /// `plan --fleet`: every account of a file planned (read-only), in file order, with what each needs acknowledged.
    /// BSS's refund rules can be set to what the account's contract says; the plan follows them, and a bad value is
    /// refused before anything is read.
    @Test func theRefundRulesCanBeConfigured() async throws {
        let simulator = try SimulatorProcess(seed: TestEnvironment.repositoryRoot + "/deploy/cloudsim/seeds/sample.json")
        let cloud = [
            "UNWIND_CLOUD_ENDPOINT": simulator.url,
            "UNWIND_PROFILE_DEMO_AK": "DEMOACCESSKEY0000001", "UNWIND_PROFILE_DEMO_SK": "demoSecretKey0000000000000000000000000001",
            "UNWIND_WORKFLOWS_DIR": TestEnvironment.repositoryRoot + "/workflows", "UNWIND_CREDENTIALS_FILE": "/nonexistent",
        ]
        let account = ["--set", "domain_id=0a1b2c3d4e5f40718293a4b5c6d7e8f9", "--set", "project_id=1f2e3d4c5b6a47988796a5b4c3d2e1f0",
                       "--set", "region=cn-north-4", "--set", "profile=demo", "--output", "json"]
        func fee(_ extra: [String: String]) async throws -> Double {
            let output = await runUnwind(["plan", "secmaster-full-teardown"] + account, environment: cloud.merging(extra) { $1 })
            #expect(output.status == 0, "\(output.combined)")
            let plan = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
            return try #require((plan["totals"] as? [String: Any])?["fee"] as? Double)
        }
        let standard = try await fee([:])
        #expect(try await fee(["UNWIND_HANDLING_FEE_BASE": "paid"]) > standard, "the rate on what was paid, not on what remains")
        let few = await runUnwind(["plan", "secmaster-full-teardown"] + account.dropLast(2), environment: cloud.merging(["UNWIND_FULL_REFUNDS_PER_YEAR": "3"]) { $1 })
        #expect(few.stdout.contains("3 of 3 five-day full refunds left this year"), "\(few.combined)")
        let shortWindow = await runUnwind(["plan", "secmaster-full-teardown"] + account.dropLast(2), environment: cloud.merging(["UNWIND_FULL_REFUND_WINDOW_DAYS": "3"]) { $1 })
        #expect(shortWindow.stdout.contains("10 of 10 3-day full refunds left this year"), "the messages name the window set: \(shortWindow.combined)")
        for (key, value) in [("UNWIND_FULL_REFUNDS_PER_YEAR", "ten"), ("UNWIND_FULL_REFUND_WINDOW_DAYS", "-1"), ("UNWIND_HANDLING_FEE_BASE", "all")] {
            let refused = await runUnwind(["plan", "secmaster-full-teardown"] + account, environment: cloud.merging([key: value]) { $1 })
            #expect(refused.status == 64 && refused.stderr.contains(key), "\(refused.combined)")
        }
        #expect(try simulator.ledger(account: "demo").isEmpty, "plans change nothing")
    }

    @Test func planningAFleetShowsEachAccountAndWhatItNeeds() async throws {
        let seed = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
            TestEnvironment.repositoryRoot + "/deploy/cloudsim/seeds/all-kinds.json"))) as? [String: Any])
        let accounts = try #require(seed["accounts"] as? [[String: Any]])
        let simulator = try SimulatorProcess(seed: TestEnvironment.repositoryRoot + "/deploy/cloudsim/seeds/all-kinds.json")
        let (environment, rows) = Self.fleet(of: accounts, simulator: simulator)
        let directory = TestEnvironment.workDirectory + "/plan-fleet-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fleet = directory + "/accounts.csv", broken = directory + "/broken.csv"
        try (rows.joined(separator: "\n") + "\n").write(toFile: fleet, atomically: true, encoding: .utf8)
        try (rows.joined(separator: "\n") + "\nnot-an-id,p0000000000000000000000000000001,cn-north-4,p0\n")
            .write(toFile: broken, atomically: true, encoding: .utf8)

        // Rows in file order (planned 3 at a time), each with its totals and what it needs.
        let table = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", fleet, "--parallel", "3"], environment: environment)
        #expect(table.status == 0, "\(table.combined)")
        let lines = table.stdout.split(separator: "\n").filter { $0.hasPrefix("line ") }
        #expect(lines.map { String($0.split(separator: "\t")[0]) } == (2...7).map { "line \($0)" })
        #expect(lines[0].contains("\tready\tfee 0.00, refund 2400.00 CNY"), "the fresh account: \(lines[0])")
        #expect(lines[1].contains("\tneeds acknowledgement\tfee 330.34") && lines[1].contains("--accept handling-fee ("))
        #expect(lines[5].contains("--accept open-orders ("), "the account with an unpaid order: \(lines[5])")
        #expect(table.stdout.contains("6 row(s): 2 ready, 4 need an acknowledgement (--accept handling-fee: 4, --accept open-orders: 1), 0 invalid, 0 failed"))
        #expect(table.stdout.contains("totals of the planned rows: fee 521.85, refund 7096.64 CNY"))

        // --check: 4 while a row lacks an acknowledgement; the rows' own and --accept's count.
        let checked = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", fleet, "--check", "--accept", "handling-fee"], environment: environment)
        #expect(checked.status == 4, "\(checked.combined)")
        #expect(checked.stdout.contains("5 ready, 1 need an acknowledgement (--accept open-orders: 1)"))
        let everything = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", fleet, "--check", "--accept", "handling-fee,open-orders",
                                          "--output", "json"], environment: environment)
        #expect(everything.status == 0, "\(everything.combined)")
        let objects = try everything.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["result"] as? String } == Array(repeating: "ready", count: 6))
        #expect(((objects[1]["plan"] as? [String: Any])?["totals"] as? [String: Any])?["fee"] as? Double == 330.34)
        #expect(everything.stderr.contains("6 row(s): 6 ready"), "the summary stays off standard output: \(everything.stderr)")

        // A row's own accept column adds to --accept (it used to replace it), and an `accept` in the input counts
        // like --accept for one account too.
        let withColumn = directory + "/with-accept.csv"
        try ("domain_id,project_id,region,profile,accept\n" + rows[1...].map { $0 + ",open-orders" }.joined(separator: "\n") + "\n")
            .write(toFile: withColumn, atomically: true, encoding: .utf8)
        let unioned = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", withColumn, "--check", "--accept", "handling-fee"], environment: environment)
        #expect(unioned.status == 0 && unioned.stdout.contains("6 row(s): 6 ready"), "\(unioned.combined)")
        let oldAccount = ["--set", "domain_id=\(accounts[1]["domain_id"]!)", "--set", "project_id=\((accounts[1]["project_ids"] as! [String])[0])",
                          "--set", "region=cn-north-4", "--set", "profile=p1"]
        let inInput = await runUnwind(["plan", "secmaster-full-teardown", "--check", "--set", "accept=handling-fee"] + oldAccount, environment: environment)
        #expect(inInput.status == 0 && inInput.stdout.contains("acknowledgement given: --accept handling-fee"), "\(inInput.combined)")

        // An invalid row is reported with the reason submit would give, and makes the exit status 1.
        let withBadRow = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", broken], environment: environment)
        #expect(withBadRow.status == 1)
        #expect(withBadRow.stdout.contains("line 8\tinvalid\t-\t'domain_id': value \"not-an-id\" does not match pattern"))
        // A row repeating an earlier one (the same account) is invalid, as submit finds it, and its money is not
        // counted twice in the totals.
        let repeated = directory + "/repeated.csv"
        try ([rows[0], rows[2], rows[2]].joined(separator: "\n") + "\n").write(toFile: repeated, atomically: true, encoding: .utf8)
        try ([rows[0], rows[2]].joined(separator: "\n") + "\n").write(toFile: directory + "/once.csv", atomically: true, encoding: .utf8)
        let single = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", directory + "/once.csv", "--accept", "handling-fee"], environment: environment)
        let twice = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", repeated, "--accept", "handling-fee"], environment: environment)
        #expect(twice.status == 1, "\(twice.combined)")
        #expect(twice.stdout.contains("line 3\tinvalid\t-\tthe same input as line 2"), "\(twice.stdout)")
        func totals(_ output: String) -> String? { output.split(separator: "\n").last { $0.contains("totals of the planned rows") }.map { String($0.split(separator: ";").last ?? "") } }
        #expect(totals(twice.stdout) != nil && totals(twice.stdout) == totals(single.stdout), "\(twice.stdout)\n\(single.stdout)")
        // A misspelt acknowledgement is one error before any row is read, with the likely spelling.
        let typo = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", fleet, "--accept", "handling-fees"], environment: environment)
        #expect(typo.status == 64)
        #expect(typo.stdout.isEmpty)
        #expect(typo.stderr.contains("element \"handling-fees\" is not one of \"handling-fee\", \"open-orders\", \"release-attachments\"; did you mean 'handling-fee'?"))
        // A reader that goes away (`| head -1`) ends the command by SIGPIPE, as in any pipeline: no stack dump.
        let piped = await runCommand("/bin/bash", ["-c", "\"$0\" plan secmaster-full-teardown --fleet \"$1\" --parallel 1 | head -c 1 >/dev/null; echo \"status ${PIPESTATUS[0]}\"",
                                             TestEnvironment.binDirectory + "/unwind", fleet], environment: environment)
        #expect(piped.stdout.contains("status 141"), "\(piped.combined)")
        #expect(!piped.stderr.contains("Fatal error"), "\(piped.stderr)")
        // Planning reads only: nothing in any account changed.
        for account in accounts { #expect(try simulator.ledger(account: account["name"] as! String).isEmpty) }
    }

    /// A row whose teardown would stop at preflight whatever it acknowledges (an expired quota still listed blocks
    /// a live package) is `blocked`, with the reason: not ready, and not something `--accept` can fix.
    @Test func planningAFleetCountsABlockedRowApart() async throws {
        var seed = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
            TestEnvironment.repositoryRoot + "/deploy/cloudsim/seeds/all-kinds.json"))) as? [String: Any])
        var accounts = try #require(seed["accounts"] as? [[String: Any]])
        accounts = Array(accounts.prefix(2))
        accounts[0]["secmaster"] = (accounts[0]["secmaster"] as! [[String: Any]]).map { item in
            var item = item
            if item["kind"] as? String == "quota" { item["purchased"] = "-370d" }  // a one-year term: expired days ago, within BSS's retention period
            return item
        }
        seed["accounts"] = accounts
        let directory = try TestEnvironment.makeScratchDirectory("plan-blocked")
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: directory + "/seed.json"))
        let simulator = try SimulatorProcess(seed: directory + "/seed.json")
        let (environment, rows) = Self.fleet(of: accounts, simulator: simulator)
        let fleet = directory + "/accounts.csv"
        try (rows.joined(separator: "\n") + "\n").write(toFile: fleet, atomically: true, encoding: .utf8)

        let table = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", fleet, "--accept", "handling-fee"], environment: environment)
        #expect(table.status == 0, "\(table.combined)")
        let lines = table.stdout.split(separator: "\n").filter { $0.hasPrefix("line ") }
        #expect(lines.count == 2 && lines[0].contains("\tblocked\t") && lines[0].contains("will stop at preflight"), "\(table.stdout)")
        #expect(lines.count == 2 && lines[1].contains("\tready\t"), "\(table.stdout)")
        #expect(table.stdout.contains("2 row(s): 1 ready, 0 need an acknowledgement, 1 blocked (would stop before any change; see their lines), 0 invalid, 0 failed"), "\(table.stdout)")
        let checked = await runUnwind(["plan", "secmaster-full-teardown", "--fleet", fleet, "--accept", "handling-fee", "--check", "--output", "json"],
                                      environment: environment)
        #expect(checked.status == 4, "\(checked.combined)")
        #expect(checked.stdout.split(separator: "\n").first?.contains(#""result":"blocked""#) == true, "\(checked.stdout)")
        let single = await runUnwind(["plan", "secmaster-full-teardown", "--set", "domain_id=\(accounts[0]["domain_id"]!)",
                                      "--set", "project_id=\((accounts[0]["project_ids"] as! [String])[0])", "--set", "region=cn-north-4",
                                      "--set", "profile=p0", "--check"], environment: environment)
        #expect(single.status == 4 && single.stdout.contains("BLOCKED: the teardown will stop at preflight"), "\(single.combined)")
    }

    /// The environment (one credentials profile per seed account, `p0`, `p1`, …) and the CSV rows of a fleet file
    /// naming every account of a simulator seed.
    static func fleet(of accounts: [[String: Any]], simulator: SimulatorProcess) -> (environment: [String: String], rows: [String]) {
        var environment = ["UNWIND_CLOUD_ENDPOINT": simulator.url, "UNWIND_CREDENTIALS_FILE": "/nonexistent",
                           "UNWIND_WORKFLOWS_DIR": TestEnvironment.repositoryRoot + "/workflows"]
        var rows = ["domain_id,project_id,region,profile"]
        for (index, account) in accounts.enumerated() {
            environment["UNWIND_PROFILE_P\(index)_AK"] = account["access_key"] as? String
            environment["UNWIND_PROFILE_P\(index)_SK"] = account["secret_key"] as? String
            rows.append("\(account["domain_id"]!),\((account["project_ids"] as! [String])[0]),cn-north-4,p\(index)")
        }
        return (environment, rows)
    }
}
