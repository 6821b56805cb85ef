#!/usr/bin/env bash
# Runs Unwind's whole test suite against a real, throwaway PostgreSQL server, as README.md describes.
# Installs what is missing (PostgreSQL, libpq-dev) through apt, builds, starts the server on a free loopback
# port, runs `swift test`, and always stops the server afterwards. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

# pgbouncer: the reliability tests put a real one in front of the test server. systemd: DeployTests runs
# `systemd-analyze verify` on deploy/systemd (no running systemd needed). chromium: the dashboard tests drive a
# real headless browser (and fail, not skip, when it cannot run here).
ensure_system_packages pgbouncer openssl python3-venv curl systemd chromium
export UNWIND_TEST_REQUIRE_BROWSER=1

log "building (debug, with tests)"
swift build --build-tests

workdir="$(mktemp -d /tmp/unwind-test.XXXXXX)"
chmod 755 "$workdir"
port="$(free_port)"
cleanup() {
    # PgBouncers started by the reliability tests daemonize; stop any a test left behind.
    pkill -9 -f "pgbouncer -d -q $workdir/" 2>/dev/null || true
    scripts/pg-test-cluster.sh stop "$workdir/pg" >/dev/null 2>&1 || true
    rm -rf "$workdir"
}
trap cleanup EXIT

log "starting a throwaway PostgreSQL on 127.0.0.1:$port"
scripts/pg-test-cluster.sh start "$workdir/pg" "$port"

# Least privilege in tests too: test databases are owned by unwind_owner (migrations) and workers and CLIs
# connect as unwind_worker (rows only), the roles db/roles.sql creates.
"$(postgres_bindir)/psql" -q -h "$workdir/pg" -p "$port" -U postgres -d postgres \
    -v owner_password=unwind-test -v worker_password=unwind-test -f db/roles.sql >/dev/null

export UNWIND_TEST_DATABASE_URL="postgres://postgres:unwind-test@127.0.0.1:$port/postgres"
export UNWIND_TEST_WORKDIR="$workdir"
export UNWIND_BIN_DIR="$(swift build --show-bin-path)"
# Tests start their own embedded databases and clusters here, never in the user's state directory.
export UNWIND_STATE_DIR="$workdir/state"
unset UNWIND_DATABASE_URL

log "running the tests"
swift test --skip-build "$@"

if [ "$#" -eq 0 ]; then
    # The simulator must speak the real API: drive it with the official Huawei Cloud Python SDKs (from PyPI).
    log "cloud simulator conformance with the official Huawei Cloud Python SDKs"
    CLOUDSIM_BIN="$UNWIND_BIN_DIR/unwind-cloudsim" scripts/cloudsim-conformance.sh

    # deploy/: hadolint, yamllint and Kubernetes schema validation (tools from PyPI; no engine or cluster).
    log "linting deploy/"
    scripts/lint-deploy.sh

    # Issue 7's chaos run, short form: 60 full teardowns while workers are SIGKILLed, PostgreSQL restarts and the
    # simulator freezes, with faults injected; exits non-zero if any invariant breaks. Long form: scripts/chaos.sh.
    log "chaos run (short form)"
    "$UNWIND_BIN_DIR/unwind-chaos" --accounts 60
fi
