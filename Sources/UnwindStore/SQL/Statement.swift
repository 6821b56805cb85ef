/// A named SQL statement. Every statement Unwind runs at run time is declared under ``SQL`` (in this folder),
/// so the whole data access surface can be read, reviewed and `EXPLAIN`ed in one place. Values are always
/// `$n` parameters, never part of the text.
public struct Statement: Sendable {
    /// Stable name: shown in errors and used as the server-side prepared statement name.
    public let name: String
    public let text: String

    init(_ name: String, _ text: String) {
        self.name = name
        self.text = text
    }
}

/// The namespace holding every statement, grouped by area.
public enum SQL {}

extension SQL {
    enum Migrations {
        // A fixed key: all migrators of one database queue up behind this session-level advisory lock.
        static let lock = Statement("migrations_lock", "SELECT pg_advisory_lock(7406115200481)")
        static let unlock = Statement("migrations_unlock", "SELECT pg_advisory_unlock(7406115200481)")
        static let tableExists = Statement(
            "migrations_table_exists", "SELECT to_regclass('schema_migrations') IS NOT NULL")
        /// A migration that alters a hot table waits at most this long for its lock: queued behind a long
        /// transaction, its lock request would hold up every worker's statements on that table meanwhile.
        static let lockTimeout = Statement("migrations_lock_timeout", "SET LOCAL lock_timeout = '10s'")
        static let createTable = Statement("migrations_create_table", """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        static let listApplied = Statement(
            "migrations_list_applied",
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
        static let record = Statement(
            "migrations_record", "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)")
    }
}

extension SQL {
    enum Diagnostics {
        static let serverInfo = Statement("diagnostics_server_info", """
            SELECT current_setting('server_version') AS server_version,
                   current_user AS role,
                   current_database() AS database,
                   current_schema() AS schema,
                   has_schema_privilege(current_user, current_schema(), 'CREATE') AS can_create,
                   (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
                   current_setting('max_connections')::int AS max_connections,
                   current_setting('transaction_read_only') = 'on' AS read_only,
                   pg_is_in_recovery() AS in_recovery
            """)
        /// Each privilege on its own: `has_table_privilege(…, 'SELECT, INSERT')` is true when *any* of the listed
        /// privileges is held, so a read-only role would pass a combined check.
        static let tablePrivileges = Statement("diagnostics_table_privileges", """
            SELECT t.name,
                   to_regclass(t.name) IS NOT NULL AS present,
                   CASE WHEN to_regclass(t.name) IS NULL THEN '{}'::text[]
                        ELSE ARRAY(SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) WITH ORDINALITY AS q(p, n)
                                   WHERE NOT has_table_privilege(current_user, t.name, p) ORDER BY n) END AS missing
            FROM unnest($1::text[]) AS t(name)
            ORDER BY t.name
            """)
        /// The columns the tables $1 have, as `search_path` finds them, with their types as SQL spells them.
        static let tableColumns = Statement("diagnostics_table_columns", """
            SELECT t.name AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
            FROM unnest($1::text[]) AS t(name)
            JOIN pg_attribute a ON a.attrelid = to_regclass(t.name) AND a.attnum > 0 AND NOT a.attisdropped
            """)
    }
}
