#!/usr/bin/env bash
# Runs, back to back on the same PostgreSQL cluster, the pgbench commit ceiling and the DBOS Transact peer benchmark
# from ../shared/bench (beside this repository), then `unwind bench` (release build), and prints the ratios:
# Unwind steps/s ÷ pgbench TPS at the same client count, and ÷ DBOS steps/s.
#
# Usage: scripts/bench-peers.sh [RUNS=3] [PGBENCH_SECONDS=20] [-- extra unwind bench arguments]
# Environment: BENCH_VENV (default ~/.cache/unwind/bench-venv) for the Python peers; PEERPG_PORT (55432);
#              BENCH_RESULTS (default /tmp/unwind-peer-results) for raw outputs and the JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
RUNS=${1:-3}; PGBENCH_SECONDS=${2:-20}
shift $(( $# > 2 ? 2 : $# )) || true
[ "${1:-}" = "--" ] && shift
extra=("$@")

peers="$root/../shared/bench"
if [ ! -d "$peers" ] || [ ! -f "$peers/run-pgbench.sh" ] || [ ! -f "$peers/bench_dbos.py" ]; then
    echo "error: the peer benchmark scripts are missing: expected $peers/run-pgbench.sh and bench_dbos.py" >&2
    echo "       (they live in shared/bench beside the project checkout; copy or clone them there first)" >&2
    exit 1
fi
out=${BENCH_RESULTS:-/tmp/unwind-peer-results}; mkdir -p "$out"
export BENCH_RESULTS="$out"
port=${PEERPG_PORT:-55432}
stamp=$(date +%Y%m%d-%H%M%S)
log() { printf '\n== %s\n' "$*" >&2; }

# The peer scripts write results next to themselves; run a private copy so ../shared stays untouched.
work=$(mktemp -d /tmp/unwind-bench-peers.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$peers/." "$work/"
mkdir -p "$work/results"
chmod -R a+rX "$work"

log "PostgreSQL cluster on 127.0.0.1:$port (shared/bench/pg-cluster.sh)"
if ! pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
    [ -f "${PEERPG_BASE:-/tmp/peerpg}/data/PG_VERSION" ] || "$work/pg-cluster.sh" init
    "$work/pg-cluster.sh" start
fi
"$work/pg-cluster.sh" settings | tee "$out/settings-$stamp.txt"

log "building unwind (release)"
swift build -c release --product unwind >&2
swift build -c release --product unwind-cloudsim >&2
bin=$(swift build -c release --show-bin-path)

log "Python environment for DBOS"
venv=${BENCH_VENV:-$HOME/.cache/unwind/bench-venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q dbos 'psycopg[binary]' >&2

log "1/3 pgbench ceiling: $RUNS runs × $PGBENCH_SECONDS s"
PEERPG_PORT=$port "$work/run-pgbench.sh" "$RUNS" "$PGBENCH_SECONDS" | tee "$out/pgbench-summary-$stamp.txt"

log "2/3 DBOS Transact ($RUNS runs)"
(cd "$work" && PATH="$venv/bin:$PATH" python bench_dbos.py --runs "$RUNS" --fresh) | tee "$out/dbos-summary-$stamp.txt"

log "3/3 unwind bench"
json="$out/unwind-bench-$stamp.json"
"$bin/unwind" bench --database-url "postgresql://postgres@127.0.0.1:$port/postgres" --rounds "$RUNS" \
    --workflows-dir "$root/workflows" --cloudsim "$bin/unwind-cloudsim" --json "$json" "${extra[@]}" \
    | tee "$out/unwind-bench-$stamp.txt"

log "ratios"
python3 - "$json" "$out/pgbench-summary-$stamp.txt" "$out/dbos-summary-$stamp.txt" <<'PY'
import json, re, sys
bench = json.load(open(sys.argv[1]))
pg = {}
for line in open(sys.argv[2]):
    m = re.match(r"update_sync_on\s+c=(\d+)\s+median=\s*([\d.]+)", line)
    if m: pg[int(m.group(1))] = float(m.group(2))
dbos = {}
for line in open(sys.argv[3]):
    m = re.match(r"(queue conc=\d+ poll=[\d.]+s|threads=\d+) .*steps/s: median=([\d.]+)", line)
    if m: dbos[m.group(1)] = float(m.group(2))
steps = bench.get("steps_per_s")
p = bench["parameters"]; workers, conc = int(p["workers"]), int(p["concurrency"])
print(f"unwind steps/s (median): {steps:.0f}  [{workers} workers × concurrency {conc}]")
print(f"unwind pgbench (same run, inside unwind bench): {bench.get('pgbench_tps', float('nan')):.0f} TPS"
      f" → ratio {bench.get('steps_per_pgbench_tps', float('nan')):.2f}")
for c in sorted(pg):
    print(f"  ÷ run-pgbench.sh sync-on TPS at c={c}: {pg[c]:.0f} → {steps / pg[c]:.2f}")
for name, value in sorted(dbos.items()):
    print(f"  ÷ DBOS {name}: {value:.1f} steps/s → {steps / value:.1f}×")
if not dbos: print("  (no DBOS steps/s figure found in its output)")
print("targets: ≥ 2× pgbench at the same client count; ≥ 10× DBOS")
PY
echo "raw outputs: $out" >&2
