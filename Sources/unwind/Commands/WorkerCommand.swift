import ArgumentParser
import Dispatch
import Foundation
import UnwindCore
import Logging
import UnwindEngine
import UnwindStore

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the worker pool in the foreground: claim due steps and run them.",
        discussion: """
            Runs until SIGTERM or SIGINT, then stops claiming, lets running steps finish within the grace period, \
            ends the attempts of those that did not as worker_stopped (an outcome unknown: counted, retried after \
            the usual back-off; compensations and resumed durable waits are handed back uncounted) and exits 0. A second \
            signal exits at once (leases then expire by themselves). Run as many workers as you like, on one \
            machine or many, against the same database.

            With --metrics-port (or UNWIND_METRICS_PORT) the worker also serves GET /metrics (Prometheus), \
            /healthz (200 while the process runs) and /readyz (200 when the database is reachable and migrated, \
            else 503 with a JSON reason) on --metrics-host (default 127.0.0.1). README.md lists the metrics.

            Examples:
              unwind worker
              unwind worker --concurrency 32 --log-level info
              unwind worker --queues default,bulk --lease 1m --grace 2m
              unwind worker --metrics-port 9464 --log-format json
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Step attempts run at once.")
    var concurrency: Int = 8

    @Option(help: "Comma-separated queues to take work from.")
    var queues: String = "default"

    /// `--queues` split at its commas; `validate` refuses empty and malformed names.
    var queueNames: [String] {
        queues.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    // `.unconditional`: the next argument is the value even when it starts with "-", so that `--lease -1s` is told
    // what is wrong with "-1s" rather than that the value is missing.
    @Option(parsing: .unconditional, help: "Lease of a claimed step; a crashed worker's step runs elsewhere about this long after the crash.")
    var lease: String = "30s"

    @Option(parsing: .unconditional, help: "On SIGTERM/SIGINT, how long running steps may take to finish.")
    var grace: String = "30s"

    @Option(name: .customLong("poll-interval"), parsing: .unconditional, help: "Longest idle sleep without a notification.")
    var pollInterval: String = "1s"

    @Option(name: .customLong("batch-window"), parsing: .unconditional, help: ArgumentHelp(
        "How long a finished step's result may wait for steps still running, to share one commit with them; 0 turns it off (default: $UNWIND_BATCH_WINDOW, else 1ms).",
        valueName: "duration"))
    var batchWindow: String?

    @Option(name: .customLong("worker-id"), help: "A name for this worker (default: host:pid:random).")
    var workerID: String?

    @Option(name: .customLong("metrics-host"), help: ArgumentHelp(
        "Address of the /metrics, /healthz and /readyz listener (default: $UNWIND_METRICS_HOST, else 127.0.0.1).",
        valueName: "addr"))
    var metricsHost: String?

    @Option(name: .customLong("metrics-port"), help: ArgumentHelp(
        "Serve /metrics, /healthz and /readyz on this port; 0 picks a free one (default: $UNWIND_METRICS_PORT, else off).",
        valueName: "n"))
    var metricsPort: Int?

    func validate() throws {
        guard (1...1024).contains(concurrency) else {
            throw ValidationError("--concurrency must be between 1 and 1024 (got \(concurrency))")
        }
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be between 0 and 65535 (got \(metricsPort))")
        }
        try CloudSettings.check()
        if let workerID, workerID.trimmingCharacters(in: .whitespaces).isEmpty || workerID.utf8.count > 200 {
            throw ValidationError("--worker-id must be 1 to 200 characters; leave it out for host:pid:random")
        }
        for name in queueNames {
            if let problem = QueueName.problem(name) { throw ValidationError("--queues: \(problem) (give names separated by commas, e.g. default,bulk)") }
        }
    }

    static let shortestLease = Duration.seconds(2)

    /// Like any duration, but zero is allowed: it turns group commit off.
    /// `source` names where the text came from (the flag or the environment variable), for the error.
    private func parseBatchWindow(_ text: String, source: String) throws -> Duration {
        if ["0", "0ms", "0s"].contains(text.trimmingCharacters(in: .whitespaces)) { return .zero }
        let window = try parseDuration(text, flag: source)
        guard window <= .seconds(1) else {
            throw CLIError(description: "\(source): '\(text)' is longer than 1s; a result waits this long before its commit, so keep it to a few milliseconds", status: .usage)
        }
        return window
    }

    func run() throws {
        try runReportingErrors {
            // A worker holds a connection per slot, a metrics listener and the cloud's connections (see OpenFilesLimit).
            OpenFilesLimit.raise()
            var database = self.database
            if database.logLevel == nil && ProcessInfo.processInfo.environment["UNWIND_LOG_LEVEL"] == nil {
                database.logLevel = "info"
            }
            let environment = ProcessInfo.processInfo.environment
            let endpoint = try MetricsEndpointSettings.resolve(host: metricsHost, port: metricsPort, environment: environment)
            let leaseDuration = try parseDuration(lease, flag: "--lease")
            guard leaseDuration >= Self.shortestLease else {
                // Heartbeats renew leases every third of the lease, on a 500ms maintenance tick: a shorter lease
                // runs out between renewals under load, and healthy steps are taken over and compensated.
                throw CLIError(description: "--lease: '\(lease)' is shorter than \(Self.shortestLease); a lease this short expires between heartbeats and healthy steps are taken over. Use at least 2s (30s by default; a crashed worker's steps run elsewhere about one lease after the crash)", status: .usage)
            }
            let configuration = WorkerConfiguration(
                workerID: workerID, concurrency: concurrency,
                queues: queueNames,
                leaseDuration: leaseDuration,
                pollInterval: try parseDuration(pollInterval, flag: "--poll-interval"),
                shutdownGracePeriod: try parseDuration(grace, flag: "--grace"),
                version: UnwindVersion.current,
                listenConfiguration: try DatabaseOptions.listenConfiguration(environment),
                batchWindow: try batchWindow.map { try parseBatchWindow($0, source: "--batch-window") }
                    ?? environment["UNWIND_BATCH_WINDOW"].map { try parseBatchWindow($0, source: "UNWIND_BATCH_WINDOW") } ?? .milliseconds(1))
            // One connection per concurrent step, plus claiming and maintenance.
            let services = try Services(database: database, connections: concurrency + 3, label: "unwind.worker", waitForDatabase: true,
                                        plansOnce: true)
            try WorkerRunner(services: services, configuration: configuration, endpoint: endpoint).run()
        }
    }
}
