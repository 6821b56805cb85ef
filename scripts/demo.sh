#!/usr/bin/env bash
# Unwind's main job on a fresh machine, as README.md describes: installs what is missing (PostgreSQL,
# libpq-dev) through apt, builds, and runs against the embedded local database (created and started on first
# use) unless UNWIND_DATABASE_URL points elsewhere: migrate, doctor, a worker, one workflow to completion.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

ensure_system_packages

log "building unwind"
swift build --product unwind
bin="$(swift build --show-bin-path)"
unwind() { "$bin/unwind" "$@"; }

log "unwind migrate"
unwind migrate
log "unwind doctor"
unwind doctor

log "starting a worker (unwind worker), logs in ${TMPDIR:-/tmp}/unwind-demo-worker.log"
unwind worker --concurrency 4 > "${TMPDIR:-/tmp}/unwind-demo-worker.log" 2>&1 &
worker=$!
stop_worker() { kill -TERM "$worker" 2>/dev/null && wait "$worker" 2>/dev/null || true; }
trap stop_worker EXIT

log "unwind workflows list"
unwind workflows list
log "unwind submit example-linear --set ticket=DEMO-1 --wait"
output="$(unwind submit example-linear --set "ticket=DEMO-$(date +%s)" --wait)"
echo "$output"
id="$(echo "$output" | awk '/^submitted/ {print $3}')"
log "unwind status ${id:0:8}"
unwind status "${id:0:8}"
log "unwind history ${id:0:8}"
unwind history "${id:0:8}"
