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
    /// How the tables that exist differ from what the migrations made (a column dropped or retyped by hand), e.g.
    /// `steps lacks column completed_seq (integer)`: every statement on them would fail.
    public var schemaDifferences: [String]

    /// The tables the runtime reads and writes.
    public static let runtimeTables = ["workflow_definitions", "workflows", "steps", "events", "workers"]

    public static func read(connection: PostgresConnection) throws -> DatabaseDiagnostics {
        let info = try connection.query(SQL.Diagnostics.serverInfo.text, [], name: SQL.Diagnostics.serverInfo.name)
        guard let row = info.first else {
            throw PostgresError(code: .unexpectedResult, message: "the server returned no row for its settings")
        }
        let tables = try readTables(connection: connection)
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
            tablesWithoutPrivileges: tables.denied,
            missingTables: tables.missing,
            schemaDifferences: tables.differences)
    }

    /// The runtime tables as they are: those missing, those the role lacks privileges on, and how the others differ
    /// from what the migrations made. In one round trip: every command checks this when it starts.
    public static func readTables(connection: PostgresConnection) throws -> (missing: [String], denied: [String], differences: [String]) {
        let results = try connection.pipeline([
            PostgresStatement(SQL.Diagnostics.tablePrivileges.text, [runtimeTables], name: SQL.Diagnostics.tablePrivileges.name),
            PostgresStatement(SQL.Diagnostics.tableColumns.text, [runtimeTables], name: SQL.Diagnostics.tableColumns.name),
        ])
        var missing: [String] = []
        var denied: [String] = []
        for table in results[0].rows {
            let name: String = try table.decode("name")
            if try !table.decode("present", as: Bool.self) {
                missing.append(name)
            } else {
                let lacking: [String] = try table.decode("missing")
                if !lacking.isEmpty { denied.append("\(name) (\(lacking.joined(separator: ", ")))") }
            }
        }
        var columns: [String: [String: String]] = [:]
        for row in results[1].rows {
            columns[try row.decode("table_name"), default: [:]][try row.decode("column_name")] = try row.decode("type")
        }
        var differences: [String] = []
        for (table, expected) in expectedColumns.sorted(by: { $0.key < $1.key }) where !missing.contains(table) {
            let actual = columns[table] ?? [:]
            for (column, type) in expected.sorted(by: { $0.key < $1.key }) {
                if let found = actual[column] {
                    if found != type { differences.append("\(table).\(column) is \(found), not \(type)") }
                } else {
                    differences.append("\(table) lacks column \(column) (\(type))")
                }
            }
        }
        return (missing, denied, differences)
    }

    /// The columns the migrations in db/migrations give the runtime tables (extra columns are allowed). A test
    /// compares this with a freshly migrated database, so a new migration that changes them must change it too.
    public static let expectedColumns: [String: [String: String]] = [
        "workflow_definitions": [
            "id": "bigint", "name": "text", "content_hash": "text", "source": "text", "compiled": "jsonb",
            "created_at": "timestamp with time zone",
        ],
        "workflows": [
            "id": "uuid", "definition_id": "bigint", "workflow_name": "text", "state": "text", "queue": "text",
            "priority": "integer", "input": "jsonb", "labels": "jsonb", "idempotency_key": "text", "concurrency_key": "text",
            "pivot_crossed": "boolean", "cancel_requested": "boolean", "not_before": "timestamp with time zone",
            "submitted_by": "text", "created_at": "timestamp with time zone", "started_at": "timestamp with time zone",
            "updated_at": "timestamp with time zone", "finished_at": "timestamp with time zone", "error": "jsonb",
            "output": "jsonb",
        ],
        "steps": [
            "workflow_id": "uuid", "step_id": "text", "ordinal": "integer", "action": "text", "phase": "text",
            "state": "text", "queue": "text", "priority": "integer", "due_at": "timestamp with time zone",
            "predecessors_pending": "integer", "attempt": "integer", "attempt_base": "integer", "lease_owner": "text",
            "lease_expires_at": "timestamp with time zone", "fencing_token": "bigint", "idempotency_key": "text",
            "checkpoint": "jsonb", "output": "jsonb", "last_error": "jsonb", "started_at": "timestamp with time zone",
            "finished_at": "timestamp with time zone", "completed_seq": "integer",
        ],
        "events": [
            "id": "bigint", "workflow_id": "uuid", "step_id": "text", "phase": "text", "attempt": "integer",
            "fencing_token": "bigint", "kind": "text", "at": "timestamp with time zone", "worker_id": "text",
            "actor": "text", "reason": "text", "details": "jsonb",
        ],
        "workers": [
            "id": "text", "hostname": "text", "pid": "integer", "concurrency": "integer", "queues": "text[]",
            "version": "text", "state": "text", "started_at": "timestamp with time zone",
            "heartbeat_at": "timestamp with time zone", "stopped_at": "timestamp with time zone",
            "heartbeat_seconds": "double precision",
        ],
    ]
}
