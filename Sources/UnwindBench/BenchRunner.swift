import Foundation
import Logging
import Postgres
import UnwindCore
import UnwindEngine
import UnwindStore

/// Runs the measurements of issue 8 against a scratch database, through real `unwind worker` processes and the
/// engine's public API only, so it measures whatever engine the binary contains.
public final class BenchRunner {
    let options: BenchOptions
    let logger: Logger
    let progress: @Sendable (String) -> Void

    private var benchConfiguration: PostgresConfiguration
    private var pool: PostgresConnectionPool?
    private var store: WorkflowStore?
    /// The benchmark's own observing connection (polls and measurement queries).
    private var observer: PostgresConnection?
    private var children: [ChildProcess] = []
    /// Every process the run started, readable from a signal handler (see ``interrupter``).
    let childRegistry = ChildRegistry()
    private var figures: [Figure] = []
    private var notes: [String] = []
    /// What was verified (workflows and steps that succeeded, rows stored), for the JSON and the tests.
    var counts: [String: Int] = [:]
    private var failures: [String] = []
    private var workerSequence = 0
    private var noopDefinition: WorkflowDefinition
    private var crashDefinition: WorkflowDefinition

    public init(options: BenchOptions, logger: Logger, progress: @escaping @Sendable (String) -> Void) throws {
        self.options = options
        self.logger = logger
        self.progress = progress
        benchConfiguration = options.adminConfiguration.with(database: options.databaseName)
        benchConfiguration.setOption("application_name", "unwind-bench")
        let actions: Set<String> = ["test.noop", "test.sleep", "test.undo"]
        do {
            noopDefinition = try WorkflowDefinitionLoader.load(
                yaml: Self.noopYAML(steps: options.steps), file: "bench-noop (generated)", knownActions: actions)
            crashDefinition = try WorkflowDefinitionLoader.load(
                yaml: Self.crashYAML, file: "bench-crash (generated)", knownActions: actions)
        } catch {
            throw BenchError("the benchmark's generated workflow definitions are invalid: \(error)")
        }
    }

    static func noopYAML(steps: Int) -> String {
        var yaml = """
            name: bench-noop
            description: Benchmark workflow, no-op steps in sequence.
            inputs:
              n: {type: int, default: 0}
            steps:

            """
        for index in 1...steps {
            yaml += "  - id: s\(index)\n    action: test.noop\n"
        }
        return yaml
    }

    /// One step that sleeps far longer than the measurement, so it is surely running when its worker is killed.
    static let crashYAML = """
        name: bench-crash
        description: Benchmark workflow, one long step for the crash-recovery figure.
        inputs:
          sleep_ms: {type: int, default: 3600000}
        defaults:
          retry: {max_attempts: 10, initial_interval: 100ms}
          timeout: 2h
        steps:
          - id: hold
            action: test.sleep

        """

    /// What a SIGINT/SIGTERM handler calls to stop this run from another thread.
    public var interrupter: BenchInterrupter {
        BenchInterrupter(
            children: childRegistry, adminConfiguration: options.adminConfiguration, databaseName: options.databaseName,
            workDirectory: options.workDirectory, keepFiles: options.keepFiles, logger: logger)
    }

    // MARK: - Running

    public func run() throws -> BenchReport {
        let started = Date()
        try FileManager.default.createDirectory(atPath: options.workDirectory, withIntermediateDirectories: true)
        defer { cleanUp() }
        try prepareDatabase()
        let machine = try machineInfo()
        progress("machine: \(machine.cpuModel), \(machine.cores) cores; PostgreSQL \(machine.postgresVersion)")

        let only = options.only
        var emptyThroughput: [Double] = []
        // A measurement that fails is reported and the others still run; the command then exits non-zero.
        func attempt(_ measurement: BenchOptions.Measurement, _ body: () throws -> Void) {
            do {
                try body()
            } catch {
                failures.append("\(measurement.rawValue) \(measurement.name): \(error)")
                note("\(measurement.rawValue) \(measurement.name) FAILED: \(error)")
                for child in children { child.stop(grace: .seconds(5)) }
                children.removeAll()
            }
        }
        if !only.isDisjoint(with: [.throughput, .latency, .pgbench, .history]) {
            attempt(.throughput) { emptyThroughput = try measureThroughput() }
        }
        if only.contains(.latency) { attempt(.latency) { try measureLowLoadLatency() } }
        if only.contains(.pgbench) { attempt(.pgbench) { try measurePgbench(stepsPerSecond: emptyThroughput) } }
        if only.contains(.fleet) { attempt(.fleet) { try measureFleet() } }
        if only.contains(.crash) { attempt(.crash) { try measureCrashRecovery() } }
        if only.contains(.memory) { attempt(.memory) { try measureMemory() } }
        if only.contains(.teardown) { attempt(.teardown) { try measureTeardown() } }
        if only.contains(.history), !emptyThroughput.isEmpty { attempt(.history) { try measureHistory(baseline: emptyThroughput) } }

        let parameters: [String: Double] = [
            "workflows": Double(options.workflows), "steps": Double(options.steps), "workers": Double(options.workers),
            "concurrency": Double(options.concurrency), "rounds": Double(options.rounds),
            "history_workflows": Double(options.historyWorkflows), "fleet_rows": Double(options.fleetRows),
            "accounts": Double(options.accounts), "latency_workflows": Double(options.latencyWorkflows),
            "pgbench_seconds": Double(options.pgbenchSeconds), "memory_workflows": Double(options.memoryWorkflows),
            "teardown_concurrency": Double(options.teardownConcurrency), "cloud_latency_ms": Double(options.cloudLatencyMilliseconds),
            "cloud_rate_limit_per_min": Double(options.cloudRateLimitPerMinute),
        ]
        return BenchReport(
            machine: machine, parameters: parameters, figures: figures, notes: notes, counts: counts, failures: failures, startedAt: started,
            finishedAt: Date())
    }

    func add(_ figure: Figure) {
        figures.append(figure)
        progress("\(figure.label): \(BenchReport.format(figure.median)) [\(BenchReport.format(figure.minimum))–\(BenchReport.format(figure.maximum))] \(figure.unit)")
    }

    func note(_ text: String) {
        notes.append(text)
        progress("note: \(text)")
    }

    // MARK: - Database

    private func prepareDatabase() throws {
        let name = options.databaseName
        let admin = try adminConnection()
        if let problem = Self.recreate(name, on: admin) {
            throw BenchError("cannot create the scratch database '\(name)' as \(options.adminConfiguration["user"] ?? "the configured user"): "
                + "\(problem); connect as a superuser or a role with CREATEDB (--database-url)")
        }
        progress("created database \(name); migrating")
        let connection = try PostgresConnection(configuration: benchConfiguration, logger: logger)
        _ = try Migrator.embedded(logger: logger).migrate(connection: connection)
        observer = connection
        let pool = PostgresConnectionPool(configuration: benchConfiguration, maximumConnections: 4, logger: logger)
        self.pool = pool
        store = WorkflowStore(pool: pool, logger: logger)
    }

    private func adminConnection() throws -> PostgresConnection {
        let result = Result { () throws(PostgresError) -> PostgresConnection in
            try PostgresConnection(configuration: options.adminConfiguration, logger: logger)
        }
        switch result {
        case .success(let connection):
            return connection
        case .failure(let error):
            throw BenchError("cannot connect to \(options.adminConfiguration.redactedDescription): \(error.message); "
                + "unwind bench needs a superuser or database owner allowed to create the scratch database '\(options.databaseName)'")
        }
    }

    /// Drops and creates the database; returns the server's complaint, if any.
    private static func recreate(_ name: String, on admin: PostgresConnection) -> String? {
        let result = Result { () throws(PostgresError) in
            try admin.query(BenchSQL.terminateSessions, [name])
            try admin.executeScript(BenchSQL.dropDatabase(name), name: "bench_drop_database")
            try admin.executeScript(BenchSQL.createDatabase(name), name: "bench_create_database")
        }
        if case .failure(let error) = result { return error.message }
        return nil
    }

    private func cleanUp() {
        for child in children { child.stop(grace: .seconds(5)) }
        children.removeAll()
        pool?.close()
        pool = nil
        store = nil
        observer = nil
        interrupter.removeScratch()
    }

    var connection: PostgresConnection {
        get throws {
            guard let observer else { throw BenchError("the benchmark database is not prepared") }
            return observer
        }
    }

    func count(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        try connection.query(sql, parameters).first?.decode("n") ?? 0
    }

    private func machineInfo() throws -> MachineInfo {
        let row = try connection.query(BenchSQL.machine).first
        var settings: [String: String] = [:]
        for key in ["fsync", "synchronous_commit", "shared_buffers", "wal_sync_method", "max_connections", "commit_delay"] {
            settings[key] = try row?.decode(key, as: String?.self) ?? "?"
        }
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return MachineInfo(
            cpuModel: model, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: ProcessInfo.processInfo.physicalMemory, kernel: release,
            postgresVersion: try row?.decode("version", as: String?.self) ?? "?", settings: settings,
            buildConfiguration: build)
    }

    func commits() throws -> Int64 {
        try connection.query(BenchSQL.clearStatsSnapshot)
        return try connection.query(BenchSQL.commits).first?.decode("xact_commit") ?? 0
    }

    // MARK: - Workers

    /// Starts `count` `unwind worker` processes and waits until each has registered.
    func startWorkers(count: Int, concurrency: Int, extraArguments: [String] = [], environment extra: [String: String] = [:]) throws -> [(ChildProcess, String)] {
        var started: [(ChildProcess, String)] = []
        var environment = ProcessInfo.processInfo.environment
        environment["UNWIND_LOG_LEVEL"] = "warning"
        environment.removeValue(forKey: "UNWIND_DATABASE_URL")
        environment.removeValue(forKey: "UNWIND_DATABASE_PASSWORD_FILE")
        if let password = benchConfiguration["password"] { environment["PGPASSWORD"] = password }
        for (key, value) in extra { environment[key] = value }
        for _ in 0..<count {
            workerSequence += 1
            let id = "bench-worker-\(workerSequence)"
            let child = try ChildProcess(
                name: "worker \(id)", executable: options.executablePath,
                arguments: ["worker", "--database-url", benchConfiguration.conninfoWithoutPassword,
                            "--concurrency", String(concurrency), "--worker-id", id, "--grace", "10s"] + extraArguments,
                environment: environment, logPath: options.workDirectory + "/\(id).log", registry: childRegistry)
            children.append(child)
            started.append((child, id))
        }
        let ids = started.map(\.1)
        let deadline = ContinuousClock.now + .seconds(60)
        while try self.count(BenchSQL.runningWorkers, [ids]) < count {
            for (child, id) in started where !child.isRunning {
                throw BenchError("worker \(id) exited while starting; its log ends:\n\(child.logTail)")
            }
            if ContinuousClock.now > deadline {
                throw BenchError("the workers did not register within 60 s; the first one's log ends:\n\(started.first?.0.logTail ?? "")")
            }
            usleep(20_000)
        }
        return started
    }

    func stopWorkers(_ workers: [(ChildProcess, String)]) {
        for (child, _) in workers { child.signal(SIGTERM) }
        for (child, _) in workers { child.stop(grace: .seconds(20)) }
        children.removeAll { child in workers.contains { $0.0 === child } }
    }

    func ensureAlive(_ workers: [(ChildProcess, String)]) throws {
        for (child, id) in workers where !child.isRunning {
            throw BenchError("worker \(id) exited during the run; its log ends:\n\(child.logTail)")
        }
    }

    // MARK: - Submission

    /// Submits `count` bench-noop workflows in batches of 500 (one transaction each), returns their ids.
    func submitNoop(count: Int) throws -> [UUID] {
        guard let store else { throw BenchError("the benchmark database is not prepared") }
        let input = try noopDefinition.validateInput([:])
        var ids: [UUID] = []
        ids.reserveCapacity(count)
        var remaining = count
        while remaining > 0 {
            let size = min(500, remaining)
            let requests = (0..<size).map { _ in
                SubmitRequest(definition: noopDefinition, input: input, submittedBy: "unwind-bench")
            }
            for outcome in try store.submitBatch(definition: noopDefinition, requests: requests) {
                guard case .created(let id) = outcome else {
                    throw BenchError("a benchmark submission was not created: \(outcome)")
                }
                ids.append(id)
            }
            remaining -= size
        }
        return ids
    }

    /// Polls until no workflow is unfinished; returns the number of polls (each one a commit to subtract).
    func waitUntilFinished(_ workers: [(ChildProcess, String)], what: String) throws -> Int {
        let deadline = ContinuousClock.now + options.phaseTimeout
        _ = try connection.query(BenchSQL.pollWithIndexOnly)
        defer { _ = try? connection.query(BenchSQL.pollDone) }
        var polls = 2  // the two SETs commit too
        while true {
            polls += 1
            if try count(BenchSQL.anyUnfinished) == 0 { return polls }
            try ensureAlive(workers)
            if ContinuousClock.now > deadline {
                let unfinished = try count(BenchSQL.unfinished)
                throw BenchError("\(what): \(unfinished) workflows still unfinished after \(options.phaseTimeout); worker log ends:\n\(workers.first?.0.logTail ?? "")")
            }
            usleep(20_000)
        }
    }

    struct Outcome {
        var succeeded: Int
        var total: Int
        var spanSeconds: Double
        var stepsSucceeded: Int
    }

    func outcome(of ids: [UUID]) throws -> Outcome {
        guard let row = try connection.query(BenchSQL.outcome, [ids]).first else { throw BenchError("no outcome row") }
        return Outcome(
            succeeded: try row.decode("succeeded"), total: try row.decode("total"),
            spanSeconds: Double(try row.decode("span_us", as: Int64?.self) ?? 0) / 1e6,
            stepsSucceeded: try row.decode("steps_succeeded"))
    }

    func latencies(_ sql: String, ids: [UUID]) throws -> LatencySample {
        var sample = LatencySample()
        for row in try connection.query(sql, [ids]).rows {
            if let value = try row.decode("us", as: Int64?.self) { sample.record(microseconds: value) }
        }
        return sample
    }

    // MARK: - 1, 2 (saturation): throughput

    struct ThroughputRound {
        var workflowsPerSecond: Double
        var stepsPerSecond: Double
        var commitsPerStep: Double
        var submitToStart: LatencySample
        var stepToStep: LatencySample
        var peakResidentBytes: [UInt64]
        /// CPU seconds ÷ wall seconds over the round: the worker processes, and the whole PostgreSQL server
        /// (nil when it runs on another machine).
        var workerCores: Double
        var serverCores: Double?
    }

    /// W workflows through N workers: the clock runs from the first submission to the last workflow finished
    /// (both database timestamps); submission runs while the workers work, as in production.
    func throughputRound(phase: String, workflows: Int, workers: Int, concurrency: Int, truncate: Bool, latency: Bool) throws -> ThroughputRound {
        if truncate { try connection.query(BenchSQL.truncateRuntime) }
        // Like the pgbench and fleet rounds: start from a checkpoint, so that the writes of what came before (the
        // previous round, or the million history rows and their VACUUM) are not flushed during this one.
        _ = try? connection.query(BenchSQL.checkpoint)
        let running = try startWorkers(count: workers, concurrency: concurrency)
        let before = try commits()
        let backend = try connection.backendPID
        let workerCPU0 = running.compactMap { CPUUsage.seconds(of: $0.0.pid) }.reduce(0, +)
        let serverCPU0 = CPUUsage.serverSeconds(backendPID: backend)
        let clock = ContinuousClock.now
        let ids = try submitNoop(count: workflows)
        let polls = try waitUntilFinished(running, what: "throughput")
        let elapsed = ContinuousClock.now - clock
        let wallSeconds = max(1e-6, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let workerCPU = running.compactMap { CPUUsage.seconds(of: $0.0.pid) }.reduce(0, +) - workerCPU0
        let serverCPU = CPUUsage.serverSeconds(backendPID: backend).flatMap { end in serverCPU0.map { end - $0 } }
        let peaks = running.compactMap { $0.0.peakResidentBytes }
        // Stopped workers' backends flush their statistics as they exit, so the commit count is complete.
        stopWorkers(running)
        let after = try commits()
        let result = try outcome(of: ids)
        guard result.succeeded == workflows, result.stepsSucceeded == workflows * options.steps else {
            throw BenchError("throughput: \(result.succeeded) of \(workflows) workflows and \(result.stepsSucceeded) of "
                + "\(workflows * options.steps) steps succeeded; the engine lost or failed work (see the worker logs with --keep-files)")
        }
        counts["\(phase)_workflows_succeeded", default: 0] += result.succeeded
        counts["\(phase)_steps_succeeded", default: 0] += result.stepsSucceeded
        let steps = Double(workflows * options.steps)
        let span = max(result.spanSeconds, 1e-6)
        // The benchmark's own polls and its two counter reads are commits too; they are not the engine's.
        let engineCommits = Double(after - before) - Double(polls) - 2
        return ThroughputRound(
            workflowsPerSecond: Double(workflows) / span, stepsPerSecond: steps / span,
            commitsPerStep: max(0, engineCommits) / steps,
            submitToStart: latency ? try latencies(BenchSQL.submitToStart, ids: ids) : LatencySample(),
            stepToStep: latency ? try latencies(BenchSQL.stepToStep, ids: ids) : LatencySample(),
            peakResidentBytes: peaks, workerCores: workerCPU / wallSeconds, serverCores: serverCPU.map { $0 / wallSeconds })
    }

    func measureThroughput() throws -> [Double] {
        var rounds: [ThroughputRound] = []
        for round in 1...options.rounds {
            progress("throughput round \(round)/\(options.rounds): \(options.workflows) workflows × \(options.steps) steps, "
                + "\(options.workers) workers × concurrency \(options.concurrency)")
            rounds.append(try throughputRound(
                phase: "throughput", workflows: options.workflows, workers: options.workers, concurrency: options.concurrency,
                truncate: true, latency: true))
        }
        add(Figure(key: "workflows_per_s", label: "1 engine throughput, workflows", unit: "workflows/s", values: rounds.map(\.workflowsPerSecond)))
        add(Figure(key: "steps_per_s", label: "1 engine throughput, steps", unit: "steps/s", values: rounds.map(\.stepsPerSecond)))
        add(Figure(key: "commits_per_step", label: "1 database commits per step", unit: "commits", values: rounds.map(\.commitsPerStep),
                   note: "pg_stat_database.xact_commit delta, incl. submission and worker start/stop"))
        add(Figure(key: "worker_cores", label: "1 CPU used by the worker processes", unit: "cores", values: rounds.map(\.workerCores),
                   note: "CPU seconds ÷ wall seconds (/proc)"))
        let server = rounds.compactMap(\.serverCores)
        if server.count == rounds.count {
            add(Figure(key: "postgres_cores", label: "1 CPU used by PostgreSQL (whole server)", unit: "cores", values: server,
                       note: "postmaster + backends; the bench's own polling included"))
        }
        if options.only.contains(.latency) {
            addLatency(rounds.map(\.submitToStart), key: "latency_submit_start_saturated", label: "2 submit→first start, saturated",
                       targets: nil)
            addLatency(rounds.map(\.stepToStep), key: "latency_step_step_saturated", label: "2 step end→next start (start→start), saturated",
                       targets: nil)
        }
        return rounds.map(\.stepsPerSecond)
    }

    func addLatency(_ samples: [LatencySample], key: String, label: String, targets: (p50: Double, p99: Double?)?) {
        let counted = samples.filter { $0.count > 0 }
        guard !counted.isEmpty else {
            note("\(label): no samples (the events table held no matching attempt_started/step_succeeded rows)")
            return
        }
        add(Figure(key: key + "_p50_ms", label: label + " p50", unit: "ms", values: counted.map { $0.percentileMilliseconds(50) },
                   note: targets.map { "target < \(BenchReport.format($0.p50)) ms" }))
        add(Figure(key: key + "_p99_ms", label: label + " p99", unit: "ms", values: counted.map { $0.percentileMilliseconds(99) },
                   note: targets?.p99.map { "target < \(BenchReport.format($0)) ms" }))
        add(Figure(key: key + "_max_ms", label: label + " max", unit: "ms", values: counted.map(\.maxMilliseconds)))
    }

    // MARK: - 2 (low load): one workflow at a time

    func measureLowLoadLatency() throws {
        guard let store else { return }
        var submitSamples: [LatencySample] = []
        var stepSamples: [LatencySample] = []
        let input = try noopDefinition.validateInput([:])
        for round in 1...options.rounds {
            progress("low-load latency round \(round)/\(options.rounds): \(options.latencyWorkflows) workflows one at a time")
            try connection.query(BenchSQL.truncateRuntime)
            let running = try startWorkers(count: options.workers, concurrency: options.concurrency)
            var ids: [UUID] = []
            let submitter = WorkflowSubmitter(store: store)
            for _ in 0..<options.latencyWorkflows {
                let outcome = try submitter.submit(noopDefinition, input: input, submittedBy: "unwind-bench")
                ids.append(outcome.workflowID)
                let deadline = ContinuousClock.now + .seconds(60)
                while true {
                    let state: String? = try connection.query(BenchSQL.workflowState, [outcome.workflowID]).first?.decode("state")
                    if let state, !["scheduled", "running", "compensating"].contains(state) { break }
                    try ensureAlive(running)
                    if ContinuousClock.now > deadline {
                        throw BenchError("low-load latency: a workflow did not finish within 60 s")
                    }
                    usleep(1_000)
                }
            }
            stopWorkers(running)
            let result = try outcome(of: ids)
            guard result.succeeded == ids.count, result.stepsSucceeded == ids.count * options.steps else {
                throw BenchError("low-load latency: only \(result.succeeded) of \(ids.count) workflows succeeded")
            }
            counts["latency_workflows_succeeded", default: 0] += result.succeeded
            submitSamples.append(try latencies(BenchSQL.submitToStart, ids: ids))
            stepSamples.append(try latencies(BenchSQL.stepToStep, ids: ids))
        }
        addLatency(submitSamples, key: "latency_submit_start_low", label: "2 submit→first start, low load", targets: (5, nil))
        addLatency(stepSamples, key: "latency_step_step_low", label: "2 step end→next start (start→start), low load", targets: (2, 20))
    }

    // MARK: - 3: pgbench ceiling

    func measurePgbench(stepsPerSecond: [Double]) throws {
        guard let pgbench = locateProgram("pgbench", explicit: options.pgbenchPath) else {
            note("3 pgbench ceiling: pgbench not found (install postgresql-client or pass --pgbench PATH); skipped")
            return
        }
        try connection.executeScript(BenchSQL.pgbenchTable, name: "bench_pgbench_table")
        try connection.query(BenchSQL.pgbenchAnalyze)
        let script = options.workDirectory + "/update.sql"
        try BenchSQL.pgbenchScript.write(toFile: script, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("PG") { environment.removeValue(forKey: key) }
        for (key, value) in benchConfiguration.libpqEnvironment { environment[key] = value }
        var byClients: [Int: [Double]] = [:]
        // workers × concurrency can exceed what the server accepts (max_connections, less its reserved slots
        // and the connections already open): such a count is measured at the most the server allows instead.
        let available = try count(BenchSQL.connectionsAvailable)
        let clientCounts = Array(Set(options.effectivePgbenchClients.map { min($0, max(1, available)) })).sorted()
        if clientCounts != options.effectivePgbenchClients {
            note("3 pgbench: client counts \(options.effectivePgbenchClients) capped at \(available), the connections the server has left")
        }
        for round in 1...options.rounds {
            for clients in clientCounts {
                progress("pgbench round \(round)/\(options.rounds): \(clients) clients, \(options.pgbenchSeconds) s")
                try connection.query(BenchSQL.pgbenchPrepare)
                _ = try? connection.query(BenchSQL.checkpoint)
                let threads = min(clients, 2)
                let result = try runCommand(pgbench, [
                    "-n", "-M", "prepared", "-T", String(options.pgbenchSeconds), "-c", String(clients),
                    "-j", String(threads), "-f", script,
                ], environment: environment, children: childRegistry)
                guard result.status == 0,
                      let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("tps = ") }),
                      let tps = Double(line.dropFirst("tps = ".count).prefix { $0.isNumber || $0 == "." }) else {
                    throw BenchError("pgbench failed (exit \(result.status)): \(result.output.suffix(500))")
                }
                byClients[clients, default: []].append(tps)
            }
        }
        try connection.query(BenchSQL.dropPgbenchTable)
        for clients in clientCounts {
            add(Figure(key: "pgbench_tps_c\(clients)", label: "3 pgbench one-row UPDATE, \(clients) clients", unit: "TPS",
                       values: byClients[clients] ?? []))
        }
        // The headline ceiling is the one at the engine's concurrent step count: the highest, so the ratio is the strict one.
        guard let headline = clientCounts.max(), let tps = byClients[headline] else { return }
        add(Figure(key: "pgbench_tps", label: "3 pgbench ceiling (\(headline) clients)", unit: "TPS", values: tps))
        if !stepsPerSecond.isEmpty {
            for clients in clientCounts {
                guard let values = byClients[clients] else { continue }
                let ratios = zip(stepsPerSecond, values).map { $0 / $1 }
                let key = clients == headline ? "steps_per_pgbench_tps" : "steps_per_pgbench_tps_c\(clients)"
                add(Figure(key: key, label: "3 steps/s ÷ pgbench TPS (\(clients) clients)", unit: "ratio", values: ratios,
                           note: "target ≥ 2"))
            }
        }
    }

    // MARK: - 4: history

    func measureHistory(baseline: [Double]) throws {
        let total = options.historyWorkflows
        progress("history: inserting \(total) finished workflows with \(options.steps) steps and \(2 * options.steps + 3) events each")
        try connection.query(BenchSQL.truncateRuntime)
        // The definition row must exist for the foreign key; one real submission stores it.
        let seed = try submitNoop(count: 1)
        try connection.query(BenchSQL.deleteEventsOfWorkflow, [seed[0]])
        try connection.query(BenchSQL.deleteStepsOfWorkflow, [seed[0]])
        try connection.query(BenchSQL.deleteWorkflow, [seed[0]])
        let definitionID: Int64 = try connection.query(BenchSQL.noopDefinitionID).first?.decode("id") ?? 0
        let chunk = 100_000
        var start = 1
        let clock = ContinuousClock.now
        while start <= total {
            let end = min(total, start + chunk - 1)
            try connection.transaction { connection in
                try connection.query(BenchSQL.historyWorkflows, [start, end, definitionID])
                try connection.query(BenchSQL.historySteps, [start, end, options.steps])
                try connection.query(BenchSQL.historyEvents, [start, end, options.steps])
            }
            progress("history: \(end)/\(total) inserted")
            start = end + 1
        }
        try connection.query(BenchSQL.analyze)
        let inserted = try count(BenchSQL.historyCount)
        guard inserted == total else { throw BenchError("history: \(inserted) of \(total) workflows were inserted") }
        counts["history_workflows"] = inserted
        let elapsed = ContinuousClock.now - clock
        note("4 history: \(total) finished workflows inserted in \(String(format: "%.1f", Double(elapsed.components.seconds))) s (set-based SQL), then VACUUM ANALYZE")
        var with: [Double] = []
        for round in 1...options.rounds {
            progress("throughput with history round \(round)/\(options.rounds)")
            with.append(try throughputRound(
                phase: "history", workflows: options.workflows, workers: options.workers, concurrency: options.concurrency,
                truncate: false, latency: false).stepsPerSecond)
        }
        add(Figure(key: "steps_per_s_history", label: "4 steps/s with \(total) finished workflows", unit: "steps/s", values: with))
        let ratios = zip(with, baseline).map { $0 / $1 }
        add(Figure(key: "history_ratio", label: "4 history ratio (with ÷ empty)", unit: "ratio", values: ratios, note: "target ≥ 0.9"))
    }

    // MARK: - 5: fleet submission

    func measureFleet() throws {
        let file = options.workDirectory + "/fleet.csv"
        var csv = "domain_id,project_id,region\n"
        for row in 0..<options.fleetRows {
            csv += String(format: "%032x,%032x,cn-north-4\n", row + 1, 0xbe_0000 + row)
        }
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "UNWIND_DATABASE_URL")
        environment.removeValue(forKey: "UNWIND_DATABASE_PASSWORD_FILE")
        if let password = benchConfiguration["password"] { environment["PGPASSWORD"] = password }
        var seconds: [Double] = []
        for round in 1...options.rounds {
            progress("fleet round \(round)/\(options.rounds): \(options.fleetRows) teardown workflows from a CSV file")
            try connection.query(BenchSQL.truncateRuntime)
            // Like the pgbench rounds: start from a checkpoint, not in the middle of the one the previous
            // measurement's writes triggered.
            _ = try? connection.query(BenchSQL.checkpoint)
            let result = try runCommand(options.executablePath, [
                "submit", "secmaster-full-teardown", "--fleet", file, "--workflows-dir", options.workflowsDirectory,
                "--database-url", benchConfiguration.conninfoWithoutPassword, "--output", "json",
            ], environment: environment, discardOutput: true, children: childRegistry)
            guard result.status == 0 else {
                throw BenchError("fleet: unwind submit --fleet exited \(result.status): \(result.output.suffix(400))")
            }
            let submitted = try count(BenchSQL.countWorkflows)
            guard submitted == options.fleetRows else {
                throw BenchError("fleet: \(submitted) of \(options.fleetRows) workflows were stored")
            }
            seconds.append(result.seconds)
            counts["fleet_workflows_stored", default: 0] += submitted
        }
        try connection.query(BenchSQL.truncateRuntime)
        add(Figure(key: "fleet_submit_s", label: "5 fleet submission of \(options.fleetRows) (unwind submit --fleet)", unit: "s",
                   values: seconds, note: "whole process, incl. start-up; target < 2 s for 10,000"))
    }

    // MARK: - 6: crash recovery

    func measureCrashRecovery() throws {
        guard let store else { return }
        var seconds: [Double] = []
        let leaseArguments = options.crashLease.map { ["--lease", $0] } ?? []
        for round in 1...options.rounds {
            progress("crash round \(round)/\(options.rounds): SIGKILL a worker holding a step (lease \(options.crashLease ?? "default"))")
            try connection.query(BenchSQL.truncateRuntime)
            let first = try startWorkers(count: 1, concurrency: 1, extraArguments: leaseArguments)
            let submitted = try WorkflowSubmitter(store: store).submit(
                crashDefinition, input: try crashDefinition.validateInput([:]), submittedBy: "unwind-bench")
            let id = submitted.workflowID
            let deadline = ContinuousClock.now + .seconds(60)
            while try connection.query(BenchSQL.heldBy, [id]).first?.decode("lease_owner", as: String?.self) != first[0].1 {
                try ensureAlive(first)
                if ContinuousClock.now > deadline { throw BenchError("crash: the first worker never claimed the step") }
                usleep(5_000)
            }
            let second = try startWorkers(count: 1, concurrency: 1, extraArguments: leaseArguments)
            let killedAt = Date()
            first[0].0.kill9()
            children.removeAll { $0 === first[0].0 }
            var restarted: Int64?
            let limit = ContinuousClock.now + options.phaseTimeout
            while restarted == nil {
                restarted = try connection.query(BenchSQL.restartedAt, [id, first[0].1] as [any PostgresEncodable]).first?
                    .decode("at_us", as: Int64?.self)
                if restarted != nil { break }
                try ensureAlive(second)
                if ContinuousClock.now > limit { throw BenchError("crash: the step did not start again within \(options.phaseTimeout)") }
                usleep(10_000)
            }
            for child in second { child.0.kill9() }
            children.removeAll { child in second.contains { $0.0 === child } }
            seconds.append(Double(restarted ?? 0) / 1e6 - killedAt.timeIntervalSince1970)
            counts["crash_steps_restarted", default: 0] += 1
        }
        try connection.query(BenchSQL.truncateRuntime)
        add(Figure(key: "crash_recovery_s", label: "6 crash recovery (SIGKILL → step starts elsewhere)", unit: "s", values: seconds,
                   note: "target ≤ lease + 1 s (lease \(options.crashLease ?? "30s, the default"))"))
    }

    // MARK: - 8: memory

    func measureMemory() throws {
        for concurrency in [8, 64] {
            var megabytes: [Double] = []
            for round in 1...options.rounds {
                progress("memory round \(round)/\(options.rounds): one worker at concurrency \(concurrency), \(options.memoryWorkflows) workflows")
                let result = try throughputRound(
                    phase: "memory_c\(concurrency)", workflows: options.memoryWorkflows, workers: 1, concurrency: concurrency, truncate: true, latency: false)
                guard let peak = result.peakResidentBytes.first else {
                    throw BenchError("memory: cannot read VmHWM of the worker from /proc (Linux only)")
                }
                megabytes.append(Double(peak) / 1_048_576)
            }
            add(Figure(key: "worker_rss_mb_c\(concurrency)", label: "8 worker peak RSS, concurrency \(concurrency)", unit: "MiB",
                       values: megabytes, note: concurrency == 64 ? "VmHWM; target < 64 MB" : "VmHWM"))
        }
        try connection.query(BenchSQL.truncateRuntime)
    }
}
