#!/usr/bin/env bash
# Makes docs/dashboard.png: a real SecMaster teardown against the cloud simulator, submitted through the HTTP API
# (`POST /api/v1/workflows` with `accept: ["handling-fee"]`), run by a worker to completion, then its dashboard page
# photographed by headless Chromium. Uses a private embedded database in a temporary state directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

ensure_system_packages chromium curl
swift build --product unwind
swift build --product unwind-cloudsim
bin="$(swift build --show-bin-path)"
output="${1:-docs/dashboard.png}"

workdir="$(mktemp -d /tmp/unwind-shot.XXXXXX)"
chmod 755 "$workdir"
export UNWIND_STATE_DIR="$workdir/state"
unset UNWIND_DATABASE_URL
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    "$bin/unwind" db stop >/dev/null 2>&1 || true
    rm -rf "$workdir"
}
trap cleanup EXIT

wait_for_line() {  # FILE PREFIX → the rest of the first line starting with PREFIX
    for _ in $(seq 1 300); do
        if grep -q "^$2" "$1" 2>/dev/null; then sed -n "s|^$2||p" "$1" | head -n 1; return; fi
        sleep 0.1
    done
    die "no '$2' in $1: $(cat "$1")"
}

"$bin/unwind-cloudsim" --seed deploy/cloudsim/seeds/sample.json --port 0 >"$workdir/sim.out" 2>"$workdir/sim.log" &
pids+=($!)
export UNWIND_CLOUD_ENDPOINT="$(wait_for_line "$workdir/sim.out" 'listening on ')"
export UNWIND_PROFILE_DEMO_AK="DEMOACCESSKEY0000001"
export UNWIND_PROFILE_DEMO_SK="demoSecretKey0000000000000000000000000001"
export UNWIND_CLOUD_POLL_INTERVAL="500ms"

"$bin/unwind" migrate
"$bin/unwind" worker --concurrency 4 >"$workdir/worker.log" 2>&1 &
pids+=($!)

token="$(openssl rand -hex 24)"
printf '%s\n' "$token" >"$workdir/api-token"
chmod 600 "$workdir/api-token"
UNWIND_API_TOKEN_FILE="$workdir/api-token" "$bin/unwind" serve --port 0 --public-reads >"$workdir/serve.out" 2>"$workdir/serve.log" &
pids+=($!)
base="$(wait_for_line "$workdir/serve.out" 'listening on ')"
log "server at $base"

answer="$(curl -sS -X POST "$base/api/v1/workflows" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"workflow": "secmaster-full-teardown", "accept": ["handling-fee"], "actor": "demo", "labels": {"account": "demo"},
         "input": {"domain_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9", "project_id": "1f2e3d4c5b6a47988796a5b4c3d2e1f0",
                   "region": "cn-north-4", "profile": "demo"}}')"
echo "$answer"
id="$(echo "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"].lower())')"
for _ in $(seq 1 600); do
    state="$(curl -sS "$base/api/v1/workflows/$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["workflow"]["state"])')"
    case "$state" in succeeded|failed|compensated|cancelled|compensation_failed) break ;; esac
    sleep 0.2
done
log "teardown $id: $state"
[ "$state" = succeeded ] || die "the teardown did not succeed: $("$bin/unwind" status "$id")"

chromium --headless --disable-gpu --no-sandbox --hide-scrollbars --virtual-time-budget=5000 \
    --user-data-dir="$workdir/chromium" --screenshot="$output" --window-size=1280,900 "$base/workflows/$id" 2>/dev/null
log "wrote $output"
