import Foundation
import Postgres

/// What `unwind doctor` reports about the database: server, role and the privileges Unwind needs.
public struct DatabaseDiagnostics: Sendable {
    public var serverVersion: String
    public var role: String
    public var database: String
    public var schema: String
    public var isSuperuser: Bool
    /// The role may create tables in the schema, i.e. it can run migrations.
    public var canMigrate: Bool
    public var maxConnections: Int
    /// The session cannot write: a standby (in recovery), or `default_transaction_read_only` set for the role or
    /// database. Privileges then say nothing: every write fails.
    public var isReadOnly: Bool
    public var inRecovery: Bool
    /// Tables Unwind uses at run time that exist but that the role cannot read and write, each with the
    /// privileges it lacks, e.g. `workers (INSERT, UPDATE)`.
    public var tablesWithoutPrivileges: [String]
    /// Tables Unwind uses that do not exist yet (migrations not applied).
    public var missingTables: [String]

    /// The tables the runtime reads and writes.
    public static let runtimeTables = ["workflow_definitions", "workflows", "steps", "events", "workers"]

    public static func read(connection: PostgresConnection) throws -> DatabaseDiagnostics {
        let info = try connection.query(SQL.Diagnostics.serverInfo.text, [], name: SQL.Diagnostics.serverInfo.name)
        guard let row = info.first else {
            throw PostgresError(code: .unexpectedResult, message: "the server returned no row for its settings")
        }
        let tables = try connection.query(
            SQL.Diagnostics.tablePrivileges.text, [runtimeTables], name: SQL.Diagnostics.tablePrivileges.name)
        var missing: [String] = []
        var denied: [String] = []
        for table in tables.rows {
            let name: String = try table.decode("name")
            if try !table.decode("present", as: Bool.self) {
                missing.append(name)
            } else {
                let lacking: [String] = try table.decode("missing")
                if !lacking.isEmpty { denied.append("\(name) (\(lacking.joined(separator: ", ")))") }
            }
        }
        return DatabaseDiagnostics(
            serverVersion: try row.decode("server_version"),
            role: try row.decode("role"),
            database: try row.decode("database"),
            schema: try row.decode("schema", as: String?.self) ?? "(none)",
            isSuperuser: try row.decode("is_superuser", as: Bool?.self) ?? false,
            canMigrate: try row.decode("can_create", as: Bool?.self) ?? false,
            maxConnections: try row.decode("max_connections"),
            isReadOnly: try row.decode("read_only", as: Bool?.self) ?? false,
            inRecovery: try row.decode("in_recovery", as: Bool?.self) ?? false,
            tablesWithoutPrivileges: denied,
            missingTables: missing)
    }
}
