-- A step's attempt counters and fencing token only ever grow by one at a time, so values near their types' limits
-- come only from a hand edit or damage; the engine's `+ 1` on them would then fail every claim of the queue (an
-- integer out of range in `claim_steps`) or stop a worker. Bounded far above anything a workflow reaches (a
-- budget is at most 1,000 attempts). NOT VALID: existing rows are not scanned (they were written by Unwind);
-- every insert and update from now on is checked.
ALTER TABLE steps ADD CONSTRAINT steps_counters_in_range CHECK (
    attempt BETWEEN 0 AND 100000000
    AND attempt_base BETWEEN 0 AND 100000000
    AND fencing_token BETWEEN 0 AND 4000000000000000000
) NOT VALID;
