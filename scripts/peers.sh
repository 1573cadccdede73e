#!/usr/bin/env bash
# PostgreSQL + PgBouncer as throw-away peers for tnsbench, on 127.0.0.1 ephemeral ports.
#
#   scripts/peers.sh start        installs (apt, as root, only if missing) and starts a temp
#                                 cluster + a session-pooling PgBouncer in front of it; prints
#                                 KEY=value lines (PEERS_DIR, PG_PORT, PGB_PORT, ...) on stdout
#   scripts/peers.sh stop DIR     stops both and removes DIR
#
# PostgreSQL refuses to run as root, so when started by root the cluster and PgBouncer run as
# the `postgres` system user (created by the package) or, failing that, `nobody`.
# Authentication is `trust` on loopback (the cluster never listens elsewhere), except for the
# role orasim_scram, which logs in with SCRAM-SHA-256 (password "bench") so that a login with
# PBKDF2 key derivation can be compared with O5LOGON.
set -euo pipefail

log() { echo "peers.sh: $*" >&2; }

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$d" && -x "$d/initdb" ]]; then echo "$d"; return; fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
    return 1
}

ensure_installed() {
    if pg_bindir >/dev/null && command -v pgbouncer >/dev/null 2>&1; then return; fi
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL/PgBouncer are not installed and this is not root: install postgresql and pgbouncer"
        exit 1
    fi
    log "installing postgresql and pgbouncer with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql pgbouncer >&2
}

free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    return 1
}

start() {
    ensure_installed
    local bindir runas dir pgport pgbport
    bindir=$(pg_bindir)
    runas=()
    local owner
    owner=$(id -un)
    if [[ $(id -u) -eq 0 ]]; then
        if id postgres >/dev/null 2>&1; then owner=postgres; else owner=nobody; fi
        runas=(runuser -u "$owner" --)
    fi
    dir=$(mktemp -d /tmp/orasim-peers.XXXXXX)
    chmod 755 "$dir"
    mkdir -p "$dir/sock"
    chown -R "$owner" "$dir"
    echo "PEERS_DIR=$dir"
    # From here on a failure stops whatever did start.
    trap 'stop "$dir" >/dev/null 2>&1 || true' ERR
    cd "$dir"
    pgport=$(free_port)
    "${runas[@]}" "$bindir/initdb" -D "$dir/data" -U orasim --auth=trust --no-locale -E UTF8 \
        --no-sync >"$dir/initdb.log" 2>&1
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pgport
unix_socket_directories = '$dir/sock'
max_connections = 1100
shared_buffers = 64MB
fsync = off
synchronous_commit = off
logging_collector = off
CONF
    cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host all orasim_scram 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
HBA
    chown "$owner" "$dir/data/pg_hba.conf"
    "${runas[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >&2
    "${runas[@]}" "$bindir/psql" -h "$dir/sock" -p "$pgport" -U orasim -d postgres -qAt \
        -c "SET password_encryption = 'scram-sha-256'" \
        -c "CREATE ROLE orasim_scram LOGIN PASSWORD 'bench'" >&2
    pgbport=$(free_port)
    printf '"orasim" ""\n' >"$dir/userlist.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$pgport dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgbport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = session
max_client_conn = 1100
default_pool_size = 1000
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    chown "$owner" "$dir/userlist.txt" "$dir/pgbouncer.ini"
    "${runas[@]}" pgbouncer -d "$dir/pgbouncer.ini" >&2
    for _ in $(seq 1 100); do
        [[ -s "$dir/pgbouncer.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$pgbport") 2>/dev/null && break
        sleep 0.1
    done
    [[ -s "$dir/pgbouncer.pid" ]] || { log "pgbouncer did not start"; cat "$dir/pgbouncer.log" >&2; exit 1; }
    echo "PG_PORT=$pgport"
    echo "PGB_PORT=$pgbport"
    echo "PG_USER=orasim"
    echo "PG_DB=postgres"
    echo "PGB_DB=bench"
    echo "PG_PID=$(head -n 1 "$dir/data/postmaster.pid")"
    echo "PGB_PID=$(cat "$dir/pgbouncer.pid")"
    echo "PG_VERSION=$("$bindir/postgres" --version)"
    echo "PGB_VERSION=$(pgbouncer --version | head -n 1)"
    echo "PG_AUTH=trust (loopback)"
    echo "PGB_POOL_MODE=session"
    echo "PG_OWNER=$owner"
    echo "PG_SCRAM_USER=orasim_scram"
    echo "PG_SCRAM_PASSWORD=bench"
}

stop() {
    local dir=$1 bindir runas=()
    [[ -d "$dir" && "$dir" == /tmp/orasim-peers.* ]] || { log "not a peers directory: $dir"; return 1; }
    if [[ $(id -u) -eq 0 ]]; then
        runas=(runuser -u "$(stat -c %U "$dir")" --)
    fi
    if [[ -s "$dir/pgbouncer.pid" ]]; then
        local pid
        pid=$(cat "$dir/pgbouncer.pid")
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    if [[ -f "$dir/data/postmaster.pid" ]] && bindir=$(pg_bindir); then
        (cd "$dir" && "${runas[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2) || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) [[ -n "${2:-}" ]] || { log "usage: $0 stop DIR"; exit 2; }; stop "$2" ;;
    *) log "usage: $0 start | stop DIR"; exit 2 ;;
esac
