import ArgumentParser
import Foundation
import HuaweiCloud
import Logging
import Postgres
import UnwindCore
import UnwindEngine
import UnwindObservability
import UnwindStore
import SecMasterTeardown

/// The actions this binary knows. The engine itself knows no cloud; actions are registered here.
enum BuiltInActions {
    static var registry: ActionRegistry { registry(metrics: .disabled) }

    /// The registry a worker runs with: its cloud clients report to `metrics` and call through `connections`.
    static func registry(metrics: UnwindMetrics, connections: CloudConnectionPool? = nil) -> ActionRegistry {
        var registry = ActionRegistry()
        TestActions.register(into: &registry)
        TeardownActions.register(
            into: &registry, environment: CloudSettings.fromEnvironment().teardownEnvironment(metrics: metrics, connections: connections))
        return registry
    }
}

/// Cloud settings from the environment:
/// - `UNWIND_CLOUD_ENDPOINT`: one base URL for every service (e.g. the simulator); else the regional endpoints;
/// - `UNWIND_BSS_ENDPOINT`: the BSS endpoint (default the China site's; `https://bss-intl.myhuaweicloud.com` for
///   the international site);
/// - `UNWIND_CLOUD_TIMEOUT` (default 30s) per call; `UNWIND_CLOUD_POLL_INTERVAL` (default 5s) between checks of
///   orders, jobs and deletions (durable waits that free the worker);
/// - credentials: `HUAWEICLOUD_SDK_AK`/`HUAWEICLOUD_SDK_SK` for profile `default`, `UNWIND_PROFILE_<NAME>_AK`/`_SK`,
///   or the credentials file `$UNWIND_CREDENTIALS_FILE` (default `~/.config/unwind/credentials`, mode 0600).
struct CloudSettings {
    var endpointOverride: String?
    var bssEndpoint: String?
    var timeout: Duration
    var pollInterval: Duration
    /// BSS's refund rules as this account's contract has them, when they differ from the published ones
    /// (`UNWIND_FULL_REFUND_WINDOW_DAYS`, `UNWIND_FULL_REFUNDS_PER_YEAR`, `UNWIND_HANDLING_FEE_BASE`).
    var estimator = RefundEstimator()

    static let windowKey = "UNWIND_FULL_REFUND_WINDOW_DAYS", refundsKey = "UNWIND_FULL_REFUNDS_PER_YEAR", feeBaseKey = "UNWIND_HANDLING_FEE_BASE"

    static let timeoutKey = "UNWIND_CLOUD_TIMEOUT", defaultTimeout = Duration.seconds(30)
    static let pollIntervalKey = "UNWIND_CLOUD_POLL_INTERVAL", defaultPollInterval = Duration.seconds(5)

    /// Refuses a setting that is present but unreadable (commands that call the cloud check this first), rather
    /// than running with the default the operator meant to change.
    static func check(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        for (key, fallback) in [(timeoutKey, defaultTimeout), (pollIntervalKey, defaultPollInterval)] {
            guard let text = environment[key], !text.isEmpty, Duration(definitionText: text) == nil else { continue }
            throw ValidationError("\(key)='\(text)' is not a duration; write e.g. 30s, 500ms or 2m (default \(fallback.components.seconds)s)")
        }
        if let text = environment[windowKey], !text.isEmpty, Double(text).map({ $0.isFinite && (0...366).contains($0) }) != true {
            throw ValidationError("\(windowKey)='\(text)' is not a number of days from 0 to 366 (default 5)")
        }
        if let text = environment[refundsKey], !text.isEmpty, Int(text).map({ (0...1000).contains($0) }) != true {
            throw ValidationError("\(refundsKey)='\(text)' is not a whole number from 0 to 1000 (default 10)")
        }
        if let text = environment[feeBaseKey], !text.isEmpty, RefundEstimator.FeeBase(rawValue: text) == nil {
            throw ValidationError("\(feeBaseKey)='\(text)' is neither 'remaining' (the rate applies to what is left after consumption; the default) nor 'paid'")
        }
        do {
            _ = try CloudTransport.fromEnvironment(environment)
        } catch {
            throw ValidationError(error.description)
        }
        // A malformed endpoint would otherwise fail every teardown at its first call (and compensate it).
        let settings = fromEnvironment(environment)
        do {
            _ = try CloudEndpoints(region: "cn-north-4", override: settings.endpointOverride, bssEndpoint: settings.bssEndpoint)
        } catch {
            throw ValidationError(error.hint.map { "\(error.message); \($0)" } ?? error.message)
        }
    }

    /// The settings; an unreadable duration falls back to its default (`check` is what refuses it).
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> CloudSettings {
        func duration(_ key: String, _ fallback: Duration) -> Duration {
            environment[key].flatMap { Duration(definitionText: $0) } ?? fallback
        }
        var estimator = RefundEstimator()
        if let days = environment[windowKey].flatMap(Double.init), days.isFinite, (0...366).contains(days) { estimator.windowDays = days }
        if let count = environment[refundsKey].flatMap({ Int($0) }), (0...1000).contains(count) { estimator.fullRefundsPerYear = count }
        if let base = environment[feeBaseKey].flatMap(RefundEstimator.FeeBase.init(rawValue:)) { estimator.feeBase = base }
        return CloudSettings(
            endpointOverride: environment["UNWIND_CLOUD_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 },
            bssEndpoint: environment["UNWIND_BSS_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 },
            timeout: duration(timeoutKey, defaultTimeout),
            pollInterval: duration(pollIntervalKey, defaultPollInterval), estimator: estimator)
    }

    func teardownEnvironment(metrics: UnwindMetrics = .disabled, connections: CloudConnectionPool? = nil) -> TeardownEnvironment {
        TeardownEnvironment.standard(
            endpointOverride: endpointOverride, bssEndpoint: bssEndpoint, timeout: timeout, pollInterval: pollInterval,
            metrics: metrics, connections: connections, estimator: estimator)
    }
}

/// Where workflow definitions are read from: `--workflows-dir`, else `UNWIND_WORKFLOWS_DIR`, else `./workflows`.
struct WorkflowOptions: ParsableArguments {
    @Option(name: .customLong("workflows-dir"), help: ArgumentHelp("Directory of workflow definitions (default: $UNWIND_WORKFLOWS_DIR, else ./workflows).", valueName: "dir"))
    var workflowsDirectory: String?

    var directory: String {
        workflowsDirectory ?? ProcessInfo.processInfo.environment["UNWIND_WORKFLOWS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "workflows"
    }

    /// Throws a usage error when the directory is missing (a typo, a volume not mounted).
    func checkDirectory() throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory)
        guard exists, isDirectory.boolValue else {
            let what = exists ? "is not a directory" : "does not exist"
            throw CLIError(description: "workflow directory '\(directory)' \(what); pass --workflows-dir or set UNWIND_WORKFLOWS_DIR", status: .usage)
        }
    }

    /// Loads the catalog; definitions with errors are reported by `unwind workflows validate`.
    func catalog() throws -> (definitions: [WorkflowDefinition], errors: [DefinitionError]) {
        try checkDirectory()
        let registry = BuiltInActions.registry
        return WorkflowCatalog.load(directory: directory, knownActions: registry.names, planActions: registry.planNames)
    }

    func definition(named name: String) throws -> WorkflowDefinition {
        let (definitions, errors) = try catalog()
        switch WorkflowCatalog.lookup(name, definitions: definitions, errors: errors) {
        case .found(let definition):
            return definition
        case .broken(let broken):
            throw CLIError(description: "workflow '\(name)' is invalid:\n\(broken.description)", status: .usage)
        case .directoryUnreadable(let problem):
            throw CLIError(description: "\(problem.description)\nhint: check the directory's permissions, or pass --workflows-dir / set UNWIND_WORKFLOWS_DIR", status: .usage)
        case .unknown(let known):
            throw CLIError(
                description: "unknown workflow '\(name)'; known workflows: \(known.isEmpty ? "(none in \(directory))" : known.joined(separator: ", "))",
                status: .notFound)
        }
    }
}

/// The database-backed services a command needs.
struct Services {
    let pool: PostgresConnectionPool
    let store: WorkflowStore
    let logger: Logger

    /// - Parameters:
    ///   - waitForDatabase: long-running services (worker, serve) wait, with back-off, for a database that is down
    ///     or restarting instead of exiting; one-shot commands fail fast.
    ///   - plansOnce: the sessions plan each prepared statement once (``PostgresConfiguration/plansOnce``); for
    ///     workers, which run only the engine's statements.
    init(
        database: DatabaseOptions, connections: Int = 4, label: String = "unwind", waitForDatabase: Bool = false,
        plansOnce: Bool = false
    ) throws {
        logger = try database.makeLogger(label: label)
        var resolved = try database.resolve(logger: logger)
        // Without named prepared statements (behind an older transaction-pooling PgBouncer) every statement is
        // planned for its values anyway, and a session setting would reach whichever server session is current.
        resolved.configuration.plansOnce = plansOnce && resolved.configuration.usePreparedStatements
        // Fail fast with a readable message when the database cannot be reached or is not migrated.
        let probe = try Self.connect(resolved.configuration, waiting: waitForDatabase, logger: logger)
        let migrator = try Migrator.embedded(logger: logger)
        var status = try migrator.status(connection: probe)
        var checks = 0
        while !status.isCurrent {
            if let problem = status.problems.first { throw problem }
            let message = "the database is not migrated (\(status.pending.count) pending); run: unwind migrate"
            guard waitForDatabase else { throw CLIError(description: message, status: .databaseUnreachable) }
            // Started next to a migration job (Kubernetes, compose): not ready until the job has applied them.
            if checks % 30 == 0 { logger.warning("waiting for migrations before starting", metadata: ["reason": "\(message)"]) }
            checks += 1
            Thread.sleep(forTimeInterval: 2)
            status = try migrator.status(connection: probe)
        }
        // Tables changed by hand (a column dropped or retyped, a table dropped): every statement on them would fail
        // (a worker refusing every batch), or a submission be stored that can never run. Named now, with the fix.
        let tables = try DatabaseDiagnostics.readTables(connection: probe)
        let drift = tables.missing.map { "table \($0) is missing" } + tables.differences
        if !drift.isEmpty {
            throw CLIError(
                description: "the database's tables differ from what the migrations made (\(drift.prefix(4).joined(separator: "; "))); unwind doctor lists every difference: restore the tables (from a backup), or point Unwind at another database",
                status: .databaseUnreachable)
        }
        pool = PostgresConnectionPool(configuration: resolved.configuration, maximumConnections: connections, logger: logger)
        store = WorkflowStore(pool: pool, logger: logger)
    }

    private static func connect(_ configuration: PostgresConfiguration, waiting: Bool, logger: Logger) throws -> PostgresConnection {
        var backoff = Duration.milliseconds(200)
        var failures = 0
        while true {
            let error: PostgresError
            do {
                return try PostgresConnection(configuration: configuration, logger: logger)
            } catch let failure {
                error = failure
            }
            guard waiting, error.isServerUnavailable else { throw error }
            if failures % 20 == 0 {
                logger.warning("database unavailable; waiting and retrying with back-off", metadata: ["error": "\(error)"])
            }
            failures += 1
            Thread.sleep(forTimeInterval: Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18)
            backoff = min(backoff * 2, .seconds(5))
        }
    }
}

/// Refuses an `--as NAME` that cannot name who acts (see ``ActorName``); called from the commands' `validate()`.
func validateActor(_ explicit: String?) throws {
    if let explicit, let problem = ActorName.problem(explicit) {
        // The value is not echoed: it may hold the newline or control character that makes it wrong.
        throw ValidationError("--as: \(problem); name who is acting, e.g. --as jane.doe")
    }
}

/// Who is acting: `--as NAME` (checked by ``validateActor(_:)``); else the OS user (from the environment if it
/// holds a usable name, else the account database, else the uid).
func currentActor(_ explicit: String?) -> String {
    if let explicit { return explicit }
    let environment = ProcessInfo.processInfo.environment
    let candidates = [environment["USER"], environment["LOGNAME"], getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) }]
    return candidates.compactMap { $0 }.first { ActorName.problem($0) == nil } ?? "uid:\(getuid())"
}

/// Parses `30s`, `5m`, `1h30m`, `500ms`.
/// An age in seconds: days (`90d`) or hours, minutes and seconds (`720h`, `1h30m`), always with a unit, more than
/// zero and at most 100 years. A bare number is refused: for prune it deletes too much to be guessed at.
func parseAge(_ text: String, flag: String) throws -> Double {
    do {
        return try Age.seconds(text)
    } catch .tooLong {
        throw CLIError(description: "\(flag): '\(text)' is more than 100 years; write an age such as 90d, 720h or 30m", status: .usage)
    } catch {
        throw CLIError(description: "\(flag): '\(text)' is not an age; write a positive number with a unit, e.g. 90d, 720h or 30m", status: .usage)
    }
}

func parseDuration(_ text: String, flag: String) throws -> Duration {
    guard let duration = Duration(definitionText: text) else {
        throw CLIError(description: "\(flag): '\(text)' is not a duration; write e.g. 30s, 5m or 1h", status: .usage)
    }
    return duration
}
