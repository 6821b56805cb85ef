#!/usr/bin/env bash
# Unwind's main job on a fresh machine, as README.md describes: installs what is missing (PostgreSQL,
# libpq-dev) through apt, builds, and runs against the embedded local database (created and started on first
# use) unless UNWIND_DATABASE_URL points elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

ensure_system_packages

log "building unwind"
swift build --product unwind
bin="$(swift build --show-bin-path)"

log "unwind migrate"
"$bin/unwind" migrate
log "unwind doctor"
"$bin/unwind" doctor
log "unwind db status"
"$bin/unwind" db status
