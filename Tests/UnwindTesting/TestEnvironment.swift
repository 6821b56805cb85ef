import Foundation
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

    /// The test server's URL with another database name.
    public static func url(database: String, password: String? = nil) -> String {
        guard let base = databaseURL, let slash = base.lastIndex(of: "/") else { return "" }
        var prefix = String(base[..<slash])
        if let password {
            prefix = prefix.replacingOccurrences(of: ":unwind-test@", with: ":\(password)@")
        }
        return prefix + "/" + database
    }
}

/// A fresh database on the test server for one test, so tests can run in parallel without seeing each other
/// (LISTEN/NOTIFY channels are per database too).
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String
    public let configuration: PostgresConfiguration

    /// Creates `unwind_test_<random>`; with `migrated`, applies the embedded migrations.
    public static func create(migrated: Bool = false) throws -> TestDatabase {
        guard let base = TestEnvironment.databaseURL else {
            throw PostgresError(code: .invalidConfiguration, message: "UNWIND_TEST_DATABASE_URL is not set; run scripts/test.sh")
        }
        let admin = try PostgresConnection(configuration: try PostgresConfiguration(base))
        let name = "unwind_test_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        // The name is generated above from hex digits only; identifiers cannot be bound as parameters.
        try admin.executeScript("CREATE DATABASE \(name)", name: "create_test_database")
        let url = TestEnvironment.url(database: name)
        let database = TestDatabase(name: name, url: url, configuration: try PostgresConfiguration(url))
        if migrated {
            try database.migrate()
        }
        return database
    }

    public func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration)
    }
}
