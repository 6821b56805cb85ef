#!/usr/bin/env bash
# Unwind's main job on a fresh machine, as README.md describes: a full SecMaster teardown against the local cloud
# simulator, on the embedded database (unless UNWIND_DATABASE_URL points elsewhere).
#
# Installs what is missing (PostgreSQL, libpq-dev) through apt, builds, starts the simulator seeded with one
# sample account (deploy/cloudsim/seeds/sample.json), migrates, checks health, starts a worker, shows the plan,
# runs the teardown to completion and shows its status. Everything it started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

ensure_system_packages

log "building unwind and unwind-cloudsim"
swift build --product unwind
swift build --product unwind-cloudsim
bin="$(swift build --show-bin-path)"
unwind() { "$bin/unwind" "$@"; }

workdir="$(mktemp -d "${TMPDIR:-/tmp}/unwind-demo.XXXXXX")"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$workdir"
}
trap cleanup EXIT

log "starting the cloud simulator (deploy/cloudsim/seeds/sample.json)"
"$bin/unwind-cloudsim" --seed deploy/cloudsim/seeds/sample.json --port 0 >"$workdir/sim.out" 2>"$workdir/sim.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^listening on ' "$workdir/sim.out" 2>/dev/null && break; sleep 0.1; done
endpoint="$(sed -n 's/^listening on //p' "$workdir/sim.out" | head -n 1)"
[ -n "$endpoint" ] || die "the simulator did not start: $(cat "$workdir/sim.log")"
echo "simulator at $endpoint"

# Point every cloud call at the simulator; the sample account's (simulated) keys form the profile "demo".
export UNWIND_CLOUD_ENDPOINT="$endpoint"
export UNWIND_PROFILE_DEMO_AK="DEMOACCESSKEY0000001"
export UNWIND_PROFILE_DEMO_SK="demoSecretKey0000000000000000000000000001"
export UNWIND_CLOUD_POLL_INTERVAL="500ms"
account=(--set domain_id=0a1b2c3d4e5f40718293a4b5c6d7e8f9 --set project_id=1f2e3d4c5b6a47988796a5b4c3d2e1f0
         --set region=cn-north-4 --set profile=demo)

log "unwind migrate"
unwind migrate
log "unwind doctor"
unwind doctor

log "starting a worker (unwind worker), logs in $workdir/worker.log"
# The binary itself, not the unwind() function: a function run with & is a subshell, and SIGTERM at the end would
# stop that subshell and leave the worker running.
"$bin/unwind" worker --concurrency 4 >"$workdir/worker.log" 2>&1 &
pids+=($!)

log "unwind plan secmaster-full-teardown ${account[*]}"
unwind plan secmaster-full-teardown "${account[@]}"

log "unwind submit secmaster-full-teardown ${account[*]} --accept handling-fee --wait"
output="$(unwind submit secmaster-full-teardown "${account[@]}" --accept handling-fee --wait)"
echo "$output"
id="$(echo "$output" | awk '/^submitted/ {print $3}')"

log "unwind status ${id:0:8}"
unwind status "${id:0:8}"
