-- How often each worker heartbeats, so that `unwind workers` (and `status`'s "does a live worker serve this
-- queue" check) can call a worker unresponsive after three missed heartbeats of its own, instead of after a fixed
-- two minutes: a worker killed while idle holds no lease that would give it away sooner. NULL for a worker
-- registered by an older Unwind, which keeps the fixed limit.
ALTER TABLE workers ADD COLUMN heartbeat_seconds double precision;
