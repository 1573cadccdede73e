#!/usr/bin/env bash
# PostgreSQL + PgBouncer as throw-away peers for tnsbench, on 127.0.0.1 ephemeral ports.
#
#   scripts/peers.sh start        installs (apt, as root, only what is missing) and starts a
#                                 temp cluster + a PgBouncer in front of it (database `bench`
#                                 with session pooling, `bench_tx` with transaction pooling
#                                 and a pool of 20 server connections); prints KEY=value lines
#                                 (PEERS_DIR, PG_PORT, PGB_PORT, PGB_TX_DB, ...) on stdout
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
    local missing=()
    pg_bindir >/dev/null || missing+=(postgresql)
    command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
    [[ ${#missing[@]} -eq 0 ]] && return
    if [[ $(id -u) -ne 0 ]]; then
        log "not installed and this is not root: install ${missing[*]}"
        exit 1
    fi
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # No service of the package is wanted: the script runs its own throw-away instances.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    if [[ " ${missing[*]} " == *" pgbouncer "* ]] && command -v service >/dev/null 2>&1; then
        service pgbouncer stop >/dev/null 2>&1 || true
    fi
}

free_port() {
    # Below the kernel's ephemeral range, so no client socket of a running benchmark holds it.
    local p low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    (( low > 12000 )) || low=32768
    for _ in $(seq 1 50); do
        p=$(( 10000 + RANDOM % (low - 10000) ))
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
max_connections = 1500
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
    printf '"orasim" ""\n' >"$dir/userlist.txt"
    chown "$owner" "$dir/userlist.txt"
    local attempt
    for attempt in 1 2 3; do
        pgbport=$(free_port)
        cat >"$dir/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$pgport dbname=postgres
bench_tx = host=127.0.0.1 port=$pgport dbname=postgres pool_mode=transaction pool_size=20

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgbport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = session
max_client_conn = 10200
default_pool_size = 1000
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
        chown "$owner" "$dir/pgbouncer.ini"
        # runuser's PAM session may lower the descriptor limit: 10,000 clients need more.
        "${runas[@]}" bash -c 'ulimit -n "$(ulimit -Hn)"; exec pgbouncer -d "$1"' _ \
            "$dir/pgbouncer.ini" >&2 || true
        local i
        for i in $(seq 1 100); do
            [[ -s "$dir/pgbouncer.pid" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$pgbport") 2>/dev/null && break 2
            # No pid file after 2 s: it failed (a port taken meanwhile); try another port.
            [[ -s "$dir/pgbouncer.pid" || $i -lt 20 ]] || break
            sleep 0.1
        done
        log "pgbouncer did not start on port $pgbport (attempt $attempt)"
        [[ -s "$dir/pgbouncer.pid" ]] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null
        rm -f "$dir/pgbouncer.pid"
    done
    [[ -s "$dir/pgbouncer.pid" ]] || { log "pgbouncer did not start"; cat "$dir/pgbouncer.log" >&2; exit 1; }
    echo "PG_PORT=$pgport"
    echo "PGB_PORT=$pgbport"
    echo "PG_USER=orasim"
    echo "PG_DB=postgres"
    echo "PGB_DB=bench"
    echo "PGB_TX_DB=bench_tx"
    echo "PG_PID=$(head -n 1 "$dir/data/postmaster.pid")"
    echo "PGB_PID=$(cat "$dir/pgbouncer.pid")"
    echo "PG_VERSION=$("$bindir/postgres" --version)"
    echo "PGB_VERSION=$(pgbouncer --version | head -n 1)"
    echo "PG_AUTH=trust (loopback)"
    echo "PGB_POOL_MODE=session (bench), transaction with 20 server connections (bench_tx)"
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
