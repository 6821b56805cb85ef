import Foundation
import Synchronization
import Postgres

/// What the test command (scripts/test.sh) provides: a throwaway PostgreSQL, the built binaries, a work dir.
public enum TestEnvironment {
    /// `postgres://postgres:unwind-test@127.0.0.1:PORT/postgres`, set by scripts/test.sh.
    public static var databaseURL: String? {
        ProcessInfo.processInfo.environment["UNWIND_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Integration tests run only under scripts/test.sh, which starts the server they need.
    public static var hasDatabase: Bool { databaseURL != nil }

    /// The repository root, derived from this file's location.
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// Where `swift build` put the executables (`unwind`, `unwind-cloudsim`).
    public static var binDirectory: String {
        if let configured = ProcessInfo.processInfo.environment["UNWIND_BIN_DIR"], !configured.isEmpty {
            return configured
        }
        return repositoryRoot + "/.build/debug"
    }

    /// A scratch directory that scripts/test.sh removes afterwards.
    public static var workDirectory: String {
        ProcessInfo.processInfo.environment["UNWIND_TEST_WORKDIR"] ?? NSTemporaryDirectory()
    }

    /// A new, empty directory under the work directory, readable by the PostgreSQL server user.
    public static func makeScratchDirectory(_ prefix: String) throws -> String {
        let path = workDirectory + "/" + prefix + "-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    /// The test server's URL with another database name (as the superuser `postgres`, or another `user`).
    public static func url(database: String, password: String? = nil, user: String = "postgres") -> String {
        guard let base = databaseURL, let slash = base.lastIndex(of: "/") else { return "" }
        var prefix = String(base[..<slash])
        prefix = prefix.replacingOccurrences(of: "//postgres:", with: "//\(user):")
        if let password {
            prefix = prefix.replacingOccurrences(of: ":unwind-test@", with: ":\(password)@")
        }
        return prefix + "/" + database
    }
}

/// A fresh database on the test server for one test, so tests can run in parallel without seeing each other
/// (LISTEN/NOTIFY channels are per database too).
///
/// Like a production setup, it is owned by `unwind_owner` (who runs migrations), and ``url`` /
/// ``configuration`` connect as the restricted runtime role `unwind_worker` (rows only, no DDL), which is what
/// workers, the store and the CLI use in tests. ``connect()`` is a superuser connection for test set-up.
public struct TestDatabase: Sendable {
    public let name: String
    /// As `unwind_worker`, the runtime role.
    public let url: String
    /// As `unwind_owner`, for `unwind migrate`.
    public let ownerURL: String
    /// As `postgres`, for set-up that needs more than the runtime role may do.
    public let adminURL: String
    /// The runtime role's configuration.
    public let configuration: PostgresConfiguration

    /// Creates `unwind_test_<random>`; with `migrated`, applies the embedded migrations.
    public static func create(migrated: Bool = false) throws -> TestDatabase {
        guard let base = TestEnvironment.databaseURL else {
            throw PostgresError(code: .invalidConfiguration, message: "UNWIND_TEST_DATABASE_URL is not set; run scripts/test.sh")
        }
        let admin = try PostgresConnection(configuration: try PostgresConfiguration(base))
        let name = randomName()
        if migrated {
            // A copy of a database migrated once per test process: four times faster than migrating each one,
            // and hundreds of tests start by creating a database.
            let template = try migratedTemplate(admin: admin)
            try admin.executeScript("CREATE DATABASE \(name) TEMPLATE \(template) OWNER unwind_owner", name: "create_test_database_from_template")
            return try TestDatabase(name: name)
        }
        // The name is generated from hex digits only; identifiers cannot be bound as parameters.
        try admin.executeScript("CREATE DATABASE \(name) OWNER unwind_owner", name: "create_test_database")
        return try TestDatabase(name: name)
    }

    /// ``create(migrated:)`` from async code, off the cooperative pool (creating a database blocks for a while).
    public static func create(migrated: Bool = false) async throws -> TestDatabase {
        try await offThePool { try create(migrated: migrated) as TestDatabase }
    }

    private init(name: String) throws {
        self.name = name
        url = TestEnvironment.url(database: name, user: "unwind_worker")
        ownerURL = TestEnvironment.url(database: name, user: "unwind_owner")
        adminURL = TestEnvironment.url(database: name)
        configuration = try PostgresConfiguration(url)
    }

    private static func randomName(_ prefix: String = "unwind_test_") -> String {
        prefix + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// The migrated template of this process, created on first use. Nobody stays connected to it (a template
    /// being accessed cannot be copied).
    private static let template = Mutex<String?>(nil)

    private static func migratedTemplate(admin: PostgresConnection) throws -> String {
        try template.withLock { existing in
            if let existing { return existing }
            let name = randomName("unwind_template_")
            try admin.executeScript("CREATE DATABASE \(name) OWNER unwind_owner", name: "create_test_template")
            try TestDatabase(name: name).migrate()
            existing = name
            return name
        }
    }

    /// A superuser connection to this database, for test set-up.
    public func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: try PostgresConfiguration(adminURL))
    }

    /// A connection as the runtime role.
    public func connectAsRuntime() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration)
    }
}
