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
    # Optional 4th argument: a directory with server.crt and server.key to serve TLS with.
    port="${3:?usage: $0 start DIR PORT [TLS_DIR]}"
    tls_dir="${4:-}"
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
        if [ -n "$tls_dir" ]; then
            cp "$tls_dir/server.crt" "$tls_dir/server.key" "$dir/data/"
            chmod 600 "$dir/data/server.key"
            [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/data/server.crt" "$dir/data/server.key"
            printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >> "$dir/data/postgresql.conf"
        fi
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
pgbouncer-start)
    # scripts/pg-test-cluster.sh pgbouncer-start DIR LISTEN_PORT POSTGRES_PORT: a PgBouncer in transaction
    # pooling mode in front of the server on POSTGRES_PORT (PgBouncer refuses to run as root too).
    listen_port="${3:?listen port}"; pg_port="${4:?postgres port}"
    command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || die "pgbouncer is not installed (apt-get install pgbouncer)"
    mkdir -p "$dir"
    cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port user=postgres password=unwind-test
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen_port
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 200
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
    run_as_server_user /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
    for _ in $(seq 1 50); do [ -f "$dir/pgbouncer.pid" ] && break; sleep 0.1; done
    ;;
pgbouncer-stop)
    # A throwaway test daemon: SIGKILL (PgBouncer 1.18 may sit out TERM/INT while it waits on its clients).
    [ -f "$dir/pgbouncer.pid" ] && kill -9 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
    ;;
*)
    die "unknown command $command"
    ;;
esac
