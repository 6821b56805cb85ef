import Foundation
import Testing
import UnwindBench
import UnwindTesting

/// `unwind bench` end to end with tiny sizes: its bookkeeping, never its timings.
@Suite("unwind bench", .enabled(if: TestEnvironment.hasDatabase))
struct BenchCommandTests {
    @Test("every measurement runs at tiny sizes; all work completes, counts add up, the JSON has the keys")
    func tinyRun() async throws {
        let directory = try TestEnvironment.makeScratchDirectory("bench")
        let json = directory + "/bench.json"
        let databaseName = "unwind_bench_" + UUID().uuidString.prefix(8).lowercased()
        let (workflows, steps, fleet, history, accounts) = (20, 3, 50, 100, 7)
        let result = await runUnwind([
            "bench", "--allow-debug", "--database-url", TestEnvironment.url(database: "postgres"),
            "--database-name", databaseName, "--workflows", String(workflows), "--steps", String(steps),
            "--workers", "1", "--concurrency", "4", "--teardown-concurrency", "3", "--rounds", "1", "--history", String(history),
            "--fleet", String(fleet), "--accounts", String(accounts), "--latency-workflows", "5",
            "--memory-workflows", "10", "--pgbench-seconds", "1", "--crash-lease", "2s", "--cloud-latency-ms", "1",
            "--cloud-time-scale", "30", "--workflows-dir", TestEnvironment.repositoryRoot + "/workflows",
            "--cloudsim", TestEnvironment.binDirectory + "/unwind-cloudsim", "--json", json,
        ])
        #expect(result.status == 0, "\(result.combined)")

        let data = try Data(contentsOf: URL(fileURLWithPath: json))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["steps_per_s", "workflows_per_s", "commits_per_step", "pgbench_tps", "steps_per_pgbench_tps",
                    "history_ratio", "fleet_submit_s", "crash_recovery_s", "worker_rss_mb_c8", "worker_rss_mb_c64",
                    "teardown_wall_s", "teardown_lower_bound_s", "latency_step_step_low_p50_ms",
                    "latency_submit_start_low_p50_ms", "latency_step_step_saturated_p99_ms"] {
            #expect(object[key] is Double || object[key] is Int, "missing \(key) in \(object.keys.sorted())")
        }
        // The test's PostgreSQL runs on this machine, so the teardown pass's CPU time is measured.
        let teardownCPU = try #require(object["teardown_cpu_s"] as? Double, "missing teardown_cpu_s in \(object.keys.sorted())")
        #expect(teardownCPU > 0)
        #expect((object["teardown_cpu_per_core_ratio"] as? Double ?? 0) > 0)
        // The simulator's latency rule counts every call: an account's teardown makes a dozen or more.
        let calls = try #require(object["teardown_cloud_calls"] as? Double ?? (object["teardown_cloud_calls"] as? Int).map(Double.init))
        #expect(calls >= Double(accounts * 10), "\(calls) cloud calls for \(accounts) accounts")
        #expect((object["teardown_cpu_ms_per_call"] as? Double ?? 0) > 0)
        let parameters = try #require(object["parameters"] as? [String: Any])
        #expect(parameters["teardown_concurrency"] as? Double == 3 || parameters["teardown_concurrency"] as? Int == 3, "\(parameters)")
        let machine = try #require(object["machine"] as? [String: Any])
        #expect(machine["cores"] as? Int ?? 0 >= 1)
        let settings = try #require(machine["settings"] as? [String: String])
        #expect(settings["fsync"] != nil && settings["synchronous_commit"] != nil)

        let counts = try #require(object["counts"] as? [String: Int])
        #expect(counts["throughput_workflows_succeeded"] == workflows)
        #expect(counts["throughput_steps_succeeded"] == workflows * steps)
        #expect(counts["history_workflows_succeeded"] == workflows)
        #expect(counts["history_steps_succeeded"] == workflows * steps)
        #expect(counts["history_workflows"] == history)
        #expect(counts["latency_workflows_succeeded"] == 5)
        #expect(counts["fleet_workflows_stored"] == fleet)
        #expect(counts["crash_steps_restarted"] == 1)
        #expect(counts["memory_c8_steps_succeeded"] == 10 * steps)
        #expect(counts["memory_c64_steps_succeeded"] == 10 * steps)
        #expect(counts["teardown_accounts_finished_round1"] == accounts)

        // The table names every figure and the scratch database is gone afterwards.
        #expect(result.stdout.contains("engine throughput, steps"))
        #expect(result.stdout.contains("pgbench"))
        let left = await runCommand("/usr/bin/env", ["psql", TestEnvironment.url(database: "postgres"), "-Atc",
                                               "SELECT count(*) FROM pg_database WHERE datname = '\(databaseName)'"])
        if left.status == 0 { #expect(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0") }
    }

    @Test("SIGINT stops the workers and drops the scratch database, exit 130")
    func interrupted() async throws {
        let databaseName = "unwind_bench_" + UUID().uuidString.prefix(8).lowercased()
        let bench = try UnwindProcess(command: "bench", databaseURL: TestEnvironment.url(database: "postgres"), arguments: [
            "--allow-debug", "--database-name", databaseName, "--only", "throughput", "--workflows", "50000",
            "--workers", "2", "--concurrency", "2", "--rounds", "3",
        ])
        // Interrupt once both workers run (their command lines name the scratch database).
        func workers() async -> Int {
            let found = await runCommand("/usr/bin/env", ["pgrep", "-f", "worker .*dbname='\(databaseName)'"])
            return found.stdout.split(separator: "\n").count
        }
        let deadline = Date().addingTimeInterval(60)
        while await workers() < 2 {
            #expect(Date() < deadline, "the bench's workers did not start: \(bench.log)")
            if Date() > deadline { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        bench.signal(SIGINT)
        let status = try await bench.waitForExit(timeout: 60)
        #expect(status == 130, "\(bench.log)")
        #expect(bench.log.contains("stopped 2 child processes, dropped the scratch database \(databaseName)"), "\(bench.log)")
        #expect(await workers() == 0, "no worker is left running")
        let left = await runCommand("/usr/bin/env", ["psql", TestEnvironment.url(database: "postgres"), "-Atc",
                                                     "SELECT count(*) FROM pg_database WHERE datname = '\(databaseName)'"])
        #expect(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test("out-of-range sizes are refused before anything starts, naming the flag")
    func refusesBadSizes() async {
        let result = await runUnwind([
            "bench", "--allow-debug", "--database-url", "postgres://nobody@127.0.0.1:1/none",
            "--teardown-concurrency", "5000", "--concurrency", "0",
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--teardown-concurrency must be between 1 and 1024"), "\(result.stderr)")
        #expect(result.stderr.contains("--concurrency must be between 1 and 1024"), "\(result.stderr)")
        #expect(!result.stderr.contains("cannot connect"), "nothing was started")
    }

    @Test("a debug build refuses to run without --allow-debug and says how to build release")
    func refusesDebug() async {
        let result = await runUnwind(["bench", "--database-url", "postgres://nobody@127.0.0.1:1/none"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("swift build -c release"))
    }
}

@Suite("bench figures")
struct BenchFigureTests {
    @Test("median and range over rounds")
    func median() async {
        #expect(Figure(key: "k", label: "l", unit: "u", values: [3, 1, 2]).median == 2)
        #expect(Figure(key: "k", label: "l", unit: "u", values: [4, 1, 2, 3]).median == 2.5)
        let figure = Figure(key: "k", label: "l", unit: "u", values: [5, 1, 9])
        #expect(figure.minimum == 1 && figure.maximum == 9)
    }

    @Test("--only accepts numbers and names")
    func only() async {
        #expect(BenchOptions.Measurement(text: "3") == .pgbench)
        #expect(BenchOptions.Measurement(text: " Fleet") == .fleet)
        #expect(BenchOptions.Measurement(text: "9") == nil)
    }
}
