import Dispatch
import Foundation
import Logging
import Synchronization

/// A small, bounded pool of ``PostgresConnection``s, safe to use from many Dispatch threads at once.
///
/// Connections are opened lazily up to ``maximumConnections``; a caller that finds them all busy waits up
/// to ``acquireTimeout`` and then gets ``PostgresError/Code/poolExhausted``. A connection the server closed
/// while it sat idle (a restart, a failover) is found out before it is lent (``PostgresConnection/noticeServerClosed()``)
/// and reconnects on its first call, so a restart costs no failed call; one that breaks while in use fails that call.
public final class PostgresConnectionPool: Sendable {
    public let configuration: PostgresConfiguration
    public let maximumConnections: Int
    public let acquireTimeout: Duration
    private let permits: DispatchSemaphore
    private let state = Mutex(State())
    private let logger: Logger

    private struct State: Sendable {
        var idle: [PostgresConnection] = []
        var opened = 0
        var inUse = 0
        var closed = false
    }

    /// Point-in-time figures for metrics and `unwind doctor`.
    public struct Usage: Sendable, Equatable {
        public var opened: Int
        public var inUse: Int
        public var maximum: Int
    }

    public init(
        configuration: PostgresConfiguration, maximumConnections: Int = 10, acquireTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "unwind.postgres.pool")
    ) {
        precondition(maximumConnections > 0, "a pool needs at least one connection")
        self.configuration = configuration
        self.maximumConnections = maximumConnections
        self.acquireTimeout = acquireTimeout
        self.permits = DispatchSemaphore(value: maximumConnections)
        self.logger = logger
    }

    public var usage: Usage {
        state.withLock { Usage(opened: $0.opened, inUse: $0.inUse, maximum: maximumConnections) }
    }

    /// Borrows a connection for the duration of `body` (which runs on the calling thread).
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        defer { release(connection) }
        return try body(connection)
    }

    /// Runs `body` in a transaction on a pooled connection, running the whole transaction again (up to
    /// `maxAttempts` times) when it fails with a serialization failure, a deadlock or a lost connection.
    /// `body` must therefore be safe to repeat: it should only touch the database.
    @discardableResult
    public func transaction<T>(
        isolation: PostgresConnection.IsolationLevel = .readCommitted, maxAttempts: Int = 5,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        var attempt = 1
        while true {
            do {
                return try withConnection { try $0.transaction(isolation: isolation, body) }
            } catch let error as PostgresError where error.isSerializationFailureOrDeadlock && attempt < maxAttempts {
                logger.debug("retrying transaction", metadata: ["attempt": "\(attempt)", "sqlstate": "\(error.sqlState ?? "")"])
                attempt += 1
                // Short randomized pause so two conflicting transactions do not collide again in lockstep.
                usleep(UInt32.random(in: 1_000...(5_000 * UInt32(attempt))))
            }
        }
    }

    /// Closes idle connections and refuses new borrowers.
    public func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        _ = idle  // deinit closes each connection
    }

    private func acquire() throws(PostgresError) -> PostgresConnection {
        let nanoseconds = acquireTimeout.components.seconds * 1_000_000_000
            + acquireTimeout.components.attoseconds / 1_000_000_000
        guard permits.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else {
            throw PostgresError(
                code: .poolExhausted,
                message: "all \(maximumConnections) database connections stayed busy for \(acquireTimeout)",
                hint: "raise the pool size or lower the worker concurrency")
        }
        let reused: PostgresConnection?? = state.withLock { state in
            if state.closed { return .none }
            state.inUse += 1
            return .some(state.idle.popLast())
        }
        guard let reused else {
            permits.signal()
            throw PostgresError(code: .poolClosed, message: "the connection pool is closed")
        }
        if let reused {
            if reused.noticeServerClosed() { logger.info("a pooled connection was closed by the server; it reconnects on its next call") }
            return reused
        }
        do {
            let connection = try PostgresConnection(configuration: configuration, logger: logger)
            state.withLock { $0.opened += 1 }
            return connection
        } catch {
            state.withLock { $0.inUse -= 1 }
            permits.signal()
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        state.withLock { state in
            state.inUse -= 1
            if state.closed {
                state.opened -= 1
            } else {
                state.idle.append(connection)
            }
        }
        permits.signal()
    }
}
