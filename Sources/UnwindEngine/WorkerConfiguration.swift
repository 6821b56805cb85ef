import Foundation

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
    /// On SIGTERM/SIGINT: how long in-flight steps may take to finish before their leases are handed back.
    public var shutdownGracePeriod: Duration
    public var version: String

    public init(
        workerID: String? = nil, concurrency: Int = 8, queues: [String] = ["default"],
        leaseDuration: Duration = .seconds(30), heartbeatInterval: Duration? = nil,
        pollInterval: Duration = .seconds(1), maintenanceInterval: Duration = .milliseconds(500),
        shutdownGracePeriod: Duration = .seconds(30), version: String = "dev"
    ) {
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
