import Foundation
import Postgres

/// How a worker process runs steps. Every default is chosen for the SecMaster teardown (cloud calls of a
/// few seconds, asynchronous jobs polled through durable waits) and documented in the README.
public struct WorkerConfiguration: Sendable {
    /// Unique per process: hostname, pid and a random suffix.
    public var workerID: String
    /// Step attempts run at once (each on its own Dispatch queue, with its own pooled connection).
    public var concurrency: Int
    public var queues: [String]
    /// How long a claimed step stays leased without a heartbeat. A crashed worker's step runs again
    /// elsewhere about this long after the crash.
    public var leaseDuration: Duration
    /// How often leases of running steps are extended (a third of the lease by default).
    public var heartbeatInterval: Duration
    /// The longest an idle worker sleeps before looking for due work without a notification.
    public var pollInterval: Duration
    /// How often expired leases are rescued and scheduled workflows started.
    public var maintenanceInterval: Duration
    /// On SIGTERM/SIGINT: how long in-flight steps may take to finish before their attempts end as `worker_stopped`.
    public var shutdownGracePeriod: Duration
    public var version: String
    /// Where the listening connection goes, when it must bypass a transaction-pooling PgBouncer
    /// (`UNWIND_LISTEN_DATABASE_URL`); nil: the same database as everything else.
    public var listenConfiguration: PostgresConfiguration?
    /// Group commit: a finished attempt's result waits at most this long for attempts still running, so that
    /// results finishing close together share one transaction (zero: write each result as soon as it arrives).
    /// Never delays a step's start beyond its predecessor's durable completion, only the completion itself.
    public var batchWindow: Duration
    /// How often a result whose workflow's rows cannot be read (edited or damaged by hand) is tried again; it is kept,
    /// with its step's lease, until they are mended.
    public var unwritableRetryInterval: Duration = .seconds(300)

    public init(
        workerID: String? = nil, concurrency: Int = 8, queues: [String] = ["default"],
        leaseDuration: Duration = .seconds(30), heartbeatInterval: Duration? = nil,
        pollInterval: Duration = .seconds(1), maintenanceInterval: Duration = .milliseconds(500),
        shutdownGracePeriod: Duration = .seconds(30), version: String = "dev",
        listenConfiguration: PostgresConfiguration? = nil, batchWindow: Duration = .milliseconds(1)
    ) {
        self.batchWindow = batchWindow
        self.listenConfiguration = listenConfiguration
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let suffix = UUID().uuidString.prefix(6).lowercased()
        self.workerID = workerID ?? "\(host):\(getpid()):\(suffix)"
        self.concurrency = concurrency
        self.queues = queues
        self.leaseDuration = leaseDuration
        self.heartbeatInterval = heartbeatInterval ?? leaseDuration / 3
        self.pollInterval = pollInterval
        self.maintenanceInterval = maintenanceInterval
        self.shutdownGracePeriod = shutdownGracePeriod
        self.version = version
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    var dispatchInterval: DispatchTimeInterval {
        .nanoseconds(Int(clamping: components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000))
    }
}

import Dispatch

/// Another live worker process uses this worker ID.
public struct WorkerIDInUse: Error, Sendable, CustomStringConvertible {
    public var workerID: String
    public var hostname: String
    public var pid: Int32
    public var silentSeconds: Double

    public var description: String {
        "worker ID '\(workerID)' is in use by a running worker (pid \(pid) on \(hostname), heard from \(Int(silentSeconds))s ago); give this one another --worker-id, or stop that one first"
    }
}
