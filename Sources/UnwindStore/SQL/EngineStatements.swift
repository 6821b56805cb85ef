extension SQL {
    /// Statements behind submission, claiming, completion, leases and operator actions.
    ///
    /// Set-based statements take parallel arrays (`unnest($1::uuid[], $2::text[], …)`) so that a batch of
    /// results or events costs one round trip, whatever its size.
    enum Engine {
        // MARK: Submission

        static let upsertDefinition = Statement("upsert_definition", """
            WITH inserted AS (
                INSERT INTO workflow_definitions (name, content_hash, source, compiled)
                VALUES ($1, $2, $3, $4::jsonb)
                ON CONFLICT (name, content_hash) DO NOTHING
                RETURNING id
            )
            SELECT id FROM inserted
            UNION ALL
            SELECT id FROM workflow_definitions WHERE name = $1 AND content_hash = $2
            LIMIT 1
            """)

        static let insertWorkflow = Statement("insert_workflow", """
            INSERT INTO workflows (id, definition_id, workflow_name, state, queue, priority, input, labels,
                                   idempotency_key, concurrency_key, not_before, submitted_by, started_at)
            VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11::timestamptz, $12,
                    CASE WHEN $4 = 'running' THEN now() END)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """)

        /// Many workflows of one definition in one statement; rows whose idempotency key exists are skipped.
        static let insertWorkflowBatch = Statement("insert_workflow_batch", """
            INSERT INTO workflows (id, definition_id, workflow_name, state, queue, priority, input, labels,
                                   idempotency_key, concurrency_key, not_before, submitted_by, started_at)
            SELECT r.id, $1, $2, r.state, $3, $4, r.input, r.labels, r.idempotency_key, r.concurrency_key,
                   r.not_before, $5, CASE WHEN r.state = 'running' THEN now() END
            FROM unnest($6::uuid[], $7::text[], $8::jsonb[], $9::jsonb[], $10::text[], $11::text[], $12::timestamptz[])
                 AS r(id, state, input, labels, idempotency_key, concurrency_key, not_before)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """)

        static let workflowsByIdempotencyKeys = Statement("workflows_by_idempotency_keys", """
            SELECT id, idempotency_key, workflow_name, input FROM workflows WHERE idempotency_key = ANY($1::text[])
            """)

        static let activeConcurrencyKeys = Statement("active_concurrency_keys", """
            SELECT concurrency_key, id, state FROM workflows
            WHERE concurrency_key = ANY($1::text[])
              AND state IN ('scheduled', 'running', 'compensating', 'failed', 'compensation_failed')
            """)

        /// The steps of many workflows of one definition.
        static let insertStepsBatch = Statement("insert_steps_batch", """
            INSERT INTO steps (workflow_id, step_id, ordinal, action, state, queue, priority, due_at,
                               predecessors_pending, idempotency_key)
            SELECT w.id, s.step_id, s.ordinal, s.action,
                   CASE WHEN w.state = 'running' AND s.pending = 0 THEN 'ready' ELSE 'blocked' END,
                   $1, s.priority, COALESCE(w.not_before, now()), s.pending, w.id::text || ':' || s.step_id
            FROM unnest($2::uuid[], $3::text[], $4::timestamptz[]) AS w(id, state, not_before)
            CROSS JOIN unnest($5::text[], $6::int[], $7::text[], $8::int[], $9::int[])
                 AS s(step_id, ordinal, action, priority, pending)
            """)

        static let workflowByIdempotencyKey = Statement(
            "workflow_by_idempotency_key", "SELECT id, workflow_name, input FROM workflows WHERE idempotency_key = $1")

        static let activeWorkflowByConcurrencyKey = Statement("active_workflow_by_concurrency_key", """
            SELECT id, state FROM workflows
            WHERE concurrency_key = $1
              AND state IN ('scheduled', 'running', 'compensating', 'failed', 'compensation_failed')
            """)

        static let insertSteps = Statement("insert_steps", """
            INSERT INTO steps (workflow_id, step_id, ordinal, action, state, queue, priority, due_at,
                               predecessors_pending, idempotency_key)
            SELECT $1::uuid, s.step_id, s.ordinal, s.action, s.state, $2, s.priority, $3::timestamptz, s.pending, s.key
            FROM unnest($4::text[], $5::int[], $6::text[], $7::text[], $8::int[], $9::int[], $10::text[])
                 AS s(step_id, ordinal, action, state, priority, pending, key)
            """)

        static let insertEvents = Statement("insert_events", """
            INSERT INTO events (workflow_id, step_id, phase, attempt, fencing_token, kind, worker_id, actor, reason, details)
            SELECT e.workflow_id, e.step_id, e.phase, e.attempt, e.fencing_token, e.kind, e.worker_id, e.actor, e.reason, e.details
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::text[],
                        $8::text[], $9::text[], $10::jsonb[])
                 AS e(workflow_id, step_id, phase, attempt, fencing_token, kind, worker_id, actor, reason, details)
            """)

        /// Wakes idle workers listening on `unwind_ready`; delivered when the transaction commits.
        static let notifyReady = Statement("notify_ready", "SELECT pg_notify('unwind_ready', $1)")

        // MARK: Claiming

        /// Claims up to $2 due steps of the given queues under a lease for worker $3, counting an attempt
        /// (a wake-up from a durable wait continues its attempt), and logs the attempt start — one statement.
        static let claimSteps = Statement("claim_steps", """
            WITH candidates AS (
                -- One index walk per queue: with `queue = ANY(…)` the planner cannot read steps_claimable in
                -- (priority, due_at) order and sorts the whole backlog on every claim instead.
                SELECT c.workflow_id, c.step_id, c.previous_state
                FROM unnest($1::text[]) AS q(name)
                CROSS JOIN LATERAL (
                    SELECT workflow_id, step_id, state AS previous_state, priority, due_at
                    FROM steps
                    WHERE state IN ('ready', 'waiting') AND queue = q.name AND due_at <= now()
                    ORDER BY priority DESC, due_at
                    LIMIT $2
                    FOR UPDATE SKIP LOCKED
                ) c
                ORDER BY c.priority DESC, c.due_at
                LIMIT $2
            ), claimed AS (
                UPDATE steps s
                SET state = 'running',
                    attempt = CASE WHEN c.previous_state = 'ready' THEN s.attempt + 1 ELSE s.attempt END,
                    fencing_token = s.fencing_token + 1,
                    lease_owner = $3,
                    lease_expires_at = now() + make_interval(secs => $4),
                    started_at = COALESCE(s.started_at, now())
                FROM candidates c
                WHERE s.workflow_id = c.workflow_id AND s.step_id = c.step_id
                RETURNING s.workflow_id, s.step_id, s.phase, s.action, s.attempt, s.attempt_base, s.fencing_token,
                          s.idempotency_key, s.checkpoint, s.lease_expires_at, c.previous_state
            ), logged AS (
                INSERT INTO events (workflow_id, step_id, phase, attempt, fencing_token, kind, worker_id)
                SELECT workflow_id, step_id, phase, attempt, fencing_token,
                       CASE WHEN previous_state = 'waiting' THEN 'attempt_resumed' ELSE 'attempt_started' END, $3
                FROM claimed
            )
            SELECT c.workflow_id, c.step_id, c.phase, c.action, c.attempt, c.attempt_base, c.fencing_token,
                   c.idempotency_key, c.checkpoint, c.lease_expires_at, c.previous_state, w.definition_id, w.input,
                   w.state AS workflow_state
            FROM claimed c JOIN workflows w ON w.id = c.workflow_id
            """)

        static let definitionsByID = Statement(
            "definitions_by_id", "SELECT id, compiled FROM workflow_definitions WHERE id = ANY($1::bigint[])")

        static let stepOutputs = Statement("step_outputs", """
            SELECT workflow_id, step_id, output FROM steps
            WHERE workflow_id = ANY($1::uuid[]) AND output IS NOT NULL
            """)

        /// Wakes idle workers on queue $1 if a step of the workflows $2 is ready and due (after the transaction's
        /// own claim took what it could).
        static let notifyIfStepsReady = Statement("notify_if_steps_ready", """
            SELECT pg_notify('unwind_ready', $1)
            WHERE EXISTS (SELECT 1 FROM steps WHERE workflow_id = ANY($2::uuid[]) AND state = 'ready' AND due_at <= now())
            """)

        /// The earliest time a claimable step of these queues becomes due (to size the idle wait).
        static let nextDueTime = Statement("next_due_time", """
            SELECT min(due_at) AS due FROM steps WHERE state IN ('ready', 'waiting') AND queue = ANY($1::text[])
            """)

        // MARK: Transitions (always: lock the workflow rows, then their steps, in id order)

        static let lockWorkflows = Statement("lock_workflows", """
            SELECT id, definition_id, state, pivot_crossed, cancel_requested, error, queue, input, now() AS db_now
            FROM workflows WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
            """)

        /// Every step of the workflows (whose rows the caller has locked). Only steps that are ready, waiting or
        /// running are locked too: the claim, heartbeats, checkpoints and lease hand-backs change those without
        /// the workflow's lock, and never move a step into or out of these states. Every other step row changes
        /// only under its workflow's lock, which the caller holds; locking it as well cost a tuple lock (and its
        /// WAL record) per finished or blocked step in every transition. The column list is written twice on
        /// purpose: locked rows must come from the locking scan itself, which returns the newest version it waited
        /// for; a second read would see the statement's older snapshot.
        static let lockSteps = Statement("lock_steps", """
            WITH locked AS MATERIALIZED (
                SELECT workflow_id, step_id, phase, state, attempt, attempt_base, predecessors_pending, due_at,
                       completed_seq, fencing_token, lease_owner, coalesce(lease_expires_at < now(), true) AS lease_expired,
                       action, idempotency_key, checkpoint, output
                FROM steps WHERE workflow_id = ANY($1::uuid[]) AND state IN ('ready', 'waiting', 'running')
                ORDER BY workflow_id, step_id FOR UPDATE
            )
            SELECT * FROM locked
            UNION ALL
            SELECT workflow_id, step_id, phase, state, attempt, attempt_base, predecessors_pending, due_at,
                   completed_seq, fencing_token, lease_owner, coalesce(lease_expires_at < now(), true) AS lease_expired,
                   action, idempotency_key, checkpoint, output
            FROM steps WHERE workflow_id = ANY($1::uuid[]) AND state NOT IN ('ready', 'waiting', 'running')
            """)

        /// The steps ($1, $2: workflow and step ids) with an attempt that failed with one of the codes $3 (those that say
        /// nothing about what it did) and no refusal for good since (the action's verdict, which settles it), from the
        /// history.
        static let attemptsWithoutOutcome = Statement("attempts_without_outcome", """
            SELECT p.workflow_id, p.step_id
            FROM unnest($1::uuid[], $2::text[]) AS p(workflow_id, step_id)
            WHERE (SELECT max(e.id) FROM events e
                   WHERE e.workflow_id = p.workflow_id AND e.step_id = p.step_id AND e.kind IN ('attempt_failed', 'step_failed')
                     AND e.details->>'code' = ANY($3::text[]))
                  > COALESCE((SELECT max(e.id) FROM events e
                              WHERE e.workflow_id = p.workflow_id AND e.step_id = p.step_id
                                AND e.kind IN ('attempt_failed', 'step_failed') AND e.details->>'retryable' = 'false'), 0)
            """)

        /// A transition's writes in one round trip: its step rows ($1–$16), its workflow rows ($17–$22) and its
        /// history ($23–$32, the columns of `insert_events`). Data-modifying CTEs always run to completion; each
        /// touches its own table; empty arrays write nothing.
        static let writeTransition = Statement("write_transition", """
            WITH step_writes AS (
                UPDATE steps s
                SET state = u.state,
                    phase = u.phase,
                    attempt = u.attempt,
                    attempt_base = u.attempt_base,
                    predecessors_pending = u.pending,
                    due_at = u.due_at,
                    completed_seq = u.completed_seq,
                    fencing_token = u.fencing_token,
                    -- A successor started eagerly (u.started) gets worker $14's lease, like a claim would give it.
                    lease_owner = CASE WHEN u.started THEN $14::text WHEN u.state = 'running' THEN s.lease_owner END,
                    lease_expires_at = CASE WHEN u.started THEN now() + make_interval(secs => $15::float8)
                                            WHEN u.state = 'running' THEN s.lease_expires_at END,
                    started_at = CASE WHEN u.started THEN COALESCE(s.started_at, now()) ELSE s.started_at END,
                    finished_at = CASE WHEN u.state IN ('succeeded', 'failed', 'skipped', 'cancelled', 'compensated')
                                       THEN now() END,
                    output = COALESCE(u.output, s.output),
                    last_error = COALESCE(u.error, s.last_error),
                    checkpoint = COALESCE(u.checkpoint, s.checkpoint)
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[],
                            $8::timestamptz[], $9::int[], $10::bigint[], $11::jsonb[], $12::jsonb[], $13::jsonb[],
                            $16::boolean[])
                     AS u(workflow_id, step_id, state, phase, attempt, attempt_base, pending, due_at, completed_seq,
                          fencing_token, output, error, checkpoint, started)
                WHERE s.workflow_id = u.workflow_id AND s.step_id = u.step_id
            ), workflow_writes AS (
                UPDATE workflows w
                SET state = u.state,
                    pivot_crossed = u.pivot_crossed,
                    cancel_requested = u.cancel_requested,
                    error = u.error,
                    output = COALESCE(u.output, w.output),
                    updated_at = now(),
                    started_at = COALESCE(w.started_at, CASE WHEN u.state <> 'scheduled' THEN now() END),  -- scheduled → started
                    finished_at = CASE WHEN u.state IN ('succeeded', 'compensated', 'cancelled') THEN now() END
                FROM unnest($17::uuid[], $18::text[], $19::boolean[], $20::boolean[], $21::jsonb[], $22::jsonb[])
                     AS u(id, state, pivot_crossed, cancel_requested, error, output)
                WHERE w.id = u.id
            ), logged AS (
                INSERT INTO events (workflow_id, step_id, phase, attempt, fencing_token, kind, worker_id, actor, reason, details)
                SELECT e.workflow_id, e.step_id, e.phase, e.attempt, e.fencing_token, e.kind, e.worker_id, e.actor, e.reason, e.details
                FROM unnest($23::uuid[], $24::text[], $25::text[], $26::int[], $27::bigint[], $28::text[], $29::text[],
                            $30::text[], $31::text[], $32::jsonb[])
                     AS e(workflow_id, step_id, phase, attempt, fencing_token, kind, worker_id, actor, reason, details)
            )
            SELECT 1 AS written
            """)

        // MARK: Leases

        static let extendLeases = Statement("extend_leases", """
            UPDATE steps s SET lease_expires_at = now() + make_interval(secs => $4)
            FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS h(workflow_id, step_id, token)
            WHERE s.workflow_id = h.workflow_id AND s.step_id = h.step_id AND s.fencing_token = h.token
              AND s.state = 'running'
            RETURNING s.workflow_id, s.step_id
            """)

        /// Whether the workflow stopped going forward (compensating after a cancel or a failure, or cancelled).
        static let workflowIsStopping = Statement("workflow_is_stopping", """
            SELECT state IN ('compensating', 'cancelled') OR cancel_requested AS stopping FROM workflows WHERE id = $1
            """)

        static let saveCheckpoint = Statement("save_checkpoint", """
            UPDATE steps SET checkpoint = $3::jsonb, lease_expires_at = now() + make_interval(secs => $5)
            WHERE workflow_id = $1::uuid AND step_id = $2 AND fencing_token = $4 AND state = 'running'
            RETURNING phase, attempt
            """)

        /// Leases expired on running steps (their worker died): candidates for the rescuer.
        /// Workflows (each once, longest expired first) with a running step whose lease expired. By workflow, not by
        /// step: one workflow with many expired steps, held locked by someone else, must not fill every pass.
        /// A running step without a lease end (only a hand edit leaves one) counts as expired, first: nothing
        /// would ever run it again otherwise.
        static let expiredLeases = Statement("expired_leases", """
            SELECT workflow_id FROM steps
            WHERE state = 'running' AND (lease_expires_at < now() OR lease_expires_at IS NULL)
            GROUP BY workflow_id ORDER BY min(lease_expires_at) NULLS FIRST LIMIT $1
            """)

        /// Hands back the leases of attempts a draining worker could not finish (compensations, resumed durable waits)
        /// or of rows it could not read, without counting them, due again
        /// in $6 seconds; $7 says why, step by step, when it is not a shutdown.
        static let releaseLeases = Statement("release_leases", """
            WITH released AS (
                UPDATE steps s
                SET state = CASE WHEN r.resumed THEN 'waiting' ELSE 'ready' END,
                    attempt = s.attempt - CASE WHEN r.resumed THEN 0 ELSE 1 END,
                    lease_owner = NULL, lease_expires_at = NULL, due_at = now() + make_interval(secs => $6::float8),
                    fencing_token = s.fencing_token + 1,
                    -- Put off (a step not run as stored): `unwind status` shows why, not only the history.
                    last_error = CASE WHEN $6::float8 > 0
                                      THEN jsonb_build_object('code', 'not_run_as_stored', 'message', r.reason, 'retryable', true)
                                      ELSE s.last_error END
                FROM unnest($1::uuid[], $2::text[], $3::bigint[], $5::boolean[], $7::text[]) AS r(workflow_id, step_id, token, resumed, reason)
                WHERE s.workflow_id = r.workflow_id AND s.step_id = r.step_id AND s.fencing_token = r.token
                  AND s.state = 'running'
                -- The event names the attempt that was handed back (its token), not the new token.
                RETURNING s.workflow_id, s.step_id, s.phase, s.attempt, r.token, r.reason
            )
            INSERT INTO events (workflow_id, step_id, phase, attempt, fencing_token, kind, worker_id, reason)
            SELECT workflow_id, step_id, phase, attempt, token, 'lease_released', $4, reason FROM released
            RETURNING workflow_id
            """)

        /// The workflows of $1 whose rows nobody else holds locked, locked now: the rescue takes those and leaves the
        /// rest for its next pass, rather than waiting behind a transition (or a frozen client) holding one.
        static let lockWorkflowsAvailable = Statement("lock_workflows_available", """
            SELECT id FROM workflows WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE SKIP LOCKED
            """)

        /// Puts off the rescue of a workflow's expired leases by $2 seconds: its rows could not be read, and every
        /// rescue pass would otherwise fail on it again.
        static let deferRescue = Statement("defer_rescue", """
            UPDATE steps SET lease_expires_at = now() + make_interval(secs => $2::float8)
            WHERE workflow_id = $1 AND state = 'running' AND (lease_expires_at < now() OR lease_expires_at IS NULL)
            """)

        /// Puts off the start of scheduled workflow $1 by $2 seconds: its rows could not be read.
        static let deferScheduledStart = Statement("defer_scheduled_start", """
            UPDATE workflows SET not_before = now() + make_interval(secs => $2::float8) WHERE id = $1 AND state = 'scheduled'
            """)

        static let dueScheduledWorkflows = Statement("due_scheduled_workflows", """
            SELECT id FROM workflows WHERE state = 'scheduled' AND not_before <= now() ORDER BY not_before LIMIT $1
            """)

        // MARK: Workers

        static let registerWorker = Statement("register_worker", """
            INSERT INTO workers (id, hostname, pid, concurrency, queues, version, heartbeat_seconds)
            VALUES ($1, $2, $3, $4, $5::text[], $6, $7)
            -- A restarted worker may reuse its ID (systemd instances, pod names): the row describes the new process.
            ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, pid = EXCLUDED.pid, concurrency = EXCLUDED.concurrency,
                queues = EXCLUDED.queues, version = EXCLUDED.version, heartbeat_seconds = EXCLUDED.heartbeat_seconds,
                started_at = now(), heartbeat_at = now(), state = 'running', stopped_at = NULL
            """)

        /// The process a worker ID belongs to now, and whether it went silent ($2 seconds without a heartbeat, as
        /// `list_workers` judges it).
        static let workerByID = Statement("worker_by_id", """
            SELECT hostname, pid, state, extract(epoch FROM now() - heartbeat_at)::float8 AS silent_seconds,
                   heartbeat_at < now() - make_interval(secs => $2) AS silent
            FROM workers WHERE id = $1
            """)

        /// Only while the row still describes this process ($3 pid on host $4): a process whose ID was taken over
        /// while it was frozen finds no row, and stops.
        static let workerHeartbeat = Statement("worker_heartbeat", """
            UPDATE workers SET heartbeat_at = now(), state = $2 WHERE id = $1 AND pid = $3 AND hostname = $4 RETURNING id
            """)

        static let workerStopped = Statement("worker_stopped", """
            UPDATE workers SET state = 'stopped', stopped_at = now(), heartbeat_at = now() WHERE id = $1 AND pid = $2 AND hostname = $3
            """)

        // MARK: Reading

        static let workflowByID = Statement("workflow_by_id", """
            SELECT w.id, w.workflow_name, w.state, w.queue, w.priority, w.input, w.labels, w.idempotency_key,
                   w.concurrency_key, w.pivot_crossed, w.cancel_requested, w.not_before, w.submitted_by,
                   w.created_at, w.started_at, w.updated_at, w.finished_at, w.error, w.output,
                   d.content_hash, d.id AS definition_id
            FROM workflows w JOIN workflow_definitions d ON d.id = w.definition_id
            WHERE w.id = $1::uuid
            """)

        static let workflowStates = Statement(
            "workflow_states", "SELECT id, state FROM workflows WHERE id = ANY($1::uuid[])")

        static let workflowIDsByPrefix = Statement("workflow_ids_by_prefix", """
            SELECT id FROM workflows WHERE id::text LIKE $1 || '%' ORDER BY created_at DESC LIMIT 20
            """)

        static let stepsOfWorkflow = Statement("steps_of_workflow", """
            SELECT step_id, ordinal, action, phase, state, attempt, attempt_base, due_at, lease_owner,
                   lease_expires_at, fencing_token, idempotency_key, checkpoint, output, last_error,
                   started_at, finished_at, completed_seq
            FROM steps WHERE workflow_id = $1::uuid ORDER BY ordinal
            """)

        static let eventsOfWorkflow = Statement("events_of_workflow", """
            SELECT id, step_id, phase, attempt, fencing_token, kind, at, worker_id, actor, reason, details
            FROM events WHERE workflow_id = $1::uuid ORDER BY id
            """)

        static let listWorkflows = Statement("list_workflows", """
            SELECT w.id, w.workflow_name, w.state, w.labels, w.submitted_by, w.created_at, w.finished_at,
                   (SELECT count(*) FROM steps s WHERE s.workflow_id = w.id) AS steps_total,
                   (SELECT count(*) FROM steps s WHERE s.workflow_id = w.id AND s.state IN ('succeeded', 'skipped')) AS steps_done
            FROM workflows w
            WHERE ($1::text IS NULL OR w.state = $1)
              AND ($2::text IS NULL OR w.workflow_name = $2)
              AND ($3::timestamptz IS NULL OR w.created_at >= $3)
              AND ($4::jsonb IS NULL OR w.labels @> $4)
            ORDER BY w.created_at DESC, w.id
            LIMIT $5 OFFSET $6
            """)

        /// A worker that stopped heartbeating without saying so (killed, hung, its host gone) is shown
        /// `unresponsive` as soon as a step it holds has outlived its lease (a live worker renews its leases a
        /// third of the way through), or after three of its heartbeat periods without one (at least 5 s, at most
        /// $1 seconds; $1 alone for a worker registered by an older Unwind, which did not record its period). Its
        /// steps are rescued when their leases end.
        static let workers = Statement("list_workers", """
            SELECT wk.id, wk.hostname, wk.pid, wk.concurrency, wk.queues, wk.version,
                   CASE WHEN wk.state = 'running' AND (wk.heartbeat_at < now() - make_interval(
                                 -- GREATEST skips NULLs: an older worker's NULL period must not become 5 s.
                                 secs => CASE WHEN wk.heartbeat_seconds IS NULL THEN $1
                                              ELSE LEAST(GREATEST(wk.heartbeat_seconds * 3, 5), $1) END)
                             OR EXISTS (SELECT 1 FROM steps s WHERE s.lease_owner = wk.id AND s.state = 'running'
                                        AND coalesce(s.lease_expires_at < now(), true)))
                        THEN 'unresponsive' ELSE wk.state END AS state,
                   wk.started_at,
                   wk.heartbeat_at,
                   (SELECT count(*) FROM steps s WHERE s.lease_owner = wk.id AND s.state = 'running') AS running
            FROM workers wk
            WHERE wk.state <> 'stopped' OR wk.stopped_at > now() - interval '1 hour'
            ORDER BY wk.started_at
            """)

        // MARK: Pruning

        /// Finished for good (the states that set `finished_at`): a row whose `finished_at` was set by hand on a
        /// running or failed workflow is never pruned with its history.
        static let finishedBefore = Statement("finished_before", """
            SELECT id FROM workflows
            WHERE finished_at < $1::timestamptz AND state IN ('succeeded', 'compensated', 'cancelled')
            ORDER BY finished_at LIMIT $2
            """)
        static let countFinishedBefore = Statement("count_finished_before", """
            SELECT count(*) AS n FROM workflows
            WHERE finished_at < $1::timestamptz AND state IN ('succeeded', 'compensated', 'cancelled')
            """)
        static let deleteEventsOf = Statement(
            "delete_events_of", "DELETE FROM events WHERE workflow_id = ANY($1::uuid[])")
        static let deleteStepsOf = Statement(
            "delete_steps_of", "DELETE FROM steps WHERE workflow_id = ANY($1::uuid[])")
        static let deleteWorkflows = Statement(
            "delete_workflows", "DELETE FROM workflows WHERE id = ANY($1::uuid[])")
    }
}
