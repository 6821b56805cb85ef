-- The history is only ever read by workflow (status, history, the API, pruning), through events_by_workflow.
-- The primary key on the identity alone was a second index that every insert paid for, and a step writes two
-- or three events. Key the table by (workflow_id, id) instead: one index, the one every read uses. The identity
-- stays unique and increasing, so the order of a workflow's events is unchanged.
ALTER TABLE events DROP CONSTRAINT events_pkey;
DROP INDEX events_by_workflow;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (workflow_id, id);
