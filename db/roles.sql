-- Roles for running Unwind with least privilege. Run once per PostgreSQL cluster, as a superuser or a role with
-- CREATEROLE, then make unwind_owner the owner of the Unwind database:
--
--   psql -v owner_password="$OWNER_PASSWORD" -v worker_password="$WORKER_PASSWORD" -f db/roles.sql
--   psql -c 'ALTER DATABASE unwind OWNER TO unwind_owner'
--
-- unwind_owner runs `unwind migrate` (it owns the tables). unwind_worker is what workers, `unwind serve` and
-- operators' CLIs connect as: it can read and write rows, nothing else (no DDL, no TRUNCATE, no writes to
-- schema_migrations). The grants themselves are made by migration 0002, in each database, when the role exists.
\set ON_ERROR_STOP on
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'unwind_owner') AS create_owner \gset
\if :create_owner
CREATE ROLE unwind_owner LOGIN PASSWORD :'owner_password';
\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'unwind_worker') AS create_worker \gset
\if :create_worker
CREATE ROLE unwind_worker LOGIN PASSWORD :'worker_password';
\endif
ALTER ROLE unwind_worker NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
