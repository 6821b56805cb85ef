-- Unwind engine schema: workflow definitions, workflows, steps, the append-only event history and workers.
-- Applied by `unwind migrate` in one transaction; recorded in schema_migrations with a checksum.

-- A definition is copied here when a workflow is submitted, keyed by its content hash, so a workflow in
-- flight keeps the definition it started with after workflows/*.yaml changes.
CREATE TABLE workflow_definitions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL,
    content_hash  text        NOT NULL,
    source        text        NOT NULL,
    compiled      jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, content_hash)
);

CREATE TABLE workflows (
    id               uuid        PRIMARY KEY,
    definition_id    bigint      NOT NULL REFERENCES workflow_definitions (id),
    workflow_name    text        NOT NULL,
    state            text        NOT NULL CHECK (state IN (
                         'scheduled', 'running', 'compensating',
                         'succeeded', 'compensated', 'failed', 'compensation_failed', 'cancelled')),
    queue            text        NOT NULL DEFAULT 'default',
    priority         integer     NOT NULL DEFAULT 0,
    input            jsonb       NOT NULL,
    labels           jsonb       NOT NULL DEFAULT '{}',
    idempotency_key  text        UNIQUE,
    concurrency_key  text,
    -- True once the pivot step succeeded or recorded an irreversible change: from then on the workflow only
    -- moves forward and is never compensated.
    pivot_crossed    boolean     NOT NULL DEFAULT false,
    -- An operator cancelled before the pivot: the compensation that follows ends in 'cancelled'.
    cancel_requested boolean     NOT NULL DEFAULT false,
    not_before       timestamptz,
    submitted_by     text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    error            jsonb,
    output           jsonb
);

-- At most one workflow per concurrency key (e.g. one teardown per cloud account) that is not finished for
-- good. failed / compensation_failed still hold the key: they wait for an operator to resume them.
CREATE UNIQUE INDEX workflows_concurrency_key_active
    ON workflows (concurrency_key)
    WHERE concurrency_key IS NOT NULL
      AND state IN ('scheduled', 'running', 'compensating', 'failed', 'compensation_failed');

CREATE INDEX workflows_by_created ON workflows (created_at DESC, id);
CREATE INDEX workflows_by_state ON workflows (state, created_at DESC);
CREATE INDEX workflows_finished ON workflows (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE steps (
    workflow_id          uuid        NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    step_id              text        NOT NULL,
    ordinal              integer     NOT NULL,
    action               text        NOT NULL,
    -- forward: running the step's action; compensate: running its compensation.
    phase                text        NOT NULL DEFAULT 'forward' CHECK (phase IN ('forward', 'compensate')),
    state                text        NOT NULL CHECK (state IN (
                             'blocked', 'ready', 'waiting', 'running',
                             'succeeded', 'failed', 'skipped', 'cancelled', 'compensated')),
    queue                text        NOT NULL DEFAULT 'default',
    priority             integer     NOT NULL DEFAULT 0,
    due_at               timestamptz NOT NULL DEFAULT now(),
    predecessors_pending integer     NOT NULL DEFAULT 0,
    -- Attempts started, ever (monotonic). attempt_base is the value when the step was last (re-)armed, so the
    -- attempts left in the current budget are max_attempts - (attempt - attempt_base).
    attempt              integer     NOT NULL DEFAULT 0,
    attempt_base         integer     NOT NULL DEFAULT 0,
    lease_owner          text,
    lease_expires_at     timestamptz,
    -- Incremented on every claim; every write by the claimant is conditional on it, so a worker that lost
    -- its lease can never overwrite the new owner's result.
    fencing_token        bigint      NOT NULL DEFAULT 0,
    idempotency_key      text        NOT NULL,
    checkpoint           jsonb,
    output               jsonb,
    last_error           jsonb,
    started_at           timestamptz,
    finished_at          timestamptz,
    -- Order in which forward steps finished within their workflow; compensation runs in reverse of it.
    completed_seq        integer,
    PRIMARY KEY (workflow_id, step_id)
);

-- The claim query walks this small partial index only: finished steps never enter it, so history does not
-- slow the hot path down.
CREATE INDEX steps_claimable ON steps (queue, priority DESC, due_at) WHERE state IN ('ready', 'waiting');
CREATE INDEX steps_leases ON steps (lease_expires_at) WHERE state = 'running';

CREATE TABLE events (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id    uuid        NOT NULL,
    step_id        text,
    phase          text,
    attempt        integer,
    fencing_token  bigint,
    kind           text        NOT NULL,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    worker_id      text,
    actor          text,
    reason         text,
    details        jsonb
);
CREATE INDEX events_by_workflow ON events (workflow_id, id);
CREATE INDEX workflows_scheduled ON workflows (not_before) WHERE state = 'scheduled';

CREATE TABLE workers (
    id            text        PRIMARY KEY,
    hostname      text        NOT NULL,
    pid           integer     NOT NULL,
    concurrency   integer     NOT NULL,
    queues        text[]      NOT NULL DEFAULT '{default}',
    version       text        NOT NULL,
    state         text        NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'draining', 'stopped')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz
);
