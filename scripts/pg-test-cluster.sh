#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: scripts/pg-test-cluster.sh start DIR PORT | stop DIR | restart DIR
#
# Listens on 127.0.0.1:PORT and a unix socket in DIR. Local socket connections are trusted; TCP connections
# need the password of the superuser `postgres`, which is `unwind-test` (so tests can provoke a wrong password).
# PostgreSQL refuses to run as root, so as root the server runs as the unprivileged `postgres` user.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib/common.sh"

command="${1:-}"; dir="${2:-}"
[ -n "$command" ] && [ -n "$dir" ] || die "usage: $0 start DIR PORT | stop DIR | restart DIR"
bindir="$(postgres_bindir)"

run_as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$command" in
start)
    port="${3:?usage: $0 start DIR PORT}"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        pwfile="$dir/pwfile"
        echo "unwind-test" > "$pwfile"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$pwfile"
        run_as_server_user "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-instructions >/dev/null
        rm -f "$pwfile"
        cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
# A throwaway test cluster: durability is not what is being tested here.
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    fi
    run_as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s start
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        run_as_server_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -s stop || true
    fi
    ;;
restart)
    run_as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 -s restart
    ;;
stop-fast)
    run_as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w -s stop
    ;;
start-again)
    run_as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s start
    ;;
*)
    die "unknown command $command"
    ;;
esac
