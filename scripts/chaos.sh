#!/usr/bin/env bash
# The long chaos run, by hand: builds Unwind in release mode and runs unwind-chaos with a large fleet.
#   scripts/chaos.sh                                  # 2000 accounts, 4 workers, kill every 2 s, 3 PostgreSQL restarts
#   scripts/chaos.sh --accounts 500 --json out.json   # any unwind-chaos option (see: unwind-chaos --help)
# Installs what is missing (PostgreSQL, curl), as scripts/test.sh does. Prints the figures the README quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
ensure_system_packages curl

log "building (release)"
swift build -c release --product unwind >/dev/null
swift build -c release --product unwind-cloudsim >/dev/null
swift build -c release --product unwind-chaos >/dev/null
bin="$(swift build -c release --show-bin-path)"

if [ "$#" -eq 0 ]; then
    set -- --accounts 2000 --workers 4 --concurrency 16 --kill-every 2 --lease 6 --pg-restarts 3 --restart-every 120 --timeout 3600
fi
log "chaos run: $*"
"$bin/unwind-chaos" "$@"
