import Crypto
import Foundation
import Logging
import Postgres

/// One numbered SQL file from `db/migrations`, e.g. `0001_engine_schema.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// Lowercase hex SHA-256 of the file's exact bytes.
    public let checksum: String

    public init(fileName: String, bytes: [UInt8]) throws(MigrationError) {
        let stem = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0 else {
            throw MigrationError.badFileName(fileName)
        }
        guard let sql = String(validating: bytes, as: UTF8.self) else {
            throw MigrationError.notUTF8(fileName)
        }
        self.version = version
        self.name = String(parts[1])
        self.sql = sql
        self.checksum = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    public var fileName: String { String(format: "%04d_%@.sql", version, name) }
}

public enum MigrationError: Error, Sendable, CustomStringConvertible, Equatable {
    case badFileName(String)
    case notUTF8(String)
    case duplicateVersion(Int)
    case checksumMismatch(version: Int, file: String, applied: String, current: String)
    case unknownAppliedMigration(version: Int, name: String)
    case failed(file: String, reason: String)
    /// `schema_migrations` exists but is not Unwind's (another tool's migrations share the database or schema).
    case foreignMigrationsTable(reason: String)
    /// The first migration found its tables there already, unrecorded: another application's, or a copy made
    /// without `schema_migrations`.
    case tablesAlreadyThere(file: String, reason: String)

    static let ownDatabaseHint = "give Unwind a database of its own, or a schema of its own (add options=-csearch_path%3Dunwind to the URL's query, after CREATE SCHEMA unwind)"

    public var description: String {
        switch self {
        case .badFileName(let name):
            return "migration file '\(name)' is not named NNNN_description.sql"
        case .notUTF8(let name):
            return "migration file '\(name)' is not valid UTF-8"
        case .duplicateVersion(let version):
            return "two migration files share the version \(String(format: "%04d", version))"
        case .checksumMismatch(let version, let file, let applied, let current):
            return "migration \(file) was changed after it was applied (version \(version): applied checksum \(applied.prefix(12))…, file now \(current.prefix(12))…). Applied migrations must never be edited: restore the file and put the change in a new migration."
        case .unknownAppliedMigration(let version, let name):
            return "the database has migration \(String(format: "%04d", version))_\(name) applied, which this unwind binary does not know: it was migrated by a newer version of Unwind; upgrade this binary"
        case .failed(let file, let reason):
            return "migration \(file) failed and was rolled back: \(reason)"
        case .foreignMigrationsTable(let reason):
            return "this database (or schema) has a schema_migrations table that is not Unwind's (\(reason)): another tool's migrations live here; \(Self.ownDatabaseHint)"
        case .tablesAlreadyThere(let file, let reason):
            return "migration \(file) found tables of the names it creates already there, but schema_migrations does not record Unwind's migrations (\(reason)): another application's tables live here; \(Self.ownDatabaseHint)"
        }
    }
}

/// Applies `db/migrations` in order, each in its own transaction, recorded in `schema_migrations`.
///
/// A session-level advisory lock serialises migrators, so two processes running `unwind migrate` at once are
/// safe: the second waits, then finds nothing pending.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    private let logger: Logger

    /// The migrations compiled into this binary from `db/migrations`.
    public static func embedded(logger: Logger = Logger(label: "unwind.migrate")) throws(MigrationError) -> Migrator {
        var migrations: [Migration] = []
        for file in EmbeddedMigrations.files {
            let bytes = [UInt8](Data(base64Encoded: file.base64) ?? Data())
            migrations.append(try Migration(fileName: file.name, bytes: bytes))
        }
        return try Migrator(migrations: migrations, logger: logger)
    }

    public init(migrations: [Migration], logger: Logger = Logger(label: "unwind.migrate")) throws(MigrationError) {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw MigrationError.duplicateVersion(next.version)
        }
        self.migrations = sorted
        self.logger = logger
    }

    public struct AppliedMigration: Sendable, Equatable {
        public var version: Int
        public var name: String
        public var checksum: String
        public var appliedAt: Date
    }

    public struct Status: Sendable {
        public var applied: [AppliedMigration]
        public var pending: [Migration]
        /// Problems that stop `migrate`: edited files, migrations from a newer binary.
        public var problems: [MigrationError]
        public var isCurrent: Bool { pending.isEmpty && problems.isEmpty }

        public init(applied: [AppliedMigration], pending: [Migration], problems: [MigrationError]) {
            self.applied = applied
            self.pending = pending
            self.problems = problems
        }
    }

    /// Reads what is applied without changing anything (no table is created).
    public func status(connection: PostgresConnection) throws -> Status {
        let exists = try connection.query(SQL.Migrations.tableExists.text, [], name: SQL.Migrations.tableExists.name)
        let applied: [AppliedMigration]
        if try exists.first?.decode(0, as: Bool.self) == true {
            applied = try readApplied(connection)
        } else {
            applied = []
        }
        return compare(applied: applied)
    }

    /// Applies every pending migration; returns the ones applied by this call.
    @discardableResult
    public func migrate(connection: PostgresConnection) throws -> [Migration] {
        try connection.query(SQL.Migrations.lock.text, [], name: SQL.Migrations.lock.name)
        defer { _ = try? connection.query(SQL.Migrations.unlock.text, [], name: SQL.Migrations.unlock.name) }
        // On a fresh database the bookkeeping table is created with the first migration, in its transaction: a
        // migration that fails (a table of that name already there) then leaves the database as it found it.
        let tableExisted = try connection.query(SQL.Migrations.tableExists.text, [], name: SQL.Migrations.tableExists.name)
            .first?.decode(0, as: Bool.self) == true
        let status = compare(applied: tableExisted ? try readApplied(connection) : [])
        if let problem = status.problems.first { throw problem }
        for (index, migration) in status.pending.enumerated() {
            logger.info("applying migration", metadata: ["migration": "\(migration.fileName)"])
            do {
                try connection.transaction { connection in
                    try connection.query(SQL.Migrations.lockTimeout.text, [], name: SQL.Migrations.lockTimeout.name)
                    if index == 0 && !tableExisted {
                        try connection.executeScript(SQL.Migrations.createTable.text, name: SQL.Migrations.createTable.name)
                    }
                    try connection.executeScript(migration.sql, name: migration.fileName)
                    try connection.query(
                        SQL.Migrations.record.text, [migration.version, migration.name, migration.checksum],
                        name: SQL.Migrations.record.name)
                }
            } catch let error as PostgresError where error.sqlState == "55P03" {
                throw MigrationError.failed(
                    file: migration.fileName,
                    reason: "it waited 10 s for a table another session holds (a worker in a long transaction, perhaps of the previous version); nothing was changed, and the workers were not held up. Run unwind migrate again; if it keeps happening, stop the old workers first")
            } catch let error as PostgresError where error.sqlState == "42P07" && index == 0 && status.applied.isEmpty {
                throw MigrationError.tablesAlreadyThere(file: migration.fileName, reason: error.message)
            } catch let error as PostgresError where !error.isConnectionLost {
                throw MigrationError.failed(file: migration.fileName, reason: error.description)
            }
        }
        return status.pending
    }

    private func readApplied(_ connection: PostgresConnection) throws -> [AppliedMigration] {
        do {
            return try connection.query(SQL.Migrations.listApplied.text, [], name: SQL.Migrations.listApplied.name).rows.map { row in
                AppliedMigration(
                    version: try row.decode("version"), name: try row.decode("name"),
                    checksum: try row.decode("checksum"), appliedAt: try row.decode("applied_at"))
            }
        } catch let error as PostgresError where error.sqlState == "42703" || error.sqlState == "42804" || error.code == .decoding {
            // A column missing, of another type, or NULL where Unwind always writes one: not Unwind's table.
            throw MigrationError.foreignMigrationsTable(reason: error.message)
        }
    }

    private func compare(applied: [AppliedMigration]) -> Status {
        var problems: [MigrationError] = []
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for record in applied {
            guard let migration = known[record.version] else {
                problems.append(.unknownAppliedMigration(version: record.version, name: record.name))
                continue
            }
            if migration.checksum != record.checksum {
                problems.append(.checksumMismatch(
                    version: record.version, file: migration.fileName, applied: record.checksum,
                    current: migration.checksum))
            }
        }
        let appliedVersions = Set(applied.map(\.version))
        let pending = migrations.filter { !appliedVersions.contains($0.version) }
        return Status(applied: applied, pending: pending, problems: problems)
    }
}
