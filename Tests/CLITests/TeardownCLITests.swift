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
        let document = try await #require(try JSONSerialization.jsonObject(with: Data(unwind(["status", id, "--output", "json"]).stdout.utf8)) as? [String: Any])
        let output = (document["workflow"] as? [String: Any])?["output"] as? [String: Any]
        #expect(output?["fee"] as? Double == plannedFee, "the fee booked is the fee planned")
        #expect(output?["edition_after"] as? String == "BASIC")
        await #expect(unwind(["history", id]).stdout.contains("pivot_crossed"))
        #expect(try simulator.changedTwice(account: "demo").isEmpty)
    }
}
