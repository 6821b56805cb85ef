import Foundation
import LocalPostgres
import Logging
import Postgres
import ProcessSpawning

struct ChaosReport {
    var passed: Bool
    var text: String
    var json: String
}

/// One chaos run, from an empty scratch directory to the report.
final class ChaosRun {
    let options: ChaosCommand
    private var random: SplitMix
    private let started = Date()
    private var figures: [String: Int] = [:]
    private var notes: [String] = []
    private var crashes: [String] = []

    init(options: ChaosCommand) {
        self.options = options
        random = SplitMix(seed: options.randomSeed)
    }

    private var elapsed: Double { Date().timeIntervalSince(started) }

    private func say(_ message: String) {
        FileHandle.standardError.write(Data(String(format: "[%6.1fs] ", elapsed).appending(message + "\n").utf8))
    }

    func run() throws -> ChaosReport {
        let binDir = options.binDir ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let unwind = binDir + "/unwind", simulatorBinary = binDir + "/unwind-cloudsim"
        for binary in [unwind, simulatorBinary] where !FileManager.default.isExecutableFile(atPath: binary) {
            throw ChaosError("\(binary) not found; build first (swift build) or pass --bin-dir")
        }
        var template = Array("/tmp/unwind-chaos.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ChaosError("cannot create a scratch directory in /tmp") }
        let scratch = String(cString: made)
        chmod(scratch, 0o755)  // the PostgreSQL server user must reach its data directory inside
        say("scratch directory \(scratch)")

        var logger = Logger(label: "unwind.chaos")
        logger.logLevel = .warning
        let cluster = LocalPostgresCluster(stateDirectory: scratch + "/state", serverUser: geteuid() == 0 ? "unwind" : nil)
        var passed = false
        defer {
            _ = try? cluster.stop()
            if passed && !options.keep { try? FileManager.default.removeItem(atPath: scratch) } else { say("kept \(scratch) (logs, seed, database files)") }
        }
        let configuration = try cluster.ensureRunning(logger: logger)
        let databaseURL = "host=\(cluster.socketDirectory) user=\(LocalPostgresCluster.roleName) dbname=\(LocalPostgresCluster.databaseName)"

        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("UNWIND_") && !$0.key.hasPrefix("HUAWEICLOUD_") }
        environment["UNWIND_DATABASE_URL"] = databaseURL
        environment["UNWIND_STATE_DIR"] = scratch + "/state"
        environment["UNWIND_WORKFLOWS_DIR"] = Self.workflowsDirectory(binDir: binDir)
        let migrate = try runToCompletion(unwind, ["migrate"], environment: environment)
        guard migrate.status == 0 else { throw ChaosError("unwind migrate failed: \(migrate.output)") }

        let seedPath = scratch + "/seed.json"
        let accounts = try Fleet.generateSeed(simulator: simulatorBinary, accounts: options.accounts, randomSeed: options.randomSeed, path: seedPath)
        try Fleet.writeCredentials(accounts, path: scratch + "/credentials")
        try Fleet.writeFleetFile(accounts, path: scratch + "/fleet.jsonl")

        let simulator = try SimulatorControl(
            executable: simulatorBinary, seed: seedPath, timeScale: options.timeScale, logPath: scratch + "/simulator.log",
            environment: environment)
        defer { simulator.stop() }
        try simulator.admin("POST", "/_sim/faults", body: ["rules": faultRules()])

        environment["UNWIND_CLOUD_ENDPOINT"] = simulator.url
        environment["UNWIND_CREDENTIALS_FILE"] = scratch + "/credentials"
        environment["UNWIND_CLOUD_TIMEOUT"] = "3s"
        environment["UNWIND_CLOUD_POLL_INTERVAL"] = "250ms"
        environment["UNWIND_LOG_LEVEL"] = "info"

        var alive: [Child] = []
        // A run that stops early (an error, a failed submission) must not leave its workers running.
        defer { for child in alive where child.isRunning { child.signal(SIGKILL) } }
        var finishedWorkers: [Child] = []
        var workerNumber = 0
        func startWorker() throws {
            workerNumber += 1
            let child = try Child(
                name: "worker-\(workerNumber)", executable: unwind,
                arguments: ["worker", "--concurrency", "\(options.concurrency)", "--lease", "\(options.lease)s",
                            "--grace", "5s", "--poll-interval", "1s", "--worker-id", "chaos-worker-\(workerNumber)"],
                environment: environment, logPath: scratch + "/worker-\(workerNumber).log")
            alive.append(child)
            figures["worker processes started", default: 0] += 1
        }
        for _ in 0..<options.workers { try startWorker() }

        let submit = try runToCompletion(
            unwind, ["submit", "secmaster-full-teardown", "--fleet", scratch + "/fleet.jsonl", "--accept", "handling-fee", "--accept", "open-orders", "--as", "chaos"],
            environment: environment)
        guard submit.status == 0, submit.output.contains("\(accounts.count) submitted") else {
            throw ChaosError("fleet submission failed (status \(submit.status)): \(submit.output.suffix(2000))")
        }
        say("submitted \(accounts.count) teardowns; \(options.workers) workers; faults on (rate ×\(options.faultRate))")

        // The chaos loop: kill a random worker every --kill-every seconds (and start another), restart
        // PostgreSQL, freeze the simulator once; until every workflow has finished.
        let progress = try? PostgresConnection(configuration: configuration, logger: logger)
        var nextKill = Date().addingTimeInterval(options.killEvery)
        var nextRestart = Date().addingTimeInterval(5)
        var restarts = 0
        var paused = false
        var lastReport = Date.distantPast
        var unfinished = accounts.count
        while true {
            for child in alive where !child.isRunning {
                crashes.append("\(child.name) exited by itself (\(child.exit!)): \(child.log.suffix(1500))")
            }
            let exited = alive.filter { $0.exit != nil }
            alive.removeAll { $0.exit != nil }
            finishedWorkers += exited
            for _ in exited { try startWorker() }

            if Date() >= nextKill, !alive.isEmpty {
                let victim = alive.remove(at: Int(random.next() % UInt64(alive.count)))
                victim.signal(SIGKILL)
                victim.wait(timeout: 10)
                finishedWorkers.append(victim)
                figures["workers killed (SIGKILL)", default: 0] += 1
                try startWorker()
                nextKill = Date().addingTimeInterval(options.killEvery)
            }
            if restarts < options.pgRestarts, Date() >= nextRestart {
                say("restarting PostgreSQL (down for \(options.pgDown) s)")
                _ = try cluster.stop()
                usleep(UInt32(options.pgDown * 1_000_000))
                _ = try cluster.ensureRunning(logger: logger)
                restarts += 1
                figures["PostgreSQL restarts"] = restarts
                nextRestart = Date().addingTimeInterval(options.restartEvery)
            }
            if !paused, elapsed >= 10 {
                say("freezing the simulator for \(options.simPause) s")
                simulator.pause(seconds: options.simPause)
                paused = true
                figures["simulator pauses"] = 1
            }
            if let count = try? progress?.query(
                "SELECT count(*) AS n FROM workflows WHERE state IN ('scheduled', 'running', 'compensating')").rows.first?.decode("n", as: Int.self) {
                unfinished = count
            }
            if Date().timeIntervalSince(lastReport) >= 5 {
                say("\(accounts.count - unfinished)/\(accounts.count) finished; \(alive.count) workers; \(figures["workers killed (SIGKILL)"] ?? 0) killed")
                lastReport = Date()
            }
            if unfinished == 0 && restarts >= min(1, options.pgRestarts) && paused { break }
            if elapsed > options.timeout {
                notes.append("timed out after \(Int(options.timeout)) s with \(unfinished) workflows unfinished")
                break
            }
            usleep(100_000)
        }
        let wall = elapsed

        // Stop the survivors gracefully: each must drain and exit 0.
        for child in alive { child.signal(SIGTERM) }
        for child in alive {
            let exit = child.wait(timeout: 30)
            // A worker still starting up (no "worker started" yet) has no handler yet: SIGTERM ends it, harmlessly.
            let stillStarting = !child.log.contains("worker started")
            if exit != .status(0) && !(stillStarting && exit == .signal(SIGTERM)) { crashes.append("\(child.name) did not stop cleanly on SIGTERM (\(exit)): \(child.log.suffix(1500))") }
        }
        finishedWorkers += alive
        var waitedForDatabase = 0
        for child in finishedWorkers {
            let log = child.log
            if log.contains("database unavailable") { waitedForDatabase += 1 }
            for marker in ["Fatal error", "Segmentation fault", "Illegal instruction", "Current stack trace", "💣"] where log.contains(marker) {
                crashes.append("\(child.name) crashed (\(marker)): see \(child.logPath)")
            }
        }
        figures["workers that logged waiting for the database"] = waitedForDatabase

        // The invariants.
        var findings = Findings()
        let checker = InvariantChecker(accounts: accounts)
        let connection = try PostgresConnection(configuration: configuration, logger: logger)
        try checker.checkOutcomes(connection, into: &findings)
        try checker.checkHistory(connection, into: &findings)
        let ledger = try simulator.admin("GET", "/_sim/ledger") as? [String: Any]
        checker.checkLedger(ledger?["entries"] as? [[String: Any]] ?? [], into: &findings)
        checker.checkCloudState(try simulator.admin("GET", "/_sim/state") as? [String: Any] ?? [:], into: &findings)
        // Every fault the simulator injected, on reads and changes alike.
        for rule in (try simulator.admin("GET", "/_sim/faults") as? [String: Any])?["rules"] as? [[String: Any]] ?? [] {
            let fired = rule["fired"] as? Int ?? 0
            findings.count("injected faults (all calls)", by: fired)
            findings.count("injected faults: \(rule["kind"] as? String ?? "?")\((rule["status"] as? Int).map { " \($0)" } ?? "")", by: fired)
        }
        for crash in crashes { findings.violation("worker crashes other than the kills", crash) }
        for note in notes { findings.violation("run problems", note) }

        passed = findings.violationCount == 0
        return report(findings: findings, wall: wall, passed: passed)
    }

    private func faultRules() -> [[String: Any]] {
        let rate = options.faultRate
        guard rate > 0 else { return [] }
        return [
            ["api": "*", "kind": "error", "status": 503, "probability": min(1, 0.03 * rate)],
            ["api": "*", "kind": "error", "status": 500, "probability": min(1, 0.01 * rate)],
            ["api": "*", "kind": "error", "status": 429, "probability": min(1, 0.03 * rate)],
            ["api": "*", "kind": "reset", "probability": min(1, 0.02 * rate)],
            ["api": "*", "kind": "slow", "delay_seconds": 1.0, "probability": min(1, 0.03 * rate)],
            ["api": "*", "kind": "timeout", "probability": min(1, 0.01 * rate)],
            ["api": "*", "kind": "drop_after_apply", "probability": min(1, 0.05 * rate)],
            // "Asynchronous ECS jobs that fail once": a server's deletion job fails at most once.
            ["api": "ecs.delete_servers", "kind": "job_fail", "probability": min(1, 0.5 * rate), "once_per_resource": true],
        ]
    }

    private func report(findings: Findings, wall: Double, passed: Bool) -> ChaosReport {
        var all = figures.merging(findings.counters) { $1 }
        all["duplicates in effect"] = findings.counters["changes applied twice in the cloud"] ?? 0
        all["lost workflows"] = findings.counters["lost workflows (never finished)"] ?? 0
        let violationKinds = findings.violations.keys.sorted()
        var lines = [passed ? "chaos run PASSED" : "chaos run FAILED", String(format: "wall time             %.1f s", wall)]
        let width = max(24, all.keys.map(\.count).max() ?? 0)
        for key in all.keys.sorted() {
            lines.append(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(all[key]!)")
        }
        for kind in violationKinds {
            lines.append("VIOLATION \(kind): \(findings.counters[kind] ?? 0)")
            for example in findings.violations[kind] ?? [] { lines.append("  e.g. \(example)") }
        }
        var document: [String: Any] = ["passed": passed, "wall_seconds": (wall * 10).rounded() / 10, "figures": all,
                                       "options": ["accounts": options.accounts, "workers": options.workers,
                                                   "concurrency": options.concurrency, "kill_every_s": options.killEvery,
                                                   "lease_s": options.lease, "fault_rate": options.faultRate,
                                                   "random_seed": options.randomSeed]]
        document["violations"] = findings.violations
        let json = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ChaosReport(passed: passed, text: lines.joined(separator: "\n"), json: json)
    }

    /// workflows/ of the source tree this binary was built from (…/.build/debug → …/workflows), or of the
    /// current directory.
    /// `UNWIND_WORKFLOWS_DIR` when set (the workers get the run's own environment, not the caller's), else the
    /// checkout the binaries were built in, else `./workflows`.
    private static func workflowsDirectory(binDir: String) -> String {
        if let configured = ProcessInfo.processInfo.environment["UNWIND_WORKFLOWS_DIR"], !configured.isEmpty { return configured }
        var url = URL(fileURLWithPath: binDir)
        for _ in 0..<5 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.path + "/workflows/secmaster-full-teardown.yaml") { return url.path + "/workflows" }
        }
        return FileManager.default.currentDirectoryPath + "/workflows"
    }
}

/// A small deterministic generator, so that the same --random-seed kills the same sequence of workers.
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
