-- steps.workflow_id no longer has a foreign key to workflows. A workflow's steps are written only in the
-- transaction that inserts the workflow, with the id it was just given, and removed only with the workflow, in
-- the transaction that prunes it (which now deletes them itself instead of relying on ON DELETE CASCADE). The
-- check re-proved that on every inserted step row, through a trigger that locks the workflow row: a third of
-- PostgreSQL's time in a 10,000-row fleet submission. events.workflow_id never had one, for the same reason.
ALTER TABLE steps DROP CONSTRAINT IF EXISTS steps_workflow_id_fkey;
