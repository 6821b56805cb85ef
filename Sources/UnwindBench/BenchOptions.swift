import Foundation
import Postgres

/// What `unwind bench` measures and how big. Defaults are the sizes of issue 8; tests pass tiny ones.
public struct BenchOptions: Sendable {
    /// The measurements, by number in issue 8.
    public enum Measurement: Int, CaseIterable, Sendable, CustomStringConvertible {
        case throughput = 1, latency, pgbench, history, fleet, crash, teardown, memory

        public var name: String {
            switch self {
            case .throughput: "throughput"
            case .latency: "latency"
            case .pgbench: "pgbench"
            case .history: "history"
            case .fleet: "fleet"
            case .crash: "crash"
            case .teardown: "teardown"
            case .memory: "memory"
            }
        }

        public var description: String { name }

        /// `1`, `throughput`, … (for `--only`).
        public init?(text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
            if let number = Int(trimmed), let value = Measurement(rawValue: number) {
                self = value
            } else if let value = Measurement.allCases.first(where: { $0.name == trimmed }) {
                self = value
            } else {
                return nil
            }
        }
    }

    public var workflows = 10_000
    public var steps = 4
    public var workers = 2
    public var concurrency = 64
    public var rounds = 3
    public var only: Set<Measurement> = Set(Measurement.allCases)
    /// Workflows run one at a time for the low-load latency figures.
    public var latencyWorkflows = 200
    /// Finished workflows (with their steps and events) put in the tables for the history figure.
    public var historyWorkflows = 1_000_000
    public var fleetRows = 10_000
    public var accounts = 1_000
    /// `pgbench -T`.
    public var pgbenchSeconds = 10
    /// pgbench client counts; empty: the number of workers and the number of concurrent steps (workers × concurrency).
    public var pgbenchClients: [Int] = []
    /// nil: the worker's own default lease (what "default lease settings" means in issue 8).
    public var crashLease: String?
    /// Workflows pushed through one worker for the memory figure.
    public var memoryWorkflows = 2_000
    /// Concurrency of each worker in the teardown figure. Its steps wait on the cloud most of the time (every call
    /// takes `cloudLatencyMilliseconds`), so the throughput figures' 64 slots per worker, not the machine, would
    /// bound it: 20,000 calls × 50 ms ÷ 128 slots is 7.9 s, the whole critical path.
    public var teardownConcurrency = 128
    /// Per-call latency the simulator adds, and its per-account-and-API rate limit (requests per minute).
    public var cloudLatencyMilliseconds = 50
    public var cloudRateLimitPerMinute = 600
    /// Simulated seconds per real second in the simulator (its order, job and deletion times shrink; its rate
    /// limits are per simulated minute). 1 in real runs; tests speed it up.
    public var cloudTimeScale = 1.0
    /// Longest any one phase may take before the benchmark gives up.
    public var phaseTimeout: Duration = .seconds(900)

    /// A superuser (or owner with CREATEDB) connection; the bench creates `databaseName` beside it.
    public var adminConfiguration: PostgresConfiguration
    public var databaseName = "unwind_bench"
    /// The `unwind` binary workers are started from (normally /proc/self/exe).
    public var executablePath: String
    /// `unwind-cloudsim` (default: beside the `unwind` binary).
    public var cloudsimPath: String?
    /// Definitions for the fleet and teardown figures (`secmaster-full-teardown`).
    public var workflowsDirectory: String
    public var pgbenchPath: String?
    /// Scratch files (worker logs, fleet file, seed); removed afterwards unless `keepFiles`.
    public var workDirectory: String
    public var keepFiles = false

    public init(adminConfiguration: PostgresConfiguration, executablePath: String, workflowsDirectory: String, workDirectory: String) {
        self.adminConfiguration = adminConfiguration
        self.executablePath = executablePath
        self.workflowsDirectory = workflowsDirectory
        self.workDirectory = workDirectory
    }

    /// Problems with the sizes, each as a sentence naming the flag.
    public func problems() -> [String] {
        var problems: [String] = []
        func positive(_ value: Int, _ flag: String) {
            if value < 1 { problems.append("\(flag) must be at least 1 (got \(value))") }
        }
        positive(workflows, "--workflows")
        positive(steps, "--steps")
        positive(workers, "--workers")
        // The workers refuse more than 1,024 slots; say so before starting anything rather than after.
        for (value, flag) in [(concurrency, "--concurrency"), (teardownConcurrency, "--teardown-concurrency")] where !(1...1024).contains(value) {
            problems.append("\(flag) must be between 1 and 1024, what unwind worker accepts (got \(value))")
        }
        positive(rounds, "--rounds")
        positive(latencyWorkflows, "--latency-workflows")
        positive(fleetRows, "--fleet")
        positive(accounts, "--accounts")
        positive(pgbenchSeconds, "--pgbench-seconds")
        positive(memoryWorkflows, "--memory-workflows")
        positive(cloudRateLimitPerMinute, "--cloud-rate-limit")
        if historyWorkflows < 0 { problems.append("--history must not be negative") }
        if !(cloudTimeScale > 0) { problems.append("--cloud-time-scale must be above 0") }
        if cloudLatencyMilliseconds < 0 { problems.append("--cloud-latency-ms must not be negative") }
        if steps > 200 { problems.append("--steps must be at most 200 (got \(steps))") }
        if !databaseName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) || databaseName.isEmpty || databaseName.utf8.count > 63 {
            problems.append("--database-name may contain ASCII letters, digits and _ only, at most 63 of them")
        }
        return problems
    }

    var effectivePgbenchClients: [Int] {
        if !pgbenchClients.isEmpty { return pgbenchClients }
        return Array(Set([workers, workers * concurrency])).sorted()
    }
}

/// Something the benchmark could not do, said so that the operator can fix it.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
