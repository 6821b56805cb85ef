-- Least privilege: when the role unwind_worker exists (created by db/roles.sql), it may read and write the rows of
-- Unwind's tables and nothing else. Default privileges make tables created by later migrations (run by the same
-- owner) accessible too. Without that role (e.g. the embedded database) this migration changes nothing.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'unwind_worker') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO unwind_worker', current_schema());
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO unwind_worker', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO unwind_worker', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO unwind_worker', current_schema());
        -- The runtime checks which migrations are applied, but only `unwind migrate` (the owner) records them.
        REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM unwind_worker;
    END IF;
END
$$;
