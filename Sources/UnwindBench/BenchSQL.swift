/// The benchmark's own SQL: set-up of its scratch database, what it reads to measure, and the history it
/// generates. The engine's statements stay in UnwindStore/SQL; this file only observes and prepares.
enum BenchSQL {
    static let databaseExists = "SELECT 1 FROM pg_database WHERE datname = $1"
    /// Other sessions (a crashed earlier run) would make DROP DATABASE fail.
    static let terminateSessions = """
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
        """
    /// The name is an identifier, quoted (a name starting with a digit is valid then); BenchOptions allows letters,
    /// digits and `_` only, so it holds no quote to escape.
    static func dropDatabase(_ name: String) -> String { "DROP DATABASE IF EXISTS \"\(name)\"" }
    static func createDatabase(_ name: String) -> String { "CREATE DATABASE \"\(name)\"" }

    static let machine = """
        SELECT current_setting('server_version') AS version,
               current_setting('fsync') AS fsync,
               current_setting('synchronous_commit') AS synchronous_commit,
               current_setting('shared_buffers') AS shared_buffers,
               current_setting('wal_sync_method') AS wal_sync_method,
               current_setting('max_connections') AS max_connections,
               current_setting('commit_delay') AS commit_delay
        """

    /// Commits of the whole database so far; a fresh snapshot every call.
    static let clearStatsSnapshot = "SELECT pg_stat_clear_snapshot()"
    static let commits = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"

    static let truncateRuntime = "TRUNCATE events, steps, workflows, workers"

    static let runningWorkers = "SELECT count(*) AS n FROM workers WHERE id = ANY($1::text[]) AND state = 'running'"

    /// Unfinished workflows; walks workflows_by_state, so it stays cheap with a million finished rows beside.
    static let unfinished = """
        SELECT count(*) AS n FROM workflows WHERE state IN ('scheduled', 'running', 'compensating')
        """
    /// Whether any workflow is unfinished: polled every 20 ms while a round runs, so it must stay cheap. Counting
    /// (above) while statistics lagged behind the freshly filled table scanned all of `workflows` on every poll,
    /// 6 % of PostgreSQL's time in a throughput round; the bench must not compete with what it measures.
    static let anyUnfinished = """
        SELECT 1 AS n FROM workflows WHERE state IN ('scheduled', 'running', 'compensating') LIMIT 1
        """
    static let pollWithIndexOnly = "SET enable_seqscan = off"
    static let pollDone = "RESET enable_seqscan"

    static let outcome = """
        SELECT count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
               count(*) AS total,
               (extract(epoch FROM max(finished_at) - min(created_at)) * 1e6)::bigint AS span_us,
               (SELECT count(*) FROM steps s WHERE s.workflow_id = ANY($1::uuid[]) AND s.state = 'succeeded') AS steps_succeeded
        FROM workflows WHERE id = ANY($1::uuid[])
        """

    /// Submission (the `workflow_submitted` event) → the first attempt of the first step (`attempt_started`).
    static let submitToStart = """
        SELECT (extract(epoch FROM s.first_start - w.submitted) * 1e6)::bigint AS us
        FROM (SELECT workflow_id, min(at) AS submitted FROM events
              WHERE workflow_id = ANY($1::uuid[]) AND kind = 'workflow_submitted' GROUP BY workflow_id) w
        JOIN (SELECT workflow_id, min(at) AS first_start FROM events
              WHERE workflow_id = ANY($1::uuid[]) AND kind = 'attempt_started' GROUP BY workflow_id) s
          USING (workflow_id)
        """

    /// A step's first attempt → the first attempt of the next step in order. The steps are no-ops, so this is
    /// the whole cycle from one step's end to the next one's start, and more: the commit that starts the step,
    /// running it, and the transaction that records its end and starts its successor. (Measured from
    /// `step_succeeded` instead, the gap would be nil: a worker starts the successor in that same transaction,
    /// and the successor runs only once it commits.)
    static let stepToStep = """
        WITH starts AS (
            SELECT e.workflow_id, st.ordinal, min(e.at) AS started
            FROM events e JOIN steps st ON st.workflow_id = e.workflow_id AND st.step_id = e.step_id
            WHERE e.workflow_id = ANY($1::uuid[]) AND e.kind = 'attempt_started'
            GROUP BY e.workflow_id, st.ordinal
        )
        SELECT (extract(epoch FROM next.started - this.started) * 1e6)::bigint AS us
        FROM starts this JOIN starts next ON next.workflow_id = this.workflow_id AND next.ordinal = this.ordinal + 1
        """

    static let workflowState = "SELECT state FROM workflows WHERE id = $1::uuid"

    /// The crash figure: when the step started on a worker other than the one killed.
    static let restartedAt = """
        SELECT (extract(epoch FROM min(at)) * 1e6)::bigint AS at_us FROM events
        WHERE workflow_id = $1::uuid AND kind = 'attempt_started' AND worker_id <> $2
        """
    static let heldBy = """
        SELECT lease_owner FROM steps WHERE workflow_id = $1::uuid AND state = 'running'
        """

    /// Connections a new client can still open: max_connections less the reserved slots and those in use.
    static let connectionsAvailable = """
        SELECT (current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                - (SELECT count(*) FROM pg_stat_activity)::int - 2) AS n
        """

    static let countWorkflows = "SELECT count(*) AS n FROM workflows"

    // MARK: History

    /// Workflows number `$1`…`$2` of definition `$3`, finished, ids 00000000-0000-4000-8000-<hex> (never
    /// collide with the random v4 ids the engine makes), finished a day ago.
    static let historyWorkflows = """
        INSERT INTO workflows (id, definition_id, workflow_name, state, input, submitted_by, created_at, started_at,
                               updated_at, finished_at, output)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, $3, 'bench-noop', 'succeeded',
               '{}'::jsonb, 'bench-history', now() - interval '1 day', now() - interval '1 day',
               now() - interval '1 day', now() - interval '1 day', '{}'::jsonb
        FROM generate_series($1::int, $2::int) g
        """
    static let historySteps = """
        INSERT INTO steps (workflow_id, step_id, ordinal, action, state, attempt, fencing_token, idempotency_key,
                           output, started_at, finished_at, completed_seq)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 's' || k, k - 1, 'test.noop',
               'succeeded', 1, 1, '00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0') || ':s' || k,
               '{}'::jsonb, now() - interval '1 day', now() - interval '1 day', k
        FROM generate_series($1::int, $2::int) g CROSS JOIN generate_series(1, $3::int) k
        """
    /// Per workflow: submitted, started, per step attempt_started + step_succeeded, succeeded.
    static let historyEvents = """
        INSERT INTO events (workflow_id, step_id, phase, attempt, fencing_token, kind, at, worker_id)
        SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, e.step_id, e.phase, e.attempt,
               e.token, e.kind, now() - interval '1 day', 'bench-history'
        FROM generate_series($1::int, $2::int) g
        CROSS JOIN LATERAL (
            SELECT NULL::text AS step_id, NULL::text AS phase, NULL::int AS attempt, NULL::bigint AS token,
                   'workflow_submitted' AS kind, 0 AS o
            UNION ALL SELECT NULL, NULL, NULL, NULL, 'workflow_started', 1
            UNION ALL SELECT 's' || k, 'forward', 1, 1, x.kind, 2 + 2 * k + x.o
                FROM generate_series(1, $3::int) k,
                     (VALUES ('attempt_started', 0), ('step_succeeded', 1)) AS x(kind, o)
            UNION ALL SELECT NULL, NULL, NULL, NULL, 'workflow_succeeded', 1000000
        ) e
        """
    static let deleteEventsOfWorkflow = "DELETE FROM events WHERE workflow_id = $1::uuid"
    static let deleteStepsOfWorkflow = "DELETE FROM steps WHERE workflow_id = $1::uuid"
    static let deleteWorkflow = "DELETE FROM workflows WHERE id = $1::uuid"
    static let noopDefinitionID = "SELECT id FROM workflow_definitions WHERE name = 'bench-noop' ORDER BY id DESC LIMIT 1"
    static let analyze = "VACUUM ANALYZE workflows, steps, events"
    static let historyCount = "SELECT count(*) AS n FROM workflows WHERE submitted_by = 'bench-history'"

    // MARK: pgbench

    static let pgbenchTable = """
        DROP TABLE IF EXISTS bench_pgbench_t;
        CREATE TABLE bench_pgbench_t (id int PRIMARY KEY, v bigint NOT NULL DEFAULT 0);
        INSERT INTO bench_pgbench_t (id) SELECT g FROM generate_series(1, 100000) g;
        """
    static let pgbenchAnalyze = "VACUUM ANALYZE bench_pgbench_t"
    static let pgbenchScript = """
        \\set id random(1, 100000)
        UPDATE bench_pgbench_t SET v = v + 1 WHERE id = :id;

        """
    static let pgbenchPrepare = "VACUUM bench_pgbench_t"
    static let checkpoint = "CHECKPOINT"
    static let dropPgbenchTable = "DROP TABLE IF EXISTS bench_pgbench_t"
}

extension BenchSQL {
    /// The longest single workflow (created → finished) among those in the tables.
    static let teardownLongest = """
        SELECT extract(epoch FROM max(COALESCE(finished_at, updated_at) - created_at))::float8 AS seconds FROM workflows
        """
    /// From the first submission to the last finish (failed workflows count by their last update).
    static let teardownSpan = """
        SELECT extract(epoch FROM max(COALESCE(finished_at, updated_at)) - min(created_at))::float8 AS seconds FROM workflows
        """
    static let statesSummary = "SELECT state, count(*) AS n FROM workflows GROUP BY state ORDER BY state"
}
