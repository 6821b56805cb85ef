import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Postgres

/// Measurement 7: a fleet of SecMaster teardowns through `unwind-cloudsim` with a per-call latency and a rate
/// limit, against the lower bound those impose.
///
/// The lower bound is the larger of
/// - the per-account critical path: the longest teardown of one account of each kind the seed generator makes,
///   run on their own first (so: measured on this machine with the same latency, not contended by the fleet), and
/// - the rate limit: per account and API, the mutating calls the fleet actually needed (from the simulator's
///   ledger) beyond the bucket's burst, at the configured rate.
extension BenchRunner {
    func measureTeardown() throws {
        let simulator = options.cloudsimPath
            ?? (URL(fileURLWithPath: options.executablePath).deletingLastPathComponent().path + "/unwind-cloudsim")
        guard FileManager.default.isExecutableFile(atPath: simulator) else {
            note("7 teardown at scale: \(simulator) not found (build it: swift build -c release --product unwind-cloudsim, or pass --cloudsim PATH); skipped")
            return
        }
        var walls: [Double] = [], bounds: [Double] = [], ratios: [Double] = [], cpu: [Double] = [], cpuRatios: [Double] = []
        var calls: [Double] = [], cpuPerCall: [Double] = []
        for round in 1...options.rounds {
            progress("teardown round \(round)/\(options.rounds): \(options.accounts) accounts, \(options.cloudLatencyMilliseconds) ms per call, "
                + "\(options.cloudRateLimitPerMinute) requests/min per account and API, \(options.workers) workers × concurrency \(options.teardownConcurrency)")
            let result = try teardownRound(simulator: simulator, round: round)
            walls.append(result.wall)
            bounds.append(result.bound)
            ratios.append(result.wall / max(result.bound, 1e-6))
            if let seconds = result.cpu?.total {
                cpu.append(seconds)
                cpuRatios.append(seconds / Double(Self.cores) / max(result.bound, 1e-6))
            }
            if let count = result.cloudCalls, count > 0 {
                calls.append(Double(count))
                if let seconds = result.cpu?.total { cpuPerCall.append(seconds * 1000 / Double(count)) }
            }
        }
        add(Figure(key: "teardown_wall_s", label: "7 teardown of \(options.accounts) accounts, wall", unit: "s", values: walls))
        add(Figure(key: "teardown_lower_bound_s", label: "7 teardown lower bound (critical path, rate limit)", unit: "s", values: bounds))
        add(Figure(key: "teardown_ratio", label: "7 teardown wall ÷ lower bound", unit: "ratio", values: ratios, note: "target ≤ 1.2"))
        // Not part of the bound: what the pass cost this machine. When the workers, the simulator and PostgreSQL
        // share its cores, their CPU time spread over every core is a floor of its own under the wall time.
        if !cpu.isEmpty {
            add(Figure(key: "teardown_cpu_s", label: "7 teardown CPU time (workers + simulator + PostgreSQL)", unit: "CPU-s", values: cpu))
            add(Figure(key: "teardown_cpu_per_core_ratio", label: "7 teardown CPU time ÷ cores ÷ lower bound", unit: "ratio", values: cpuRatios,
                       note: "≥ 1: the cores alone rule out the bound"))
        }
        if !calls.isEmpty {
            add(Figure(key: "teardown_cloud_calls", label: "7 teardown cloud calls in the fleet pass", unit: "calls", values: calls))
        }
        if !cpuPerCall.isEmpty {
            add(Figure(key: "teardown_cpu_ms_per_call", label: "7 teardown CPU time per cloud call (all processes)", unit: "ms", values: cpuPerCall))
        }
    }

    /// The cores the workers, the simulator and PostgreSQL share.
    private static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    private struct TeardownRound {
        var wall: Double
        var bound: Double
        /// CPU time of the fleet pass on this machine, when PostgreSQL runs here too.
        var cpu: PassCPU?
        /// Cloud calls the fleet pass made, when the simulator counted them (a latency rule is set).
        var cloudCalls: Int?
    }

    private func teardownRound(simulator: String, round: Int) throws -> TeardownRound {
        let directory = options.workDirectory + "/teardown-\(round)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let seedPath = directory + "/seed.json"
        let generated = try runCommand(simulator, [
            "generate-seed", "--accounts", String(options.accounts), "--random-seed", String(round), "--output", seedPath,
        ], environment: ProcessInfo.processInfo.environment, children: childRegistry)
        guard generated.status == 0 else { throw BenchError("teardown: unwind-cloudsim generate-seed failed: \(generated.output.suffix(400))") }
        guard var seed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: seedPath))) as? [String: Any],
              let accounts = seed["accounts"] as? [[String: Any]] else {
            throw BenchError("teardown: the generated seed has no accounts")
        }
        var settings = seed["settings"] as? [String: Any] ?? [:]
        settings["rate_limits"] = ["default": options.cloudRateLimitPerMinute]
        seed["settings"] = settings
        try JSONSerialization.data(withJSONObject: seed).write(to: URL(fileURLWithPath: seedPath))

        // One credentials profile per account, in a private file (keys never go on a command line).
        var credentials = ""
        var rows: [String] = []
        for (index, account) in accounts.enumerated() {
            guard let domain = account["domain_id"] as? String, let projects = account["project_ids"] as? [String],
                  let project = projects.first, let ak = account["access_key"] as? String,
                  let sk = account["secret_key"] as? String else {
                throw BenchError("teardown: account \(index) of the generated seed lacks ids or keys")
            }
            let region = account["region"] as? String ?? "cn-north-4"
            credentials += "[acct\(index)]\nak = \(ak)\nsk = \(sk)\n\n"
            let row: [String: Any] = ["domain_id": domain, "project_id": project, "region": region, "profile": "acct\(index)",
                                      // As in the chaos run: the unpaid-order accounts go as far as BSS's refusal.
                                      "accept": ["handling-fee", "open-orders"]]
            rows.append(String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self))
        }
        let credentialsPath = directory + "/credentials"
        _ = FileManager.default.createFile(atPath: credentialsPath, contents: Data(credentials.utf8), attributes: [.posixPermissions: 0o600])
        let probeCount = min(6, rows.count)  // the generator cycles through six kinds of account
        try (rows.prefix(probeCount).joined(separator: "\n") + "\n").write(toFile: directory + "/probe.jsonl", atomically: true, encoding: .utf8)
        try (rows.joined(separator: "\n") + "\n").write(toFile: directory + "/fleet.jsonl", atomically: true, encoding: .utf8)

        // Critical path: one account of each kind, on their own (fresh simulator, fresh workers).
        let probe = try teardownPass(
            simulator: simulator, seedPath: seedPath, credentialsPath: credentialsPath, fleet: directory + "/probe.jsonl",
            log: directory + "/cloudsim-probe.log")
        progress("teardown: critical path \(String(format: "%.2f", probe.longest)) s over \(probeCount) accounts alone (\(probe.states))")
        // The whole fleet at once, on a fresh simulator loaded from the same seed.
        let fleet = try teardownPass(
            simulator: simulator, seedPath: seedPath, credentialsPath: credentialsPath, fleet: directory + "/fleet.jsonl",
            log: directory + "/cloudsim-fleet.log")
        counts["teardown_accounts_finished_round\(round)"] = fleet.finished
        note("7 teardown round \(round): \(fleet.finished) accounts finished as \(fleet.states); alone, one of each kind: \(probe.states), "
            + "longest \(String(format: "%.2f", probe.longest)) s; busiest account×API rate-limit bucket needs \(String(format: "%.2f", fleet.rateBound)) s")
        if let cpu = fleet.cpu {
            let cores = Self.cores
            note("7 teardown round \(round): CPU time of the fleet pass: workers \(String(format: "%.1f", cpu.workers)) s, simulator "
                + "\(String(format: "%.1f", cpu.simulator)) s, PostgreSQL \(String(format: "%.1f", cpu.server)) s; spread over \(cores) cores, "
                + "\(String(format: "%.1f", cpu.total / Double(cores))) s of the \(String(format: "%.1f", fleet.wall)) s wall")
        }
        if let calls = fleet.cloudCalls {
            note("7 teardown round \(round): \(calls) cloud calls in the fleet pass, \(String(format: "%.1f", Double(calls) / Double(max(1, fleet.finished)))) per account")
        }
        return TeardownRound(wall: fleet.wall, bound: max(probe.longest, fleet.rateBound), cpu: fleet.cpu, cloudCalls: fleet.cloudCalls)
    }

    private struct TeardownPass {
        var wall: Double
        var longest: Double
        var finished: Int
        var states: String
        var rateBound: Double
        /// nil when PostgreSQL runs on another machine (its CPU time cannot be read here).
        var cpu: PassCPU?
        var cloudCalls: Int?
    }

    /// CPU seconds each party used during a pass, from /proc.
    private struct PassCPU {
        var workers: Double
        var simulator: Double
        var server: Double
        var total: Double { workers + simulator + server }
    }

    private func teardownPass(simulator: String, seedPath: String, credentialsPath: String, fleet: String, log: String) throws -> TeardownPass {
        let cloud = try ChildProcess(
            name: "unwind-cloudsim", executable: simulator,
            arguments: ["serve", "--seed", seedPath, "--port", "0", "--log-level", "warning",
                        "--time-scale", String(options.cloudTimeScale)],
            environment: ProcessInfo.processInfo.environment, logPath: log, registry: childRegistry)
        defer { cloud.stop(grace: .seconds(5)) }
        let endpoint = try waitForListening(cloud)
        try addLatency(endpoint: endpoint)
        var environment: [String: String] = [
            "UNWIND_CLOUD_ENDPOINT": endpoint, "UNWIND_BSS_ENDPOINT": endpoint,
            "UNWIND_CREDENTIALS_FILE": credentialsPath, "UNWIND_CLOUD_POLL_INTERVAL": "250ms",
        ]
        try connection.query(BenchSQL.truncateRuntime)
        let workers = try startWorkers(count: options.workers, concurrency: options.teardownConcurrency, environment: environment)
        defer { stopWorkers(workers) }
        let backend = try connection.backendPID
        func cpuNow() -> PassCPU? {
            guard let server = CPUUsage.serverSeconds(backendPID: backend), let simulator = CPUUsage.seconds(of: cloud.pid) else { return nil }
            return PassCPU(workers: workers.compactMap { CPUUsage.seconds(of: $0.0.pid) }.reduce(0, +), simulator: simulator, server: server)
        }
        let cpuBefore = cpuNow()
        let finished = try submitTeardownFleet(fleet, environment: &environment)
        _ = try waitUntilFinished(workers, what: "teardown")
        let cpu = cpuNow().flatMap { after in
            cpuBefore.map { PassCPU(workers: after.workers - $0.workers, simulator: after.simulator - $0.simulator, server: after.server - $0.server) }
        }
        return TeardownPass(
            wall: try connection.query(BenchSQL.teardownSpan).first?.decode("seconds", as: Double?.self) ?? 0,
            longest: try connection.query(BenchSQL.teardownLongest).first?.decode("seconds", as: Double?.self) ?? 0,
            finished: finished, states: try teardownStates(), rateBound: try rateLimitBound(endpoint: endpoint), cpu: cpu,
            cloudCalls: cloudCalls(endpoint: endpoint))
    }

    private func submitTeardownFleet(_ file: String, environment: inout [String: String]) throws -> Int {
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment.removeValue(forKey: "UNWIND_DATABASE_URL")
        processEnvironment.removeValue(forKey: "UNWIND_DATABASE_PASSWORD_FILE")
        if let password = options.adminConfiguration["password"] { processEnvironment["PGPASSWORD"] = password }
        for (key, value) in environment { processEnvironment[key] = value }
        let result = try runCommand(options.executablePath, [
            "submit", "secmaster-full-teardown", "--fleet", file, "--workflows-dir", options.workflowsDirectory,
            "--database-url", options.adminConfiguration.with(database: options.databaseName).conninfoWithoutPassword,
            "--output", "json",
        ], environment: processEnvironment, discardOutput: true, children: childRegistry)
        guard result.status == 0 else {
            throw BenchError("teardown: unwind submit --fleet exited \(result.status): \(result.output.suffix(400))")
        }
        return try count(BenchSQL.countWorkflows)
    }

    private func teardownStates() throws -> String {
        try connection.query(BenchSQL.statesSummary).rows.map { row in
            "\(try row.decode("n", as: Int.self)) \(try row.decode("state", as: String.self))"
        }.joined(separator: ", ")
    }

    /// The per-call latency as a `slow` rule on every API, through the admin API (`POST /_sim/faults`): the seed
    /// file's `faults` list refuses a `slow` rule's delay (unwind-cloudsim reports delay_seconds ≤ 0 for any value).
    private func addLatency(endpoint: String) throws {
        guard options.cloudLatencyMilliseconds > 0 else { return }
        guard let curl = locateProgram("curl", explicit: nil) else {
            throw BenchError("teardown: curl is needed to configure the simulator's latency (apt-get install curl), or pass --cloud-latency-ms 0")
        }
        let rule = "{\"api\":\"*\",\"kind\":\"slow\",\"delay_seconds\":\(Double(options.cloudLatencyMilliseconds) / 1000)}"
        let result = try runCommand(curl, [
            "-sS", "-f", "-X", "POST", "-H", "Content-Type: application/json", "-d", rule, endpoint + "/_sim/faults",
        ], environment: ProcessInfo.processInfo.environment, children: childRegistry)
        guard result.status == 0, result.output.contains("\"slow\"") else {
            throw BenchError("teardown: the simulator refused the latency rule: \(result.output.suffix(300))")
        }
    }

    private func waitForListening(_ process: ChildProcess) throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let log = (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                return String(line.dropFirst("listening on ".count)).trimmingCharacters(in: .whitespaces)
            }
            guard process.isRunning else { throw BenchError("unwind-cloudsim exited at start:\n\(process.logTail)") }
            usleep(20_000)
        }
        throw BenchError("unwind-cloudsim did not start listening within 30 s:\n\(process.logTail)")
    }

    /// Every cloud call went through the latency rule (`api: "*"`), which counts what it delayed: its `fired`, from
    /// `GET /_sim/faults`. nil without a latency rule.
    private func cloudCalls(endpoint: String) -> Int? {
        guard options.cloudLatencyMilliseconds > 0, let rules = try? adminList(endpoint, "faults", key: "rules") else { return nil }
        let counted = rules.filter { $0["api"] as? String == "*" && $0["kind"] as? String == "slow" }.compactMap { $0["fired"] as? Int }
        return counted.isEmpty ? nil : counted.reduce(0, +)
    }

    /// The list under `key` in the simulator's `GET /_sim/PATH` answer: nil when it cannot be fetched or has no such
    /// list; throws when the answer is not JSON.
    private func adminList(_ endpoint: String, _ path: String, key: String) throws -> [[String: Any]]? {
        guard let url = URL(string: endpoint + "/_sim/" + path), let data = try? Data(contentsOf: url) else { return nil }
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?[key] as? [[String: Any]]
    }

    /// Seconds the busiest (account, API) bucket needs beyond its burst: max(0, calls − limit) ÷ (limit per second).
    private func rateLimitBound(endpoint: String) throws -> Double {
        guard let entries = try adminList(endpoint, "ledger", key: "entries") else {
            note("7 teardown: the simulator's ledger could not be read; the rate-limit bound is left out")
            return 0
        }
        var calls: [String: Int] = [:]
        for entry in entries {
            let key = "\(entry["account"] as? String ?? "")|\(entry["api"] as? String ?? "")"
            calls[key, default: 0] += 1
        }
        let limit = Double(options.cloudRateLimitPerMinute)
        let busiest = calls.values.max() ?? 0
        // Buckets refill per simulated minute, i.e. time-scale times faster in real time.
        return max(0, Double(busiest) - limit) / (limit / 60 * options.cloudTimeScale)
    }
}
