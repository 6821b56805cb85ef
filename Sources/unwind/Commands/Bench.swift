import ArgumentParser
import Foundation
import Logging
import Postgres
import UnwindBench

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine on this machine: throughput, latency, the PostgreSQL commit ceiling and more.",
        discussion: """
            Creates a scratch database (--database-name, default unwind_bench; an old one is dropped) on the server \
            of --database-url, which must name a superuser or a role with CREATEDB, migrates it, runs the \
            measurements of issue 8 through real `unwind worker` processes started from this binary, prints a table \
            (each figure: median [min–max] over --rounds) and drops the database again.

            Measurements (--only 1,3 or names): 1 throughput, 2 latency, 3 pgbench, 4 history, 5 fleet, 6 crash, \
            7 teardown, 8 memory.

            Build in release mode first: swift build -c release; then .build/release/unwind bench.

            Examples:
              unwind bench --database-url postgres://postgres@127.0.0.1:55432/postgres --json bench.json
              unwind bench --workflows 2000 --rounds 1 --only throughput,pgbench
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var workflowOptions: WorkflowOptions

    @Option(help: "Workflows per throughput round.") var workflows: Int = 10_000
    @Option(help: "No-op steps per workflow.") var steps: Int = 4
    @Option(help: "Worker processes.") var workers: Int = 2
    @Option(help: "Concurrency of each worker.") var concurrency: Int = 64
    @Option(help: "Rounds per figure (the table shows the median and the range).") var rounds: Int = 3
    @Option(help: ArgumentHelp("Write the figures as JSON to this file.", valueName: "file")) var json: String?
    @Option(help: ArgumentHelp("Only these measurements, by number or name (comma-separated).", valueName: "list")) var only: String?

    @Option(name: .customLong("history"), help: "Finished workflows in the tables for the history figure.") var history: Int = 1_000_000
    @Option(name: .customLong("fleet"), help: "Rows of the fleet file for the submission figure.") var fleet: Int = 10_000
    @Option(help: "Accounts for the teardown-at-scale figure.") var accounts: Int = 1_000
    @Option(name: .customLong("latency-workflows"), help: "Workflows run one at a time for the low-load latency.") var latencyWorkflows: Int = 200
    @Option(name: .customLong("memory-workflows"), help: "Workflows through one worker for the memory figure.") var memoryWorkflows: Int = 2_000
    @Option(name: .customLong("pgbench-seconds"), help: "Duration of each pgbench run.") var pgbenchSeconds: Int = 10
    @Option(name: .customLong("pgbench-clients"), help: ArgumentHelp("pgbench client counts (default: workers and workers × concurrency).", valueName: "list"))
    var pgbenchClients: String?
    @Option(help: ArgumentHelp("pgbench to use (default: PATH, then /usr/lib/postgresql/*/bin).", valueName: "path")) var pgbench: String?
    @Option(help: ArgumentHelp("unwind-cloudsim to use (default: beside this binary).", valueName: "path")) var cloudsim: String?
    @Option(name: .customLong("crash-lease"), help: ArgumentHelp("Lease for the crash figure (default: the worker's default).", valueName: "duration"))
    var crashLease: String?
    @Option(name: .customLong("teardown-concurrency"), help: "Concurrency of each worker in the teardown figure (its steps mostly wait on the cloud).")
    var teardownConcurrency: Int = 128
    @Option(name: .customLong("cloud-latency-ms"), help: "Latency the simulator adds to every call.") var cloudLatency: Int = 50
    @Option(name: .customLong("cloud-rate-limit"), help: "Simulator rate limit, requests per minute per account and API.") var cloudRateLimit: Int = 600
    @Option(name: .customLong("cloud-time-scale"), help: "Simulator time scale (simulated seconds per real second).") var cloudTimeScale: Double = 1
    @Option(name: .customLong("database-name"), help: "Scratch database to create (and drop afterwards).") var databaseName: String = "unwind_bench"
    @Flag(name: .customLong("keep-files"), help: "Keep worker logs and generated files (their directory is printed).") var keepFiles = false
    @Flag(name: .customLong("allow-debug"), help: "Run from a debug build anyway (figures are then not representative).") var allowDebug = false

    func validate() throws {
        if let only {
            for item in only.split(separator: ",") where BenchOptions.Measurement(text: String(item)) == nil {
                throw ValidationError("--only: unknown measurement '\(item)'; use 1–8 or throughput, latency, pgbench, history, fleet, crash, teardown, memory")
            }
        }
        if let pgbenchClients, pgbenchClients.split(separator: ",").contains(where: { Int($0).map { $0 < 1 } ?? true }) {
            throw ValidationError("--pgbench-clients: expected positive numbers separated by commas, e.g. 2,16")
        }
    }

    func run() throws {
        try runReportingErrors {
            #if DEBUG
            if !allowDebug {
                throw CLIError(
                    description: "this is a debug build, whose figures mean nothing; build the release binary with `swift build -c release` and run .build/release/unwind bench (or pass --allow-debug)",
                    status: .usage)
            }
            #endif
            let logger = try database.makeLogger(label: "unwind.bench")
            let resolved = try database.resolve(logger: logger)
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let workDirectory = NSTemporaryDirectory() + "unwind-bench-" + UUID().uuidString.prefix(8).lowercased()
            var options = BenchOptions(
                adminConfiguration: resolved.configuration, executablePath: executable,
                workflowsDirectory: URL(fileURLWithPath: workflowOptions.directory).standardizedFileURL.path, workDirectory: workDirectory)
            options.workflows = workflows
            options.steps = steps
            options.workers = workers
            options.concurrency = concurrency
            options.rounds = rounds
            options.historyWorkflows = history
            options.fleetRows = fleet
            options.accounts = accounts
            options.latencyWorkflows = latencyWorkflows
            options.memoryWorkflows = memoryWorkflows
            options.pgbenchSeconds = pgbenchSeconds
            options.pgbenchClients = pgbenchClients?.split(separator: ",").compactMap { Int($0) } ?? []
            options.pgbenchPath = pgbench
            options.cloudsimPath = cloudsim
            options.crashLease = crashLease
            options.teardownConcurrency = teardownConcurrency
            options.cloudLatencyMilliseconds = cloudLatency
            options.cloudRateLimitPerMinute = cloudRateLimit
            options.databaseName = databaseName
            options.cloudTimeScale = cloudTimeScale
            options.keepFiles = keepFiles
            if let only {
                options.only = Set(only.split(separator: ",").compactMap { BenchOptions.Measurement(text: String($0)) })
            }
            if let crashLease { _ = try parseDuration(crashLease, flag: "--crash-lease") }
            let problems = options.problems()
            if !problems.isEmpty { throw CLIError(description: problems.joined(separator: "; "), status: .usage) }
            if keepFiles { Terminal.standardError.write("bench: files kept in \(workDirectory)\n") }

            let runner = try BenchRunner(options: options, logger: logger) { line in
                Terminal.standardError.write("bench: \(line)\n")
            }
            // Ctrl-C or SIGTERM stops the workers, the simulator and pgbench and drops the scratch database
            // before exiting (128 + the signal), instead of leaving them running.
            let interrupter = runner.interrupter
            let signalQueue = DispatchQueue(label: "unwind.bench.signals")
            let signalSources = [SIGINT, SIGTERM].map { (number: Int32) -> any DispatchSourceSignal in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: signalQueue)
                source.setEventHandler {
                    Terminal.standardError.write("bench: interrupted (\(number == SIGINT ? "SIGINT" : "SIGTERM")); stopping…\n")
                    let summary = interrupter.stopEverything()
                    Terminal.standardError.write("bench: \(summary)\n")
                    Foundation.exit(128 + number)
                }
                source.resume()
                return source
            }
            defer { signalSources.forEach { $0.cancel() } }
            let report: BenchReport
            do {
                report = try runner.run()
                interrupter.parkIfInterrupted()
            } catch {
                interrupter.parkIfInterrupted()
                if let error = error as? BenchError { throw CLIError(description: "bench: \(error.description)") }
                throw error
            }
            Terminal.standardOutput.write(report.table)
            if let json {
                do {
                    try report.json.write(to: URL(fileURLWithPath: json))
                } catch {
                    throw CLIError(description: "cannot write --json \(json): \(error.localizedDescription)")
                }
            }
            if !report.failures.isEmpty {
                throw CLIError(description: "bench: \(report.failures.count) measurement(s) failed: " + report.failures.joined(separator: "; "))
            }
        }
    }
}
