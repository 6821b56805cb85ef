-- The hot tables behave like a queue: every step row is updated several times in its short life (ready →
-- running → succeeded), and workflows once per step. Default autovacuum waits for 20 % of the table to be dead,
-- so dead row versions and index entries pile up and the claim's index walk slows down as the day goes on.
-- Vacuum them after a fixed number of changes instead, without throttling, and leave room in each page so
-- that updates which do not touch an indexed column (lease renewals, checkpoints) can stay on the page (HOT).
ALTER TABLE steps SET (
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_analyze_scale_factor = 0.05
);
ALTER TABLE workflows SET (
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 2000,
    autovacuum_vacuum_cost_delay = 0,
    autovacuum_analyze_scale_factor = 0.05
);
-- events is append-only: only inserts, so the defaults suit it (analyze often enough for its planner stats).
ALTER TABLE events SET (autovacuum_analyze_scale_factor = 0.05);
