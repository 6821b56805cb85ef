internal import CLibPQ
import Foundation
import Logging
import Synchronization

/// The libpq connection pointer. `PGconn` is not safe to use from two threads at once; the invariant that
/// makes this wrapper sendable is that it is only dereferenced while ``PostgresConnection``'s lock is held.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
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
        var listeningChannels: [String] = []
        /// Set after a reconnect so a listener knows notifications may have been missed in the gap.
        var reconnectedSinceLastWait = false
        var closed = false
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
            try run(pointer, sql: sql, parameters: parameters, name: name, retryingMissingPrepared: true)
        }
    }

    /// Runs several statements given as one string without parameters (used for migrations and `BEGIN`).
    public func executeScript(_ sql: String, name: String) throws(PostgresError) {
        try withLockedConnection { pointer throws(PostgresError) in
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
        let begin = isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)"
        try executeScript(begin, name: "begin")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        let status = PQtransactionStatus(handle.pointer)
        if status == PQTRANS_INERROR {
            rollbackQuietly()
            throw PostgresError(
                code: .transactionAborted,
                message: "the transaction was rolled back because a statement inside it failed",
                hint: "an error from a statement in this transaction was caught and not rethrown")
        }
        try executeScript("COMMIT", name: "commit")
        return value
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
        if PQstatus(pointer) != CONNECTION_OK {
            try reconnect(pointer)
        }
        return try body(pointer)
    }

    private func reconnect(_ pointer: OpaquePointer) throws(PostgresError) {
        // Never silently reconnect in the middle of a transaction: the caller must see the failure.
        logger.info("reconnecting to PostgreSQL", metadata: ["db": "\(configuration.redactedDescription)"])
        PQreset(pointer)
        guard PQstatus(pointer) == CONNECTION_OK else {
            throw PostgresError(
                code: .connectionLost,
                message: "lost the connection to PostgreSQL (\(configuration.redactedDescription)) and could not reconnect: \(configuration.redact(Self.errorMessage(pointer)))")
        }
        Self.silenceNotices(pointer)
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
        let texts = parameters.map { $0.postgresText }
        var cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in cStrings { free(pointer) } }

        let usePrepared = configuration.usePreparedStatements && name != nil
        let result: OpaquePointer?
        if usePrepared, let name {
            let isPrepared = state.withLock { $0.preparedStatements.contains(name) }
            if !isPrepared {
                guard let prepared = PQprepare(pointer, name, sql, Int32(texts.count), nil) else {
                    throw lostError(pointer, statement: name)
                }
                defer { PQclear(prepared) }
                _ = try checkResult(prepared, pointer: pointer, statement: name)
                state.withLock { _ = $0.preparedStatements.insert(name) }
            }
            result = cStrings.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) {
                    PQexecPrepared(pointer, name, Int32(texts.count), texts.isEmpty ? nil : $0, nil, nil, 0)
                }
            }
        } else {
            if cStrings.isEmpty { cStrings.append(nil) }
            result = cStrings.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                    PQexecParams(pointer, sql, Int32(texts.count), nil, texts.isEmpty ? nil : $0, nil, nil, 0)
                }
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
