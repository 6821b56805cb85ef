import Foundation
import Logging
import Postgres

/// The private PostgreSQL cluster `unwind` creates and starts on first use when no database is configured.
///
/// - It lives under the user's state directory (`$UNWIND_STATE_DIR`, else `$XDG_STATE_HOME/unwind`, else
///   `~/.local/state/unwind`; as root `/var/lib/unwind`).
/// - It listens on a unix socket only (`listen_addresses = ''`, no TCP port is opened), in a directory only
///   its owner can enter, with `trust` authentication for local connections: only the owning OS user (and
///   root) can reach it.
/// - PostgreSQL refuses to run as root, so when `unwind` runs as root the server runs as the dedicated
///   unprivileged system user `unwind`, created on first use.
public struct LocalPostgresCluster: Sendable {
    public let stateDirectory: String
    /// The OS user the server runs as when we are root; `nil` when we are an ordinary user.
    public let serverUser: String?
    public static let databaseName = "unwind"
    public static let roleName = "unwind"

    public var dataDirectory: String { stateDirectory + "/postgres/data" }
    public var socketDirectory: String { stateDirectory + "/postgres/run" }
    public var logFile: String { stateDirectory + "/postgres/server.log" }
    private var lockFile: String { stateDirectory + "/postgres.lock" }

    public init(stateDirectory: String, serverUser: String?) {
        self.stateDirectory = stateDirectory
        self.serverUser = serverUser
    }

    /// Where the cluster lives for the current user and environment.
    public static func defaultLocation(environment: [String: String] = ProcessInfo.processInfo.environment) -> LocalPostgresCluster {
        let isRoot = geteuid() == 0
        let directory: String
        if let configured = environment["UNWIND_STATE_DIR"], !configured.isEmpty {
            // Absolute, so that the server (started in its own directory) and every later command from another
            // directory find the same cluster.
            directory = configured.hasPrefix("/") ? configured
                : URL(fileURLWithPath: configured, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
        } else if isRoot {
            // Not XDG_STATE_HOME, even when set: as root the server runs as the `unwind` user, which must reach the
            // data directory (a root's or another user's home it cannot), and an install keeps its one database.
            directory = "/var/lib/unwind"
        } else if let xdg = environment["XDG_STATE_HOME"], xdg.hasPrefix("/") {
            // The XDG spec: a relative value is invalid and ignored.
            directory = xdg + "/unwind"
        } else {
            // An empty or relative HOME (`HOME= unwind …`) would put the database under / or the current directory.
            let home = environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
                ?? getpwuid(getuid()).flatMap { $0.pointee.pw_dir.map { String(cString: $0) } } ?? NSHomeDirectory()
            directory = home + "/.local/state/unwind"
        }
        return LocalPostgresCluster(stateDirectory: directory, serverUser: isRoot ? "unwind" : nil)
    }

    /// How to connect to the cluster's `unwind` database.
    public var configuration: PostgresConfiguration {
        PostgresConfiguration(options: [
            ("host", socketDirectory), ("user", Self.roleName), ("dbname", Self.databaseName),
        ])
    }

    public struct Status: Sendable {
        public var initialized: Bool
        public var running: Bool
        public var serverPID: Int?
        public var dataDirectory: String
        public var socketDirectory: String
        public var logFile: String
    }

    public func status() throws(LocalPostgresError) -> Status {
        let initialized = FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION")
        var running = false
        var pid: Int?
        if initialized {
            let binaries = try PostgresBinaries.locate()
            let result = run(binaries.path("pg_ctl"), ["status", "-D", dataDirectory], asServerUser: true)
            running = result.status == 0
            if running, let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8) {
                pid = text.split(separator: "\n").first.flatMap { Int($0) }
            }
        }
        return Status(
            initialized: initialized, running: running, serverPID: pid, dataDirectory: dataDirectory,
            socketDirectory: socketDirectory, logFile: logFile)
    }

    /// Creates the cluster if needed, starts it if it is not running and creates the `unwind` database.
    /// Safe to call from several processes at once (a file lock serialises them).
    @discardableResult
    public func ensureRunning(logger: Logger) throws(LocalPostgresError) -> PostgresConfiguration {
        let socketPath = socketDirectory + "/.s.PGSQL.5432"
        guard socketPath.utf8.count < 100 else {
            throw .pathTooLong(socketPath)
        }
        try createStateDirectory()
        return try withFileLock { () throws(LocalPostgresError) -> PostgresConfiguration in
            let binaries = try PostgresBinaries.locate()
            if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
                try initialize(binaries, logger: logger)
            }
            let status = run(binaries.path("pg_ctl"), ["status", "-D", dataDirectory], asServerUser: true)
            if status.status != 0 {
                logger.info("starting the embedded PostgreSQL", metadata: ["data": "\(dataDirectory)"])
                // A stale postmaster.pid from a killed server is handled by pg_ctl/postgres themselves.
                let start = run(
                    binaries.path("pg_ctl"),
                    ["start", "-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-s"],
                    asServerUser: true)
                guard start.status == 0 else {
                    throw .commandFailed(
                        command: "pg_ctl start", output: start.output + lastLines(of: logFile),
                        hint: "see \(logFile)")
                }
            }
            try createDatabaseIfMissing()
            return configuration
        }
    }

    /// Stops the server (fast shutdown: open transactions are rolled back). Returns false if it was not running.
    @discardableResult
    public func stop() throws(LocalPostgresError) -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return false }
        let binaries = try PostgresBinaries.locate()
        guard run(binaries.path("pg_ctl"), ["status", "-D", dataDirectory], asServerUser: true).status == 0 else {
            return false
        }
        let result = run(binaries.path("pg_ctl"), ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-s"], asServerUser: true)
        guard result.status == 0 else {
            throw .commandFailed(command: "pg_ctl stop", output: result.output, hint: "see \(logFile)")
        }
        return true
    }

    // MARK: - Steps

    private func createStateDirectory() throws(LocalPostgresError) {
        let postgresDirectory = stateDirectory + "/postgres"
        try Self.makeDirectories(postgresDirectory)
        try Self.makeDirectories(socketDirectory)
        if let serverUser {
            try ensureSystemUser(serverUser)
            // The server user owns its directories; nobody else may enter the socket or data directories.
            for path in [postgresDirectory, socketDirectory] {
                let chown = run("/bin/chown", [serverUser + ":", path], asServerUser: false)
                guard chown.status == 0 else {
                    throw .commandFailed(command: "chown \(path)", output: chown.output, hint: nil)
                }
            }
            // The state directory itself stays root's, but must be traversable for the server user.
            chmod(stateDirectory, 0o755)
        }
        chmod(postgresDirectory, 0o700)
        chmod(socketDirectory, 0o700)
    }

    /// `mkdir -p` with the reason a directory could not be made (Foundation's error only says "error 512").
    private static func makeDirectories(_ path: String) throws(LocalPostgresError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var info = stat()
            if stat(prefix, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw .cannotCreateDirectory(path, reason: "\(prefix) exists and is not a directory")
                }
                continue
            }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw .cannotCreateDirectory(path, reason: "cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func initialize(_ binaries: PostgresBinaries, logger: Logger) throws(LocalPostgresError) {
        logger.info("creating the embedded PostgreSQL cluster", metadata: ["data": "\(dataDirectory)"])
        let result = run(binaries.path("initdb"), [
            "-D", dataDirectory, "-U", Self.roleName, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            "--no-instructions",
        ], asServerUser: true)
        guard result.status == 0 else {
            throw .commandFailed(command: "initdb", output: result.output, hint: nil)
        }
        // Unix socket only, in a private directory; only local socket connections are accepted at all.
        let settings = """

            # Added by unwind: a private cluster reachable only through a unix socket.
            listen_addresses = ''
            unix_socket_directories = '\(socketDirectory)'
            unix_socket_permissions = 0700
            max_connections = 100
            """
        let hba = "# Added by unwind: local socket connections only (the socket directory is private).\nlocal all all trust\n"
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDirectory + "/postgresql.conf"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
            try handle.close()
            try Data(hba.utf8).write(to: URL(fileURLWithPath: dataDirectory + "/pg_hba.conf"))
        } catch {
            throw .cannotCreateDirectory(dataDirectory, reason: "cannot write the server configuration: \(error.localizedDescription)")
        }
        if let serverUser {
            _ = run("/bin/chown", [serverUser + ":", dataDirectory + "/pg_hba.conf", dataDirectory + "/postgresql.conf"], asServerUser: false)
        }
    }

    private func createDatabaseIfMissing() throws(LocalPostgresError) {
        do {
            let connection = try PostgresConnection(configuration: configuration.with(database: "postgres"))
            let exists = try connection.query(
                "SELECT 1 FROM pg_database WHERE datname = $1", [Self.databaseName], name: "local_database_exists")
            if exists.isEmpty {
                try connection.executeScript("CREATE DATABASE \(Self.databaseName)", name: "local_create_database")
            }
        } catch {
            if error.sqlState == "42P04" { return }  // created concurrently by another process
            throw .databaseSetupFailed(error.description)
        }
    }

    private func ensureSystemUser(_ user: String) throws(LocalPostgresError) {
        if getpwnam(user) != nil { return }
        let result = run("/usr/sbin/useradd", [
            "--system", "--no-create-home", "--home-dir", stateDirectory, "--shell", "/usr/sbin/nologin",
            "--comment", "Unwind embedded PostgreSQL", user,
        ], asServerUser: false)
        guard result.status == 0 || getpwnam(user) != nil else {
            throw .commandFailed(command: "useradd \(user)", output: result.output, hint: "create the user by hand or set UNWIND_DATABASE_URL")
        }
    }

    private func withFileLock<T>(_ body: () throws(LocalPostgresError) -> T) throws(LocalPostgresError) -> T {
        let descriptor = open(lockFile, O_CREAT | O_RDWR, 0o600)
        guard descriptor >= 0 else {
            throw .cannotCreateDirectory(lockFile, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// Runs a command, as the server user when we are root and `asServerUser` is set.
    private func run(_ executable: String, _ arguments: [String], asServerUser: Bool) -> ChildProcess.Result {
        if asServerUser, let serverUser {
            return ChildProcess.run("/usr/sbin/runuser", ["-u", serverUser, "--", executable] + arguments)
        }
        return ChildProcess.run(executable, arguments)
    }

    private func lastLines(of path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return "\n" + text.split(separator: "\n").suffix(5).joined(separator: "\n")
    }
}

/// The PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`).
struct PostgresBinaries {
    let directory: String

    func path(_ program: String) -> String { directory + "/" + program }

    /// `$UNWIND_PG_BINDIR`, else `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`.
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(LocalPostgresError) -> PostgresBinaries {
        var candidates: [String] = []
        if let configured = environment["UNWIND_PG_BINDIR"], !configured.isEmpty {
            // Named on purpose: using other programs instead would hide the mistake (and maybe start another version).
            guard FileManager.default.isExecutableFile(atPath: configured + "/initdb"),
                  FileManager.default.isExecutableFile(atPath: configured + "/pg_ctl") else {
                throw .badBinDirectory(configured)
            }
            return PostgresBinaries(directory: configured)
        }
        if let fromPgConfig = pgConfigBindir() { candidates.append(fromPgConfig) }
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
                candidates.append("/usr/lib/postgresql/\(version)/bin")
            }
        }
        for directory in candidates where FileManager.default.isExecutableFile(atPath: directory + "/initdb")
            && FileManager.default.isExecutableFile(atPath: directory + "/pg_ctl") {
            return PostgresBinaries(directory: directory)
        }
        throw .serverNotInstalled
    }

    private static func pgConfigBindir() -> String? {
        for pgConfig in ["/usr/bin/pg_config", "/usr/local/bin/pg_config"] where FileManager.default.isExecutableFile(atPath: pgConfig) {
            let result = ChildProcess.run(pgConfig, ["--bindir"])
            if result.status == 0, !result.output.isEmpty { return result.output }
        }
        return nil
    }
}

public enum LocalPostgresError: Error, Sendable, CustomStringConvertible {
    case serverNotInstalled
    case badBinDirectory(String)
    case pathTooLong(String)
    case cannotCreateDirectory(String, reason: String)
    case commandFailed(command: String, output: String, hint: String?)
    case databaseSetupFailed(String)

    public var description: String {
        switch self {
        case .serverNotInstalled:
            return "no database is configured and the PostgreSQL server programs (initdb, pg_ctl) are not installed for the embedded database. Install them (sudo apt-get install postgresql), set UNWIND_PG_BINDIR to their directory, or point Unwind at a server with --database-url / UNWIND_DATABASE_URL."
        case .badBinDirectory(let directory):
            return "UNWIND_PG_BINDIR is '\(directory)', which holds no initdb and pg_ctl; set it to PostgreSQL's server program directory (e.g. /usr/lib/postgresql/15/bin), or unset it to find them by itself"
        case .pathTooLong(let path):
            return "the embedded database's socket path \(path) is too long for a unix socket; set UNWIND_STATE_DIR to a shorter directory"
        case .cannotCreateDirectory(let path, let reason):
            return "cannot prepare the embedded database directory \(path): \(reason); set UNWIND_STATE_DIR to a directory you can write (or point Unwind at a server with --database-url / UNWIND_DATABASE_URL)"
        case .commandFailed(let command, let output, let hint):
            var text = "the embedded database could not be set up: \(command) failed"
            if !output.isEmpty { text += ": " + output.split(separator: "\n").joined(separator: " | ") }
            if let hint { text += " (\(hint))" }
            return text
        case .databaseSetupFailed(let reason):
            return "the embedded database is running but the unwind database could not be created: \(reason)"
        }
    }
}
