# Shared helpers for Unwind's scripts. Source it; do not run it.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian/Ubuntu packages Unwind needs to build and to run its embedded database, if missing.
# Extra package names may be passed (e.g. python3-venv for the SDK conformance tests).
ensure_system_packages() {
    local wanted=(postgresql libpq-dev pkg-config "$@")
    local missing=()
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get to install them; install them by hand"
        log "installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    command -v swift >/dev/null || die "the Swift toolchain (swift) is not on PATH; install Swift 6.1 or newer first"
}

# The directory holding initdb/pg_ctl/postgres.
postgres_bindir() {
    local dir
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$dir" ] && [ -x "$dir/initdb" ] || die "PostgreSQL server programs not found (is the postgresql package installed?)"
    echo "$dir"
}

# Prints a free TCP port on the loopback interface.
free_port() {
    python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}
