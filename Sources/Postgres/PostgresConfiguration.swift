internal import CLibPQ
import Foundation

/// Where and how to connect: a parsed PostgreSQL URL or key/value conninfo string.
///
/// Parsing is done by libpq itself (`PQconninfoParse`), so every option libpq knows (including the TLS ones:
/// `sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `sslcrl`, …, and unix-socket hosts) is accepted and passed
/// through unchanged. The password is kept but never printed: ``redactedDescription`` is safe to log.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// libpq keyword/value pairs in a stable order.
    public private(set) var options: [(keyword: String, value: String)]
    /// Use named server-side prepared statements for statements given a name (faster for hot statements).
    /// Turn off behind a transaction-pooling PgBouncer older than 1.21, which does not support them.
    public var usePreparedStatements: Bool = true
    /// Server settings every session applies right after connecting (and again after a reconnect), through
    /// `set_config`, so values need no quoting. See ``plansOnce``.
    public var sessionSettings: [(name: String, value: String)] = Self.failureDetectionSettings

    /// Every session's bounds on how long a lost or frozen client can hold what it locked. A worker stopped in the
    /// middle of a transaction (SIGSTOP, a paused VM, a partition) kept its workflow and step rows locked until the
    /// server noticed, two hours by the operating system's defaults, and every other worker's transitions and
    /// lease rescue waited on them. Unwind never leaves a transaction idle on purpose: a minute idle in one is a
    /// client that is gone. The keepalives let the server notice a client that vanished from the network in about
    /// a minute (they apply to TCP connections only).
    public static let failureDetectionSettings: [(name: String, value: String)] = [
        ("idle_in_transaction_session_timeout", "60s"),
        ("tcp_keepalives_idle", "30"), ("tcp_keepalives_interval", "10"), ("tcp_keepalives_count", "3"),
    ]

    /// The settings for sessions that run only statements whose best plan does not depend on their parameters
    /// (the engine's): each prepared statement is planned once per connection instead of at every execution.
    ///
    /// PostgreSQL plans a prepared statement for its parameter values at each of its first five executions, and
    /// goes on doing so for as long as those plans look cheaper than a generic one. For statements taking
    /// arrays (`unnest($1)`, `= ANY($1)`) they always do, since only a custom plan knows the array's length; the
    /// engine's statements were re-planned at every execution, about a millisecond of a two-millisecond
    /// step-to-step cycle. A generic plan is made once, though, from the statistics of that moment: made on a
    /// fresh database's empty tables it is a sequential scan, kept until the next `ANALYZE`, and scanning
    /// 40,000 steps per transition cut the throughput in half. Every engine statement is an index lookup, so
    /// sequential scans are also turned off (`enable_seqscan = off` only makes them the planner's last resort;
    /// a statement without a usable index still runs).
    public static let planOnceSettings: [(name: String, value: String)] = [
        ("plan_cache_mode", "force_generic_plan"),
        ("enable_seqscan", "off"),
    ]

    /// Whether this configuration applies ``planOnceSettings``.
    public var plansOnce: Bool {
        get { Self.planOnceSettings.allSatisfy { setting in sessionSettings.contains { $0 == setting } } }
        set {
            sessionSettings.removeAll { setting in Self.planOnceSettings.contains { $0.name == setting.name } }
            if newValue { sessionSettings += Self.planOnceSettings }
        }
    }

    /// Parses a `postgres://` / `postgresql://` URL or a key/value conninfo string (`host=/tmp dbname=x`).
    public init(_ connectionString: String) throws(PostgresError) {
        let trimmed = connectionString.trimmingSpaces
        guard !trimmed.isEmpty else {
            throw PostgresError(
                code: .invalidConfiguration,
                message: "the database URL is empty",
                hint: "set --database-url or UNWIND_DATABASE_URL to e.g. postgres://user@localhost:5432/unwind")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(trimmed, &errorMessage) else {
            var message = "malformed database URL"
            if let errorMessage {
                message += ": " + String(cString: errorMessage).trimmingSpaces
                PQfreemem(errorMessage)
            }
            throw PostgresError(
                code: .invalidConfiguration,
                message: Self.redact(message, in: trimmed),
                hint: "use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…] or key=value pairs such as 'host=/var/run/postgresql dbname=unwind'")
        }
        defer { PQconninfoFree(parsed) }
        var collected: [(String, String)] = []
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                collected.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        self.options = collected
        applyDefaults()
        if let port = self["port"], !port.split(separator: ",").allSatisfy({ Int($0) != nil }) {
            throw PostgresError(
                code: .invalidConfiguration,
                message: "malformed database URL: port '\(port)' is not a number",
                hint: "write the port as digits, e.g. postgres://user@localhost:5432/unwind")
        }
    }

    /// Builds a configuration from explicit options (e.g. the embedded database's socket directory).
    public init(options: [(keyword: String, value: String)]) {
        self.options = options
        applyDefaults()
    }

    /// Options libpq is given unless the URL sets them: a connection attempt gives up after 10 s, and a server that
    /// vanished (a partition, a host gone) is noticed in about a minute instead of the operating system's two hours.
    private mutating func applyDefaults() {
        for (keyword, value) in [("connect_timeout", "10"), ("application_name", "unwind"), ("keepalives_idle", "30"),
                                 ("keepalives_interval", "10"), ("keepalives_count", "3")] where self[keyword] == nil {
            setOption(keyword, value)
        }
    }

    public subscript(keyword: String) -> String? {
        options.first(where: { $0.keyword == keyword })?.value
    }

    /// Sets (or replaces) one libpq option, e.g. `dbname` or `sslmode`.
    public mutating func setOption(_ keyword: String, _ value: String) {
        if let index = options.firstIndex(where: { $0.keyword == keyword }) {
            options[index].value = value
        } else {
            options.append((keyword, value))
        }
    }

    /// A copy that connects to another database on the same server.
    public func with(database: String) -> PostgresConfiguration {
        var copy = self
        copy.setOption("dbname", database)
        return copy
    }

    /// Host, port, database and user, without the password: safe for logs and error messages.
    public var redactedDescription: String {
        let host = self["host"] ?? self["hostaddr"] ?? "localhost (default socket)"
        var text = "host=\(host)"
        if let port = self["port"] { text += " port=\(port)" }
        if let db = self["dbname"] { text += " dbname=\(db)" }
        if let user = self["user"] { text += " user=\(user)" }
        if let sslmode = self["sslmode"] { text += " sslmode=\(sslmode)" }
        return text
    }

    public var description: String { redactedDescription }

    /// Replaces any occurrence of the password in a libpq message with `***`.
    func redact(_ message: String) -> String {
        guard let password = self["password"] else { return message }
        return Self.redact(message, secret: password)
    }

    static func redact(_ message: String, in connectionString: String) -> String {
        // The string failed to parse, so we cannot ask libpq for the password; hide anything that looks like
        // the userinfo of a URL or a password=… pair instead.
        // A malformed URL may lack its "://" ("postgres//user:pw@host"), and a password may hold an "@": whatever
        // lies between the first ":" after any "//" and the last "@" is taken for a password.
        var result = message
        if let at = connectionString.lastIndex(of: "@") {
            let beforeAt = connectionString[..<at]
            let userinfo = beforeAt[(beforeAt.range(of: "//")?.upperBound ?? beforeAt.startIndex)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let secret = String(userinfo[userinfo.index(after: colon)...])
                result = redact(result, secret: secret)
            }
        }
        for token in connectionString.split(separator: " ") where token.hasPrefix("password=") {
            result = redact(result, secret: String(token.dropFirst("password=".count)))
        }
        // A URL's query parameters: `?password=…&…`. libpq echoes a malformed one (a bad percent-escape) whole.
        if let query = connectionString.firstIndex(of: "?") {
            for parameter in connectionString[connectionString.index(after: query)...].split(separator: "&")
            where parameter.lowercased().hasPrefix("password=") {
                let value = String(parameter.dropFirst("password=".count))
                result = redact(result, secret: value)
                if let decoded = value.removingPercentEncoding { result = redact(result, secret: decoded) }
            }
        }
        return result
    }

    static func redact(_ message: String, secret: String) -> String {
        guard secret.count >= 1 else { return message }
        return message.replacingOccurrences(of: secret, with: "***")
    }
}

extension String {
    var trimmingSpaces: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
