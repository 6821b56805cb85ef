import Dispatch
import Logging
import Postgres
import Synchronization
import UnwindObservability
import UnwindStore

/// The database as operators' probes and dashboards see it: readiness (reachable, migrations current) and the
/// sampled queue gauges.
///
/// It has a connection of its own, used from one serial queue, so that a probe never waits behind busy step
/// attempts for a pooled connection, and never takes one from them. The connection is opened on first use and
/// reconnects by itself after the server came back.
public final class DatabaseProbe: Sendable {
    public enum Readiness: Sendable, Equatable {
        case ready
        /// Why not, in words for an operator (never a password: libpq's messages do not contain one).
        case notReady(reason: String)
    }

    private let configuration: PostgresConfiguration
    private let migrator: Migrator
    private let logger: Logger
    private let connection = Mutex<PostgresConnection?>(nil)
    private let newerSchemaWarned = Mutex(false)
    /// The last unreachable-database error logged, so that a long outage logs each new cause once.
    private let lastFailureLogged = Mutex<String?>(nil)
    private let queue = DispatchQueue(label: "unwind.database-probe")

    public init(configuration: PostgresConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.migrator = try Migrator.embedded(logger: logger)
    }

    /// Readiness, checked on the probe's own queue (the cooperative thread pool never blocks on libpq).
    public func readiness() async -> Readiness {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.checkReadiness()) }
        }
    }

    /// Reads the queue statistics and sets the queue and pool gauges. Errors (the database is away) are logged at
    /// debug level and leave the gauges as they were: the worker's own log already says the database is down.
    public func sample(into metrics: UnwindMetrics, pool: PostgresConnectionPool?) async {
        if let pool {
            let usage = pool.usage
            metrics.pool(inUse: usage.inUse, idle: max(0, usage.opened - usage.inUse))
        }
        let statistics: QueueStatistics? = await withCheckedContinuation { continuation in
            queue.async {
                do {
                    continuation.resume(returning: try self.withConnection { try QueueStatistics.read(on: $0) })
                } catch {
                    self.logger.debug("cannot sample the queue metrics", metadata: ["error": "\(error)"])
                    continuation.resume(returning: nil)
                }
            }
        }
        if let statistics {
            metrics.queue(readySteps: statistics.readySteps, oldestReadyAge: statistics.oldestReadyAgeSeconds)
            metrics.workflows(byState: statistics.workflowsByState)
        }
    }

    /// Blocking; call from the probe's queue.
    private func checkReadiness() -> Readiness {
        do {
            let status = try withConnection { try migrator.status(connection: $0) }
            // A migration this binary does not know was applied while it runs: the upgrade's first step (migrations
            // before binaries). Each migration is written to work with the binary before it, so this process goes on
            // serving until it is replaced; were it reported not ready, every old replica would leave the load
            // balancer before a new one joined.
            let problems = status.problems.filter { if case .unknownAppliedMigration = $0 { false } else { true } }
            if let newer = status.problems.first(where: { !problems.contains($0) }), newerSchemaWarned.withLock({ warned in
                defer { warned = true }
                return !warned
            }) {
                logger.warning("the database was migrated by a newer version of Unwind; this process keeps running, upgrade it", metadata: ["migration": "\(newer)"])
            }
            if let problem = problems.first {
                return .notReady(reason: "migrations: \(problem)")
            }
            if !status.pending.isEmpty {
                return .notReady(reason: "\(status.pending.count) migration(s) pending; run: unwind migrate")
            }
            lastFailureLogged.withLock { $0 = nil }
            return .ready
        } catch {
            // /readyz answers anyone who can reach it (on `unwind serve`, the API's port): the reason names the kind
            // of failure only; the host, database and role it involves go to this process's log.
            let detail = "\(error)"
            if lastFailureLogged.withLock({ last in defer { last = detail }; return last != detail }) {
                logger.warning("readiness: the database cannot be reached", metadata: ["error": "\(detail)"])
            }
            let kind = (error as? PostgresError).map { "\($0.code)" } ?? "error"
            return .notReady(reason: "database unreachable (\(kind)); this process's log says why")
        }
    }

    private func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let existing = connection.withLock { $0 }
        let current: PostgresConnection
        if let existing {
            current = existing
        } else {
            current = try PostgresConnection(configuration: configuration, logger: logger)
            connection.withLock { $0 = current }
        }
        return try body(current)
    }
}
