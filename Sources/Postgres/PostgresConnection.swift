internal import CLibPQ
import Foundation
import Logging
import Synchronization

/// The libpq connection pointer. `PGconn` is not safe to use from two threads at once; the invariant that
/// makes this wrapper sendable is that it is only dereferenced while ``PostgresConnection``'s lock is held.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// A statement with its parameters, for ``PostgresConnection/pipeline(_:)`` and ``PostgresConnection/enqueue(_:)``.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var parameters: [any PostgresEncodable]
    /// As in ``PostgresConnection/query(_:_:name:)``: the prepared statement's name, and the name in errors.
    public var name: String?

    public init(_ sql: String, _ parameters: [any PostgresEncodable] = [], name: String?) {
        self.sql = sql
        self.parameters = parameters
        self.name = name
    }
}

/// A notification delivered by `NOTIFY channel, 'payload'`.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    public var senderPID: Int32
}

/// One PostgreSQL connection over libpq.
///
/// Calls block the calling thread (run them on Dispatch queues or threads, never on Swift's cooperative
/// pool). The connection serialises its users with a recursive lock, so it may be shared, and a thread that
/// holds a ``transaction(_:)`` keeps every other thread out until it commits or rolls back.
///
/// When the server goes away, the call in flight fails with ``PostgresError/Code/connectionLost`` and the
/// next call reconnects (re-issuing `LISTEN` for the channels this connection listens on).
public final class PostgresConnection: Sendable {
    public let configuration: PostgresConfiguration
    private let handle: ConnectionHandle
    private let lock = NSRecursiveLock()
    private let state: Mutex<State>
    private let logger: Logger

    private struct State: Sendable {
        var preparedStatements: Set<String> = []
        /// Per statement name, the array parameters its text declares (see ``PostgresArrayElementType``).
        var declaredArrayParameters: [String: [PostgresArrayElementType?]] = [:]
        /// Where the transaction of ``transaction(isolation:_:)`` is. Its `BEGIN` is not sent alone: it goes out
        /// with the transaction's first statement, in one round trip.
        var transaction: TransactionPhase = .none
        /// Statements queued by ``enqueue(_:)``, sent ahead of the transaction's next statement or its `COMMIT`.
        var queued: [PostgresStatement] = []
        var listeningChannels: [String] = []
        /// Set after a reconnect so a listener knows notifications may have been missed in the gap.
        var reconnectedSinceLastWait = false
        var closed = false
        /// Set when the server spoke on this idle connection without being asked (its farewell before closing
        /// it): the next call reconnects rather than read that message as its own answer.
        var mustReconnect = false
    }

    /// Opens a connection; throws ``PostgresError/Code/connectionFailed`` with libpq's reason (password
    /// redacted) when the server is unreachable or refuses.
    public init(configuration: PostgresConfiguration, logger: Logger = Logger(label: "unwind.postgres")) throws(PostgresError) {
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State())
        let pointer = Self.connect(configuration)
        guard PQstatus(pointer) == CONNECTION_OK else {
            let message = configuration.redact(Self.errorMessage(pointer))
            PQfinish(pointer)
            throw PostgresError(
                code: .connectionFailed,
                message: "cannot connect to PostgreSQL (\(configuration.redactedDescription)): \(message)")
        }
        Self.silenceNotices(pointer)
        do {
            try Self.applySessionSettings(configuration, pointer: pointer)
        } catch {
            PQfinish(pointer)
            throw error
        }
        self.handle = ConnectionHandle(pointer: pointer)
        logger.debug("connected", metadata: ["db": "\(configuration.redactedDescription)"])
    }

    deinit {
        PQfinish(handle.pointer)
    }

    /// The server's version number, e.g. `150018` for 15.18.
    public var serverVersion: Int {
        lock.withLock { Int(PQserverVersion(handle.pointer)) }
    }

    /// The backend process ID (useful for `pg_terminate_backend` in tests and for diagnostics).
    public var backendPID: Int32 {
        lock.withLock { PQbackendPID(handle.pointer) }
    }

    /// False when libpq knows the connection is broken; the next call will try to reconnect.
    public var isHealthy: Bool {
        lock.withLock { PQstatus(handle.pointer) == CONNECTION_OK }
    }

    /// Whether the server closed this idle connection since its last use (a restart, a failover, an
    /// administrator's `pg_terminate_backend`), looked for on the socket without a round trip. libpq learns of it
    /// only when it next reads, so the next statement would fail (costing a step attempt, or a checkpoint); after
    /// this returns true the next statement reconnects first. A pool calls it before lending a connection out.
    /// A connection that listens keeps its notifications queued for ``waitForNotifications(timeout:wakeup:)``.
    @discardableResult
    public func noticeServerClosed() -> Bool {
        lock.withLock {
            let pointer = handle.pointer
            guard PQstatus(pointer) == CONNECTION_OK else { return true }
            let (idle, listens) = state.withLock { state in
                let idle = if case .none = state.transaction { true } else { false }
                return (idle, !state.listeningChannels.isEmpty)
            }
            guard idle else { return false }
            let socket = PQsocket(pointer)
            guard socket >= 0 else { return true }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { return false }
            if PQconsumeInput(pointer) != 1 || PQstatus(pointer) != CONNECTION_OK { return true }
            // Readable, still open: a notification on a listening connection, or the server's error message
            // ahead of its closing the socket, which nothing asked for.
            guard !listens else { return false }
            state.withLock { $0.mustReconnect = true }
            return true
        }
    }

    private enum TransactionPhase: Sendable {
        case none
        case beginPending(String)
        case open
        /// Committed by ``commit(after:)`` before the body returned.
        case committed
    }

    // MARK: - Statements

    /// Runs one statement with `$n` parameters and returns its rows.
    ///
    /// - Parameters:
    ///   - sql: the statement text; values never go into it, only `$1…$n` placeholders.
    ///   - parameters: the values for the placeholders, in order (`nil` is SQL NULL).
    ///   - name: a stable statement name; it appears in errors and, when prepared statements are on, names the
    ///     server-side prepared statement so hot statements are parsed and planned once per connection.
    @discardableResult
    public func query(
        _ sql: String, _ parameters: [any PostgresEncodable] = [], name: String? = nil
    ) throws(PostgresError) -> PostgresResult {
        try withLockedConnection { pointer throws(PostgresError) in
            let ahead = try takeStatementsAhead()
            guard !ahead.isEmpty else {
                return try run(pointer, sql: sql, parameters: parameters, name: name, retryingMissingPrepared: true)
            }
            let statement = PostgresStatement(sql, parameters, name: name)
            return try runPipeline(pointer, ahead + [statement], retryingMissingPrepared: true).last!
        }
    }

    /// Runs statements in one round trip (libpq pipeline mode) and returns their results in order.
    ///
    /// They run one after the other as usual; only the waiting between them is saved. Outside a transaction they
    /// form one implicit transaction: all of them take effect or none. The first failure is thrown, and the
    /// statements after it are not run.
    public func pipeline(_ statements: [PostgresStatement]) throws(PostgresError) -> [PostgresResult] {
        guard !statements.isEmpty else { return [] }
        return try withLockedConnection { pointer throws(PostgresError) in
            let ahead = try takeStatementsAhead()
            return Array(try runPipeline(pointer, ahead + statements, retryingMissingPrepared: true).suffix(statements.count))
        }
    }

    /// Queues a statement whose result the caller does not need (a write, a `NOTIFY`).
    ///
    /// Inside ``transaction(isolation:_:)`` it is sent together with the transaction's next statement, or with its
    /// `COMMIT`: one round trip for both. If it fails, that next call throws its error (naming this statement) and
    /// the transaction rolls back. Outside a transaction it runs at once.
    public func enqueue(_ statement: PostgresStatement) throws(PostgresError) {
        try withLockedConnection { pointer throws(PostgresError) in
            let inTransaction = try state.withLock { state throws(PostgresError) -> Bool in
                switch state.transaction {
                case .none: return false
                case .committed:
                    throw PostgresError(code: .unexpectedResult, message: "a statement was queued after commit(after:) ended the transaction",
                                        statement: statement.name)
                case .beginPending, .open:
                    state.queued.append(statement)
                    return true
                }
            }
            if !inTransaction {
                _ = try run(pointer, sql: statement.sql, parameters: statement.parameters, name: statement.name,
                            retryingMissingPrepared: true)
            }
        }
    }

    /// Runs several statements given as one string without parameters (used for migrations and `BEGIN`).
    public func executeScript(_ sql: String, name: String) throws(PostgresError) {
        try withLockedConnection { pointer throws(PostgresError) in
            let ahead = try takeStatementsAhead()
            if !ahead.isEmpty { _ = try runPipeline(pointer, ahead, retryingMissingPrepared: true) }
            guard let result = PQexec(pointer, sql) else { throw lostError(pointer, statement: name) }
            defer { PQclear(result) }
            _ = try checkResult(result, pointer: pointer, statement: name)
        }
    }

    // MARK: - Transactions

    /// How strictly concurrent transactions are isolated.
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` inside `BEGIN … COMMIT`. A thrown error (Swift or SQL) rolls back and is rethrown.
    ///
    /// If a statement failed inside `body` but the error was swallowed, the transaction is aborted on the
    /// server; this is detected before `COMMIT` and reported as ``PostgresError/Code/transactionAborted``
    /// instead of silently rolling back. Other threads cannot use this connection until the transaction ends.
    @discardableResult
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let nested = state.withLock { state -> Bool in
            if case .none = state.transaction {
                state.transaction = .beginPending(
                    isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)")
                return false
            }
            return true
        }
        // A transaction inside a transaction is part of it (PostgreSQL has no nested BEGIN).
        if nested { return try body(self) }
        defer { state.withLock { $0.transaction = .none; $0.queued.removeAll() } }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        let (sentNothing, queued, committed) = state.withLock { state -> (Bool, [PostgresStatement], Bool) in
            switch state.transaction {
            case .beginPending: return (true, state.queued, false)
            case .committed: return (false, [], true)
            case .none, .open: return (false, state.queued, false)
            }
        }
        if committed { return value }
        // Nothing was sent and nothing is queued: there is no transaction on the server to end.
        if sentNothing && queued.isEmpty { return value }
        do {
            // The queued writes and the COMMIT in one round trip; a failure of any of them rolls back.
            _ = try commit(after: [])
        } catch {
            rollbackQuietly()
            throw error
        }
        return value
    }

    /// Ends the transaction of ``transaction(isolation:_:)`` from inside its body: sends what is queued, then
    /// `statements`, then `COMMIT`, in one round trip, and returns the results of `statements`, which are only
    /// returned once the commit has succeeded. The body must not run statements on this connection afterwards.
    public func commit(after statements: [PostgresStatement]) throws(PostgresError) -> [PostgresResult] {
        try withLockedConnection { pointer throws(PostgresError) in
            let inTransaction = state.withLock { state -> Bool in
                switch state.transaction {
                case .beginPending, .open: return true
                case .none, .committed: return false
                }
            }
            guard inTransaction else {
                throw PostgresError(code: .unexpectedResult, message: "commit(after:) was called outside a transaction",
                                    statement: statements.last?.name)
            }
            if PQtransactionStatus(pointer) == PQTRANS_INERROR {
                throw PostgresError(
                    code: .transactionAborted,
                    message: "the transaction was rolled back because a statement inside it failed",
                    hint: "an error from a statement in this transaction was caught and not rethrown")
            }
            let ahead = try takeStatementsAhead()
            let results = try runPipeline(
                pointer, ahead + statements + [PostgresStatement("COMMIT", name: nil)], retryingMissingPrepared: true)
            state.withLock { $0.transaction = .committed }
            return Array(results.dropLast().suffix(statements.count))
        }
    }

    /// The statements that must go ahead of the next one: the pending `BEGIN` and the queued statements.
    /// Taking them marks the transaction as begun.
    private func takeStatementsAhead() throws(PostgresError) -> [PostgresStatement] {
        try state.withLock { state throws(PostgresError) in
            if case .committed = state.transaction {
                throw PostgresError(code: .unexpectedResult,
                                    message: "a statement was run after commit(after:) ended the transaction")
            }
            var ahead: [PostgresStatement] = []
            if case .beginPending(let begin) = state.transaction {
                ahead.append(PostgresStatement(begin, name: nil))
                state.transaction = .open
            }
            guard !ahead.isEmpty || !state.queued.isEmpty else { return [] }
            ahead += state.queued
            state.queued.removeAll()
            return ahead
        }
    }

    private func rollbackQuietly() {
        let status = PQtransactionStatus(handle.pointer)
        guard status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE else { return }
        if let result = PQexec(handle.pointer, "ROLLBACK") { PQclear(result) }
    }

    // MARK: - LISTEN / NOTIFY

    /// Starts listening on `channel`. The channel is re-listened automatically after a reconnect.
    public func listen(_ channel: String) throws(PostgresError) {
        try withLockedConnection { pointer throws(PostgresError) in
            let identifier = try escapeIdentifier(channel, pointer: pointer)
            guard let result = PQexec(pointer, "LISTEN \(identifier)") else {
                throw lostError(pointer, statement: "listen")
            }
            defer { PQclear(result) }
            _ = try checkResult(result, pointer: pointer, statement: "listen")
            state.withLock { if !$0.listeningChannels.contains(channel) { $0.listeningChannels.append(channel) } }
        }
    }

    /// Stops listening on `channel`.
    public func unlisten(_ channel: String) throws(PostgresError) {
        try withLockedConnection { pointer throws(PostgresError) in
            let identifier = try escapeIdentifier(channel, pointer: pointer)
            guard let result = PQexec(pointer, "UNLISTEN \(identifier)") else { throw lostError(pointer, statement: "unlisten") }
            defer { PQclear(result) }
            _ = try checkResult(result, pointer: pointer, statement: "unlisten")
            state.withLock { $0.listeningChannels.removeAll { $0 == channel } }
        }
    }

    /// Sends `NOTIFY` on `channel` with `payload` (through `pg_notify`, so the payload is a parameter).
    public func notify(_ channel: String, payload: String = "") throws(PostgresError) {
        try query("SELECT pg_notify($1, $2)", [channel, payload], name: "notify")
    }

    /// Waits until a notification arrives, `wakeup` is signalled, or `timeout` passes, sleeping in `poll(2)`
    /// on the connection's socket (no busy polling). Returns the notifications received (possibly none).
    ///
    /// After a reconnect the returned ``NotificationWait/reconnected`` is true: notifications sent while
    /// the connection was down were lost, so the caller should look for work by polling once.
    public func waitForNotifications(
        timeout: Duration, wakeup: PostgresWakeup? = nil
    ) throws(PostgresError) -> NotificationWait {
        try withLockedConnection { pointer throws(PostgresError) in
            let reconnected = state.withLock { state in
                defer { state.reconnectedSinceLastWait = false }
                return state.reconnectedSinceLastWait
            }
            guard PQconsumeInput(pointer) == 1 else { throw lostError(pointer, statement: "wait_for_notifications") }
            var notifications = drainNotifications(pointer)
            if !notifications.isEmpty || reconnected {
                return NotificationWait(notifications: notifications, reconnected: reconnected)
            }
            let socket = PQsocket(pointer)
            guard socket >= 0 else { throw lostError(pointer, statement: "wait_for_notifications") }
            var descriptors = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
            if let wakeup { descriptors.append(pollfd(fd: wakeup.readDescriptor, events: Int16(POLLIN), revents: 0)) }
            let milliseconds = PostgresWakeup.pollMilliseconds(timeout)
            var ready: Int32
            repeat {
                ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            } while ready < 0 && errno == EINTR
            if descriptors.count > 1, descriptors[1].revents != 0 { wakeup?.drain() }
            if descriptors[0].revents != 0 {
                guard PQconsumeInput(pointer) == 1 else { throw lostError(pointer, statement: "wait_for_notifications") }
                notifications = drainNotifications(pointer)
            }
            return NotificationWait(notifications: notifications, reconnected: false)
        }
    }

    public struct NotificationWait: Sendable {
        public var notifications: [PostgresNotification]
        public var reconnected: Bool
    }

    private func drainNotifications(_ pointer: OpaquePointer) -> [PostgresNotification] {
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(pointer) {
            notifications.append(PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
                senderPID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return notifications
    }

    // MARK: - Internals

    /// Takes the lock, reconnects if libpq knows the connection is broken, and runs `body` with the pointer.
    private func withLockedConnection<T>(_ body: (OpaquePointer) throws(PostgresError) -> T) throws(PostgresError) -> T {
        lock.lock()
        defer { lock.unlock() }
        let pointer = handle.pointer
        let mustReconnect = state.withLock { $0.mustReconnect }
        if PQstatus(pointer) != CONNECTION_OK || mustReconnect {
            // A transaction that has begun died with its connection: what it did is gone, so its next statement
            // must fail too rather than run on a new session outside any transaction.
            let begun = state.withLock { state -> Bool in
                switch state.transaction {
                case .open, .committed: return true
                case .none, .beginPending: return false
                }
            }
            if begun { throw lostError(pointer, statement: nil) }
            try reconnect(pointer)
        }
        return try body(pointer)
    }

    private func reconnect(_ pointer: OpaquePointer) throws(PostgresError) {
        // Never silently reconnect in the middle of a transaction: the caller must see the failure.
        logger.info("reconnecting to PostgreSQL", metadata: ["db": "\(configuration.redactedDescription)"])
        state.withLock { $0.mustReconnect = false }
        PQreset(pointer)
        guard PQstatus(pointer) == CONNECTION_OK else {
            throw PostgresError(
                code: .connectionLost,
                message: "lost the connection to PostgreSQL (\(configuration.redactedDescription)) and could not reconnect: \(configuration.redact(Self.errorMessage(pointer)))")
        }
        Self.silenceNotices(pointer)
        try Self.applySessionSettings(configuration, pointer: pointer)
        let channels = state.withLock { state in
            state.preparedStatements.removeAll()
            state.reconnectedSinceLastWait = !state.listeningChannels.isEmpty
            return state.listeningChannels
        }
        for channel in channels {
            let identifier = try escapeIdentifier(channel, pointer: pointer)
            guard let result = PQexec(pointer, "LISTEN \(identifier)") else { throw lostError(pointer, statement: "listen") }
            defer { PQclear(result) }
            _ = try checkResult(result, pointer: pointer, statement: "listen")
        }
        logger.info("reconnected to PostgreSQL", metadata: ["db": "\(configuration.redactedDescription)"])
    }

    private func run(
        _ pointer: OpaquePointer, sql: String, parameters: [any PostgresEncodable], name: String?,
        retryingMissingPrepared: Bool
    ) throws(PostgresError) -> PostgresResult {
        let count = Int32(parameters.count)
        let usePrepared = configuration.usePreparedStatements && name != nil
        let result: OpaquePointer?
        if usePrepared, let name {
            let isPrepared = state.withLock { $0.preparedStatements.contains(name) }
            if !isPrepared {
                guard let prepared = PQprepare(pointer, name, sql, count, nil) else {
                    throw lostError(pointer, statement: name)
                }
                defer { PQclear(prepared) }
                _ = try checkResult(prepared, pointer: pointer, statement: name)
                state.withLock { _ = $0.preparedStatements.insert(name) }
            }
            result = try Self.withParameterValues(parameters, types: declaredArrayParameters(name: name, sql: sql), statement: name) {
                PQexecPrepared(pointer, name, count, $0, $1, $2, 0)
            }
        } else {
            result = try Self.withParameterValues(parameters, types: declaredArrayParameters(name: name, sql: sql), statement: name) {
                PQexecParams(pointer, sql, count, nil, $0, $1, $2, 0)
            }
        }
        guard let result else { throw lostError(pointer, statement: name) }
        defer { PQclear(result) }
        do {
            return try checkResult(result, pointer: pointer, statement: name)
        } catch let error where error.sqlState == "26000" && usePrepared && retryingMissingPrepared
            && PQtransactionStatus(pointer) == PQTRANS_IDLE {
            // The server forgot our prepared statement (DISCARD ALL, a pooler switched sessions): prepare again.
            state.withLock { $0.preparedStatements.removeAll() }
            return try run(pointer, sql: sql, parameters: parameters, name: name, retryingMissingPrepared: false)
        }
    }

    /// Sends `statements` in pipeline mode with one sync point and reads every result up to it, so nothing is
    /// returned before the last statement (a `COMMIT`, say) has been answered.
    ///
    /// The connection stays in blocking mode. That is safe here because the statements pipelined are few and answer
    /// with small results, which fit in the socket buffers while the rest is still being sent.
    private func runPipeline(
        _ pointer: OpaquePointer, _ statements: [PostgresStatement], retryingMissingPrepared: Bool
    ) throws(PostgresError) -> [PostgresResult] {
        let startedIdle = PQtransactionStatus(pointer) == PQTRANS_IDLE
        // Every parameter is encoded before anything is sent: a value refused (a NUL character) in a later
        // statement must not leave the earlier ones sent, and committed by the sync point outside a transaction.
        var encoded: [EncodedParameters] = []
        defer { for parameters in encoded { parameters.release() } }
        for statement in statements {
            let types = declaredArrayParameters(name: statement.name, sql: statement.sql)
            encoded.append(try Self.encodeParameters(statement.parameters, types: types, statement: statement.name))
        }
        guard PQenterPipelineMode(pointer) == 1 else {
            throw PostgresError(code: .unexpectedResult, message: "cannot enter pipeline mode: \(Self.errorMessage(pointer))")
        }
        enum Expected { case prepare(String), statement(Int) }
        var expected: [Expected] = []
        let known = state.withLock { $0.preparedStatements }
        var preparing: Set<String> = []
        var sent = true
        for (index, statement) in statements.enumerated() {
            let count = Int32(statement.parameters.count)
            let accepted: Int32
            if configuration.usePreparedStatements, let name = statement.name {
                if !known.contains(name) && !preparing.contains(name) {
                    guard PQsendPrepare(pointer, name, statement.sql, count, nil) == 1 else { sent = false; break }
                    preparing.insert(name)
                    expected.append(.prepare(name))
                }
                accepted = encoded[index].withPointers { PQsendQueryPrepared(pointer, name, count, $0, $1, $2, 0) }
            } else {
                accepted = encoded[index].withPointers { PQsendQueryParams(pointer, statement.sql, count, nil, $0, $1, $2, 0) }
            }
            guard accepted == 1 else { sent = false; break }
            expected.append(.statement(index))
        }
        if PQpipelineSync(pointer) != 1 { sent = false }

        // Each command answers with one result and then NULL; the sync point answers PGRES_PIPELINE_SYNC. After a
        // failure, the commands up to the sync point answer PGRES_PIPELINE_ABORTED.
        var results: [PostgresResult?] = Array(repeating: nil, count: statements.count)
        var failure: PostgresError?
        var next = 0
        var nullsInARow = 0
        while true {
            guard let result = PQgetResult(pointer) else {
                nullsInARow += 1
                if nullsInARow > 1 || PQstatus(pointer) != CONNECTION_OK { break }
                continue
            }
            nullsInARow = 0
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC { break }
            guard next < expected.count else { continue }
            let item = expected[next]
            next += 1
            if status == PGRES_PIPELINE_ABORTED { continue }
            switch item {
            case .prepare(let name):
                do {
                    _ = try checkResult(result, pointer: pointer, statement: name)
                    state.withLock { _ = $0.preparedStatements.insert(name) }
                } catch {
                    if failure == nil { failure = error }
                }
            case .statement(let index):
                do {
                    results[index] = try checkResult(result, pointer: pointer, statement: statements[index].name)
                } catch {
                    if failure == nil { failure = error }
                }
            }
        }
        guard PQstatus(pointer) == CONNECTION_OK else {
            throw failure.flatMap { $0.isConnectionLost ? $0 : nil } ?? lostError(pointer, statement: statements.last?.name)
        }
        if PQexitPipelineMode(pointer) != 1 {
            // Results left unread: the connection cannot run plain statements any more. Dropped, not lent again.
            state.withLock { $0.mustReconnect = true }
            throw PostgresError(code: .unexpectedResult, message: "cannot leave pipeline mode: \(Self.errorMessage(pointer))",
                                statement: statements.last?.name)
        }
        guard sent else {
            throw PostgresError(code: .unexpectedResult, message: "could not send a pipelined statement: \(Self.errorMessage(pointer))",
                                statement: statements.last?.name)
        }
        if let failure {
            if failure.sqlState == "26000" && retryingMissingPrepared && startedIdle {
                // The server forgot our prepared statements (DISCARD ALL, a pooler switched sessions). Everything
                // this pipeline did is undone with its transaction, so it can be sent again, preparing anew.
                if PQtransactionStatus(pointer) != PQTRANS_IDLE, let rollback = PQexec(pointer, "ROLLBACK") { PQclear(rollback) }
                state.withLock { $0.preparedStatements.removeAll() }
                return try runPipeline(pointer, statements, retryingMissingPrepared: false)
            }
            throw failure
        }
        guard results.allSatisfy({ $0 != nil }) else {
            throw PostgresError(code: .unexpectedResult, message: "a pipelined statement returned no result",
                                statement: statements.last?.name)
        }
        return results.map { $0! }
    }

    /// The parameters as libpq wants them (owned by the caller, who calls ``EncodedParameters/release()``), or the
    /// error for a value PostgreSQL text cannot hold, with nothing left allocated. An array whose statement
    /// declares its type (`types`, from ``PostgresArrayElementType/declaredArrayParameters(in:)``) goes in binary
    /// format when its elements allow; everything else as text.
    ///
    /// A text holding a NUL character would reach the server cut short at it (as a C string), turning one value
    /// into another without a word: such a parameter is refused instead.
    private static func encodeParameters(
        _ parameters: [any PostgresEncodable], types: [PostgresArrayElementType?], statement: String?
    ) throws(PostgresError) -> EncodedParameters {
        var encoded = EncodedParameters()
        encoded.values.reserveCapacity(parameters.count)
        encoded.lengths.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            if index < types.count, let type = types[index], let array = parameter as? any PostgresBinaryArrayEncodable,
               let bytes = array.postgresBinaryArray(of: type) {
                let pointer = malloc(max(bytes.count, 1))?.assumingMemoryBound(to: CChar.self)
                bytes.withUnsafeBytes { source in
                    if let pointer, let base = source.baseAddress { memcpy(pointer, base, bytes.count) }
                }
                encoded.append(pointer, length: Int32(bytes.count), binary: true)
                continue
            }
            guard let text = parameter.postgresText else { encoded.append(nil, length: 0, binary: false); continue }
            let pointer = strdup(text)
            encoded.append(pointer, length: 0, binary: false)
            if let pointer, strlen(pointer) != text.utf8.count {
                encoded.release()
                throw PostgresError(
                    code: .invalidParameter,
                    message: "parameter $\(index + 1) holds a NUL character (\\u0000), which PostgreSQL text cannot hold; the value was refused rather than cut short",
                    statement: statement)
            }
        }
        return encoded
    }

    private static func withParameterValues<R>(
        _ parameters: [any PostgresEncodable], types: [PostgresArrayElementType?] = [], statement: String?,
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
    ) throws(PostgresError) -> R {
        let encoded = try encodeParameters(parameters, types: types, statement: statement)
        defer { encoded.release() }
        return encoded.withPointers(body)
    }

    /// The declared array parameters of a named statement, read from its text once per connection.
    private func declaredArrayParameters(name: String?, sql: String) -> [PostgresArrayElementType?] {
        guard let name else { return [] }
        if let known = state.withLock({ $0.declaredArrayParameters[name] }) { return known }
        let types = PostgresArrayElementType.declaredArrayParameters(in: sql)
        state.withLock { $0.declaredArrayParameters[name] = types }
        return types
    }

    private func checkResult(_ result: OpaquePointer, pointer: OpaquePointer, statement: String?) throws(PostgresError) -> PostgresResult {
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return Self.copyResult(result, statement: statement)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            if PQstatus(pointer) != CONNECTION_OK {
                throw lostError(pointer, statement: statement)
            }
            func field(_ code: UInt8) -> String? {
                guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
                return String(cString: value)
            }
            let sqlState = field(UInt8(ascii: "C"))
            let error = PostgresError(
                code: .server,
                message: field(UInt8(ascii: "M")) ?? Self.errorMessage(pointer),
                sqlState: sqlState,
                detail: field(UInt8(ascii: "D")),
                hint: field(UInt8(ascii: "H")),
                statement: statement)
            if error.isConnectionLost {
                throw PostgresError(
                    code: .connectionLost, message: "lost the connection to PostgreSQL: \(error.message)",
                    sqlState: sqlState, statement: statement)
            }
            throw error
        default:
            throw PostgresError(
                code: .unexpectedResult,
                message: "unexpected result status \(String(cString: PQresStatus(status)))",
                statement: statement)
        }
    }

    private func lostError(_ pointer: OpaquePointer, statement: String?) -> PostgresError {
        PostgresError(
            code: .connectionLost,
            message: "lost the connection to PostgreSQL (\(configuration.redactedDescription)): \(configuration.redact(Self.errorMessage(pointer)))",
            hint: "the next call reconnects; if this keeps happening, check that the server is running",
            statement: statement)
    }

    private func escapeIdentifier(_ identifier: String, pointer: OpaquePointer) throws(PostgresError) -> String {
        guard let escaped = PQescapeIdentifier(pointer, identifier, identifier.utf8.count) else {
            throw PostgresError(code: .server, message: "cannot quote identifier: \(Self.errorMessage(pointer))")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    private static func copyResult(_ result: OpaquePointer, statement: String?) -> PostgresResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var names: [String] = []
        var types: [UInt32] = []
        names.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            names.append(String(cString: PQfname(result, Int32(column))))
            types.append(UInt32(PQftype(result, Int32(column))))
        }
        let columns = PostgresColumns(names: names, typeOIDs: types, statement: statement)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let tag = String(cString: PQcmdStatus(result))
        let tuples = String(cString: PQcmdTuples(result))
        return PostgresResult(columns: columns, rows: rows, affectedRows: Int(tuples) ?? rowCount, commandTag: tag)
    }

    private static func connect(_ configuration: PostgresConfiguration) -> OpaquePointer {
        let keywords = configuration.options.map { strdup($0.keyword) } + [nil]
        let values = configuration.options.map { strdup($0.value) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        return keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywordBuffer in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { valueBuffer in
                PQconnectdbParams(keywordBuffer.baseAddress, valueBuffer.baseAddress, 0)
            }
        }
    }

    /// Applies ``PostgresConfiguration/sessionSettings`` to a new session.
    private static func applySessionSettings(_ configuration: PostgresConfiguration, pointer: OpaquePointer) throws(PostgresError) {
        let settings = configuration.sessionSettings
        guard !settings.isEmpty else { return }
        // All in one statement: one round trip per new connection.
        let calls = settings.indices.map { "set_config($\($0 * 2 + 1), $\($0 * 2 + 2), false)" }.joined(separator: ", ")
        let parameters: [any PostgresEncodable] = settings.flatMap { [$0.name, $0.value] }
        let result = try withParameterValues(parameters, statement: "set_config") {
            PQexecParams(pointer, "SELECT \(calls)", Int32(parameters.count), nil, $0, $1, $2, 0)
        }
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_TUPLES_OK else {
            throw PostgresError(
                code: .invalidConfiguration,
                message: "PostgreSQL refused the session settings \(settings.map { "\($0.name) = \($0.value)" }.joined(separator: ", ")): \(configuration.redact(Self.errorMessage(pointer)))")
        }
    }

    private static func silenceNotices(_ pointer: OpaquePointer) {
        // libpq prints NOTICE messages (e.g. "relation already exists, skipping") to stderr by default;
        // they are not errors and must not reach an operator's terminal.
        PQsetNoticeProcessor(pointer, { _, _ in }, nil)
    }

    static func errorMessage(_ pointer: OpaquePointer?) -> String {
        guard let pointer, let message = PQerrorMessage(pointer) else { return "unknown error" }
        let text = String(cString: message).trimmingSpaces
        // libpq messages can span several lines ("connection to server … failed: FATAL: …"); keep them on one.
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
            .replacingOccurrences(of: "FATAL:  ", with: "")
    }
}

/// A self-pipe that wakes a thread blocked in ``PostgresConnection/waitForNotifications(timeout:wakeup:)``,
/// e.g. for a prompt shutdown.
public final class PostgresWakeup: Sendable {
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    public init() {
        var descriptors: [Int32] = [0, 0]
        if pipe(&descriptors) != 0 { descriptors = [-1, -1] }
        readDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
        for descriptor in descriptors where descriptor >= 0 {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
    }

    deinit {
        close(readDescriptor)
        close(writeDescriptor)
    }

    /// Sleeps until ``signal()`` is called or `timeout` passes (for waiting without a database connection).
    /// Returns true when woken by a signal.
    @discardableResult
    public func wait(timeout: Duration) -> Bool {
        var descriptor = pollfd(fd: readDescriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Self.pollMilliseconds(timeout)
        var ready: Int32
        repeat {
            ready = poll(&descriptor, 1, milliseconds)
        } while ready < 0 && errno == EINTR
        if ready > 0 { drain() }
        return ready > 0
    }

    /// `poll`'s timeout, rounded up: a sub-millisecond timeout (a batch window's remainder) must sleep, not
    /// round down to zero and make its caller spin.
    static func pollMilliseconds(_ timeout: Duration) -> Int32 {
        guard timeout > .zero else { return 0 }
        let (seconds, attoseconds) = timeout.components
        return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    /// Wakes the waiter (if any) once.
    public func signal() {
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
    }
}

/// Statement parameters as libpq takes them: each value's bytes (a C string for text, NULL for SQL NULL), and for
/// binary values their lengths and formats. The memory is `malloc`ed; ``release()`` frees it.
struct EncodedParameters {
    var values: [UnsafeMutablePointer<CChar>?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    private var anyBinary = false

    mutating func append(_ value: UnsafeMutablePointer<CChar>?, length: Int32, binary: Bool) {
        values.append(value)
        lengths.append(length)
        formats.append(binary ? 1 : 0)
        anyBinary = anyBinary || binary
    }

    func release() {
        for value in values { free(value) }
    }

    /// Calls `body` with the values, and the lengths and formats when any value is binary (libpq reads text values
    /// as C strings and needs neither then).
    func withPointers<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R) -> R {
        guard !values.isEmpty else { return body(nil, nil, nil) }
        return values.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                guard anyBinary else { return body(values, nil, nil) }
                return lengths.withUnsafeBufferPointer { lengths in
                    formats.withUnsafeBufferPointer { formats in body(values, lengths.baseAddress, formats.baseAddress) }
                }
            }
        }
    }
}
