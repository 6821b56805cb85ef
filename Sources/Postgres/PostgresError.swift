/// Every failure of the PostgreSQL layer: connecting, running a statement, decoding a row, or the pool.
///
/// Callers branch on ``code`` and ``sqlState`` (never on message text). The ``description`` is written for
/// humans and never contains the connection password.
public struct PostgresError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A stable identity for the kind of failure; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidConfiguration, connectionFailed, connectionLost, server, decoding,
                 transactionAborted, poolExhausted, poolClosed, unexpectedResult, invalidParameter
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The connection string or URL could not be parsed or names an unknown option.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The server could not be reached or refused the connection (wrong password, unknown host, …).
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while a statement was in flight; the next call reconnects.
        public static let connectionLost = Code(.connectionLost)
        /// The server answered with an error; see ``PostgresError/sqlState``.
        public static let server = Code(.server)
        /// A value in a row could not be decoded into the Swift type asked for.
        public static let decoding = Code(.decoding)
        /// A statement inside a transaction failed earlier, so the transaction was rolled back instead of committed.
        public static let transactionAborted = Code(.transactionAborted)
        /// No connection became free within the pool's acquire timeout.
        public static let poolExhausted = Code(.poolExhausted)
        /// The pool was closed.
        public static let poolClosed = Code(.poolClosed)
        /// The server returned something this layer did not expect (e.g. COPY mode).
        public static let unexpectedResult = Code(.unexpectedResult)
        /// A parameter cannot be sent as PostgreSQL text: it holds a NUL character, which libpq's C strings would
        /// silently cut short. Nothing was sent for the statement.
        public static let invalidParameter = Code(.invalidParameter)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The five-character SQLSTATE for server errors (e.g. `23505`), `nil` otherwise.
    public var sqlState: String?
    /// The primary, human-readable message.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// The name of the statement that failed (for example `claim_ready_steps`), when known.
    public var statement: String?
    /// For decoding errors: the column and the expected Swift type.
    public var column: String?
    public var expectedType: String?

    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        statement: String? = nil, column: String? = nil, expectedType: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.statement = statement
        self.column = column
        self.expectedType = expectedType
    }

    /// `40001` serialization failure or `40P01` deadlock: the whole transaction should simply be run again.
    public var isSerializationFailureOrDeadlock: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// `23505` unique violation.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// `23P01`/`23505`-style constraint names are in ``detail``; this reports the class `23` (integrity).
    public var isIntegrityConstraintViolation: Bool { sqlState?.hasPrefix("23") ?? false }
    /// The connection is gone (broken socket, server shut down or restarting, backend terminated).
    /// The next call on the same connection tries to reconnect.
    public var isConnectionLost: Bool {
        if code == .connectionLost || code == .connectionFailed { return true }
        guard let state = sqlState else { return false }
        // 08xxx connection exceptions; 57P01 admin shutdown; 57P02 crash shutdown; 57P03 cannot connect now.
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }
    /// The server cannot be reached right now but may be soon: stopped or restarting, starting up, out of
    /// connection slots, or the network is down. Wrong passwords, unknown databases, `pg_hba.conf` refusals and TLS
    /// failures are not: waiting does not fix those. (libpq reports connection failures as text, without SQLSTATE.)
    public var isServerUnavailable: Bool {
        if sqlState == "57P03" || sqlState == "53300" { return true }
        guard code == .connectionFailed || code == .connectionLost else { return false }
        let text = message.lowercased()
        let permanent = ["password authentication failed", "does not exist", "no pg_hba.conf entry", "certificate",
                         "ssl", "authentication method", "permission denied for database", "invalid connection option"]
        if permanent.contains(where: text.contains) { return false }
        let unavailable = ["connection refused", "no such file or directory", "shutting down", "starting up",
                           "in recovery mode", "too many clients", "remaining connection slots", "timeout expired",
                           "server closed the connection", "connection reset", "network is unreachable", "no route to host",
                           "could not translate host name", "temporary failure in name resolution"]
        return unavailable.contains(where: text.contains)
    }

    /// Failures worth retrying the whole unit of work for: lost connections, serialization failures, deadlocks.
    public var isTransient: Bool { isConnectionLost || isSerializationFailureOrDeadlock || code == .poolExhausted }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let statement { text += " in statement '\(statement)'" }
        if let detail, !detail.isEmpty { text += "\nDETAIL: \(detail)" }
        if let hint, !hint.isEmpty { text += "\nHINT: \(hint)" }
        return text
    }
}
