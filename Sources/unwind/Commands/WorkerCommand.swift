import ArgumentParser
import Dispatch
import Foundation
import Logging
import UnwindEngine
import UnwindStore

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run the worker pool in the foreground: claim due steps and run them.",
        discussion: """
            Runs until SIGTERM or SIGINT, then stops claiming, lets running steps finish within the grace period, \
            hands back the leases of those that did not (without counting their attempt) and exits 0. A second \
            signal exits at once (leases then expire by themselves). Run as many workers as you like, on one \
            machine or many, against the same database.

            Examples:
              unwind worker
              unwind worker --concurrency 32 --log-level info
              unwind worker --queues default,bulk --lease 1m --grace 2m
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Step attempts run at once.")
    var concurrency: Int = 8

    @Option(help: "Comma-separated queues to take work from.")
    var queues: String = "default"

    @Option(help: "Lease of a claimed step; a crashed worker's step runs elsewhere about this long after the crash.")
    var lease: String = "30s"

    @Option(help: "On SIGTERM/SIGINT, how long running steps may take to finish.")
    var grace: String = "30s"

    @Option(name: .customLong("poll-interval"), help: "Longest idle sleep without a notification.")
    var pollInterval: String = "1s"

    @Option(name: .customLong("worker-id"), help: "A name for this worker (default: host:pid:random).")
    var workerID: String?

    func validate() throws {
        guard (1...1024).contains(concurrency) else {
            throw ValidationError("--concurrency must be between 1 and 1024 (got \(concurrency))")
        }
    }

    func run() throws {
        try runReportingErrors {
            var database = self.database
            if database.logLevel == nil && ProcessInfo.processInfo.environment["UNWIND_LOG_LEVEL"] == nil {
                database.logLevel = "info"
            }
            let configuration = WorkerConfiguration(
                workerID: workerID, concurrency: concurrency,
                queues: queues.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
                leaseDuration: try parseDuration(lease, flag: "--lease"),
                pollInterval: try parseDuration(pollInterval, flag: "--poll-interval"),
                shutdownGracePeriod: try parseDuration(grace, flag: "--grace"),
                version: UnwindVersion.current,
                listenConfiguration: try DatabaseOptions.listenConfiguration(ProcessInfo.processInfo.environment))
            // One connection per concurrent step, plus claiming and maintenance.
            let services = try Services(database: database, connections: concurrency + 3, label: "unwind.worker", waitForDatabase: true)
            let worker = Worker(store: services.store, registry: BuiltInActions.registry, configuration: configuration, logger: services.logger)
            let signals = SignalHandler(signals: [SIGTERM, SIGINT]) { count in
                if count == 1 {
                    worker.requestStop()
                } else {
                    Terminal.standardError.write("second signal: exiting now; leases of running steps expire by themselves\n")
                    Foundation.exit(1)
                }
            }
            defer { signals.cancel() }
            try worker.run()
        }
    }
}

/// Turns SIGTERM/SIGINT into calls on a Dispatch queue (the default handlers are ignored while it lives).
final class SignalHandler {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable (Int) -> Void) {
        let queue = DispatchQueue(label: "unwind.signals")
        let count = Mutex(0)
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let seen = count.withLock { value -> Int in
                    value += 1
                    return value
                }
                handler(seen)
            }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

import Synchronization
