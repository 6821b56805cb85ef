import ArgumentParser
import Foundation
import LocalPostgres
import Logging
import Postgres
import Synchronization
import UnwindObservability

/// Where the database is: `--database-url`, else `UNWIND_DATABASE_URL`, else the embedded local cluster.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL or key=value conninfo (default: $UNWIND_DATABASE_URL, else the embedded local database).",
            valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: $UNWIND_LOG_LEVEL, else warning; info for unwind worker and unwind serve).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp(
        "text (for people) or json (one JSON object per line, for log collectors) (default: $UNWIND_LOG_FORMAT, else text).",
        valueName: "format"))
    var logFormat: String?

    enum Source {
        case configured
        case embedded(LocalPostgresCluster)
    }

    struct Resolved {
        var configuration: PostgresConfiguration
        var source: Source
        var summary: String
    }

    func makeLogger(label: String = "unwind") throws -> Logger {
        let text = logLevel ?? ProcessInfo.processInfo.environment["UNWIND_LOG_LEVEL"] ?? "warning"
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let source = logLevel == nil ? "UNWIND_LOG_LEVEL" : "--log-level"
            throw CLIError(
                description: "\(source): unknown log level '\(text)'; use one of trace, debug, info, notice, warning, error, critical",
                status: .usage)
        }
        LoggingBootstrap.bootstrap(level: level, format: try LogFormat.resolve(logFormat))
        return Logger(label: label)
    }

    /// Resolves the database, creating and starting the embedded cluster when nothing is configured.
    func resolve(logger: Logger) throws -> Resolved {
        let environment = ProcessInfo.processInfo.environment
        // Set but empty is a mistake (an env file's `UNWIND_DATABASE_URL=`, compose's `${DB_URL}` with DB_URL
        // unset), not a request for the embedded database: a worker would run happily against an empty one.
        if databaseURL == nil, environment["UNWIND_DATABASE_URL"]?.isEmpty == true {
            throw CLIError(
                description: "UNWIND_DATABASE_URL is set but empty: set it to the server's URL (e.g. postgres://unwind@db.internal/unwind), or unset it to use the embedded local database",
                status: .usage)
        }
        if let url = databaseURL ?? environment["UNWIND_DATABASE_URL"] {
            var configuration = try PostgresConfiguration(url)
            configuration.usePreparedStatements = try Self.preparedStatements(environment)
            if let path = environment["UNWIND_DATABASE_PASSWORD_FILE"], !path.isEmpty {
                configuration.setOption("password", try SecretFile.read(path, purpose: "UNWIND_DATABASE_PASSWORD_FILE"))
            }
            return Resolved(configuration: configuration, source: .configured, summary: configuration.redactedDescription)
        }
        // A password file names a server to connect to: without its URL the command would quietly use the
        // embedded database instead, and an operator's jobs would land where nobody runs workers.
        if let path = environment["UNWIND_DATABASE_PASSWORD_FILE"], !path.isEmpty {
            throw CLIError(
                description: "UNWIND_DATABASE_PASSWORD_FILE is set but no database URL is: set UNWIND_DATABASE_URL (or --database-url) to the server the password is for, or unset UNWIND_DATABASE_PASSWORD_FILE to use the embedded database",
                status: .usage)
        }
        let cluster = LocalPostgresCluster.defaultLocation()
        let configuration = try cluster.ensureRunning(logger: logger)
        return Resolved(
            configuration: configuration, source: .embedded(cluster),
            summary: "embedded database in \(cluster.dataDirectory) (unix socket \(cluster.socketDirectory))")
    }
}

/// `LoggingSystem.bootstrap` traps when called twice, and a command may need a logger in several places
/// (e.g. `submit` runs the plan first): the first call wins, like swift-log's own process-wide setting.
/// A file holding one secret (e.g. the database password): it must belong to the user running unwind and be
/// unreadable by anyone else, like ssh keys and libpq's own .pgpass.
///
/// Except inside `$CREDENTIALS_DIRECTORY`: systemd's `LoadCredential=` puts each secret there owned by root, mode
/// 0400 plus an ACL that lets the service's user alone read it (so `stat` shows mode 0440 and another owner), in
/// a private read-only directory of the unit. The same variable names the secrets volume in the container
/// examples (deploy/), whose platforms own those files too. Those files are the platform's to protect.
enum SecretFile {
    static func read(_ path: String, purpose: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CLIError(description: "\(purpose): cannot read '\(path)': \(String(cString: strerror(errno)))", status: .usage)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CLIError(description: "\(purpose): '\(path)' is not a regular file; name the file that holds the secret", status: .usage)
        }
        if isInCredentialsDirectory(path, environment: environment) {
            return try contents(path, purpose: purpose)
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CLIError(description: "\(purpose): '\(path)' is readable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run: chmod 600 \(path)", status: .usage)
        }
        guard info.st_uid == geteuid() else {
            throw CLIError(description: "\(purpose): '\(path)' belongs to another user; it must belong to the user running unwind", status: .usage)
        }
        return try contents(path, purpose: purpose)
    }

    /// True when `path` lies inside `$CREDENTIALS_DIRECTORY` (both resolved, so `..` and symlinks cannot fake it).
    static func isInCredentialsDirectory(_ path: String, environment: [String: String]) -> Bool {
        guard let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else { return false }
        let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().standardizedFileURL.path
        let file = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
        return root != "/" && file.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    private static func contents(_ path: String, purpose: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CLIError(description: "\(purpose): cannot read '\(path)'", status: .usage)
        }
        let secret = text.trimmingCharacters(in: .newlines)
        // An empty file is a deployment mistake (a secret not mounted yet); connecting without the password would
        // fall back to PGPASSWORD or ~/.pgpass and fail, or worse succeed, as someone else.
        guard !secret.isEmpty else {
            throw CLIError(description: "\(purpose): '\(path)' is empty; write the secret into it (one line)", status: .usage)
        }
        return secret
    }
}

extension DatabaseOptions {
    /// `UNWIND_DB_PREPARED_STATEMENTS=off` turns named prepared statements off: needed behind PgBouncer older than
    /// 1.21 in transaction pooling mode, where a prepared statement lives on a server connection the next
    /// transaction may not get.
    static func preparedStatements(_ environment: [String: String]) throws -> Bool {
        switch environment["UNWIND_DB_PREPARED_STATEMENTS"]?.lowercased() {
        case nil, "", "on", "true", "1", "yes": return true
        case "off", "false", "0", "no": return false
        case let other?:
            throw CLIError(description: "UNWIND_DB_PREPARED_STATEMENTS='\(other)' is not on or off", status: .usage)
        }
    }

    /// `UNWIND_LISTEN_DATABASE_URL`: a direct connection for LISTEN when the main URL goes through PgBouncer.
    static func listenConfiguration(_ environment: [String: String]) throws -> PostgresConfiguration? {
        guard let url = environment["UNWIND_LISTEN_DATABASE_URL"], !url.isEmpty else { return nil }
        do {
            return try PostgresConfiguration(url)
        } catch {
            throw CLIError(
                description: "UNWIND_LISTEN_DATABASE_URL: \(error.message); set it to a direct PostgreSQL URL (e.g. postgres://unwind@db.internal:5432/unwind), or unset it",
                status: .usage)
        }
    }
}

enum LoggingBootstrap {
    private static let done = Mutex(false)

    /// - Parameter format: nil reads `UNWIND_LOG_FORMAT` (text when unset or not understood: commands without
    ///   `--log-format` must still log somewhere rather than fail).
    static func bootstrap(level: Logger.Level, format: LogFormat? = nil) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        switch format ?? (try? LogFormat.resolve(nil)) ?? .text {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                JSONLogHandler.standardError(label: label, level: level)
            }
        }
    }
}

/// `--log-format` / `UNWIND_LOG_FORMAT`.
enum LogFormat: String, CaseIterable {
    /// swift-log's stream format (`timestamp level label: key=value message`), for people at a terminal.
    case text
    /// One JSON object per line (ts, level, label, message, source and the flattened metadata).
    case json

    static func resolve(_ explicit: String?) throws -> LogFormat {
        let environment = ProcessInfo.processInfo.environment["UNWIND_LOG_FORMAT"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = explicit ?? environment else { return .text }
        guard let format = LogFormat(rawValue: text.lowercased()) else {
            let origin = explicit != nil ? "--log-format" : "UNWIND_LOG_FORMAT"
            throw CLIError(description: "\(origin): unknown log format '\(text)'; use text or json", status: .usage)
        }
        return format
    }
}
