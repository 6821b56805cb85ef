#!/bin/sh
# Runs once, when the PostgreSQL data volume is first initialised (docker-entrypoint-initdb.d): creates the
# least-privilege roles with db/roles.sql and the unwind database owned by unwind_owner. The passwords are read
# by psql itself from the secret files, so they never appear on a command line.
set -e
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
\set owner_password `cat "$UNWIND_OWNER_PASSWORD_FILE"`
\set worker_password `cat "$UNWIND_WORKER_PASSWORD_FILE"`
\i /unwind/roles.sql
CREATE DATABASE unwind OWNER unwind_owner;
SQL
