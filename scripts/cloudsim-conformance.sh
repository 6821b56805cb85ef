#!/usr/bin/env bash
# Conformance test: drive unwind-cloudsim with the official Huawei Cloud Python SDKs (3.1.219).
#
# Creates (or reuses) a venv under a cache dir, installs the SDK packages from PyPI, starts the built
# unwind-cloudsim on a free port with deploy/cloudsim/seeds/all-kinds.json, runs
# Tests/conformance/sdk_conformance.py against it and stops the server on exit.
#
# Environment: CLOUDSIM_BIN (default: .build/debug/unwind-cloudsim, built if missing),
#              CLOUDSIM_VENV (default: ${XDG_CACHE_HOME:-$HOME/.cache}/unwind/cloudsim-sdk-venv),
#              CLOUDSIM_BUILD_PATH (default: .build), PYTHON (default: python3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sdk_version="3.1.219"
build_path="${CLOUDSIM_BUILD_PATH:-$root/.build}"
bin="${CLOUDSIM_BIN:-$build_path/debug/unwind-cloudsim}"
venv="${CLOUDSIM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/unwind/cloudsim-sdk-venv-$sdk_version}"
seed="$root/deploy/cloudsim/seeds/all-kinds.json"
python="${PYTHON:-python3}"

if [[ ! -x "$bin" ]]; then
    echo "building unwind-cloudsim into $build_path" >&2
    swift build --build-path "$build_path" --product unwind-cloudsim >&2
fi

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import huaweicloudsdksecmaster" 2>/dev/null; then
    echo "creating SDK venv in $venv" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "huaweicloudsdkcore==$sdk_version" "huaweicloudsdkbss==$sdk_version" "huaweicloudsdkecs==$sdk_version" \
        "huaweicloudsdkvpcep==$sdk_version" "huaweicloudsdksecmaster==$sdk_version"
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/cloudsim-conformance.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

"$bin" --seed "$seed" --port 0 --log-level warning >"$workdir/stdout" 2>"$workdir/stderr" &
server_pid=$!

# The first stdout line is "listening on http://127.0.0.1:PORT".
for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$workdir/stdout" 2>/dev/null; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "unwind-cloudsim exited early:" >&2
        cat "$workdir/stderr" >&2
        exit 1
    fi
    sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$workdir/stdout" | head -n 1)"
if [[ -z "$url" ]]; then
    echo "unwind-cloudsim did not report its address within 10 s" >&2
    cat "$workdir/stderr" >&2
    exit 1
fi
echo "unwind-cloudsim at $url (pid $server_pid)" >&2

"$venv/bin/python" "$root/Tests/conformance/sdk_conformance.py" "$url" "$seed"
