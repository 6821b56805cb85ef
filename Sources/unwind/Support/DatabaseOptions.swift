import ArgumentParser
import Foundation
import LocalPostgres
import Logging
import Postgres

/// Where the database is: `--database-url`, else `UNWIND_DATABASE_URL`, else the embedded local cluster.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL or key=value conninfo (default: $UNWIND_DATABASE_URL, else the embedded local database).",
            valueName: "url"))
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: $UNWIND_LOG_LEVEL, else warning).")
    var logLevel: String?

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
            throw CLIError(
                description: "unknown log level '\(text)'; use one of trace, debug, info, notice, warning, error, critical",
                status: .usage)
        }
        LoggingBootstrap.bootstrap(level: level)
        return Logger(label: label)
    }

    /// Resolves the database, creating and starting the embedded cluster when nothing is configured.
    func resolve(logger: Logger) throws -> Resolved {
        let environment = ProcessInfo.processInfo.environment
        if let url = databaseURL ?? environment["UNWIND_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let configuration = try PostgresConfiguration(url)
            return Resolved(configuration: configuration, source: .configured, summary: configuration.redactedDescription)
        }
        let cluster = LocalPostgresCluster.defaultLocation()
        let configuration = try cluster.ensureRunning(logger: logger)
        return Resolved(
            configuration: configuration, source: .embedded(cluster),
            summary: "embedded database in \(cluster.dataDirectory) (unix socket \(cluster.socketDirectory))")
    }
}

/// `LoggingSystem.bootstrap` may run once per process; the CLI does it before the first logger is made.
enum LoggingBootstrap {
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
