# Shared set-up for scripts/serve.sh and scripts/test.sh. Source it; do not run it.
#
# Everything lives inside the checkout (.venv/ and .dev/, both git-ignored) so that a
# newcomer's machine keeps nothing of ours elsewhere and `rm -rf .venv .dev` resets it.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# DEV_DIR and DEV_PG_PORT move everything: two checkouts (or two runs) never share clusters.
DEV_DIR="${DEV_DIR:-$ROOT/.dev}"
VENV="$ROOT/.venv"
# The oltp cluster's port; the olap one takes the next, the benchmark's plain one the one after.
# Below Linux's ephemeral range (32768-60999), where no client socket takes a port: a cluster
# the fault tests stop gets its port back when they start it again. Inside it (54329 until
# 2026-12-07), a long-lived connection to the other cluster could hold it for the rest of a run.
PG_PORT="${DEV_PG_PORT:-25432}"
PG_SUPERUSER="dashboard"
# Room for bulk loads: 10M order lines write several GB of WAL, and the defaults (1GB
# max_wal_size, 128MB shared_buffers, 4MB of WAL buffers) force checkpoints and WAL flushes
# in the middle of a load.
PG_TUNING="-c max_wal_size=8GB -c shared_buffers=1GB -c wal_buffers=64MB"
# The oltp cluster is the shop's database, captured by logical replication (ORDERS_SOURCE=cdc):
# logical WAL, room for slots and senders, and a cap on the WAL a forgotten slot may hold.
PG_OLTP_TUNING="-c wal_level=logical -c max_replication_slots=20 -c max_wal_senders=20 -c max_slot_wal_keep_size=16GB"
# The olap cluster subscribes: a stopped or restarted shop is retried every second, not five.
# It stands in for RisingWave and holds nothing the shop cannot give again, and nothing
# replicates from it, so its WAL serves crash recovery alone (wal_level=minimal): a bulk load
# that empties `orders` writes its lines and key once, not also to the WAL (fsynced at commit).
PG_OLAP_TUNING="-c wal_retrieve_retry_interval=1s -c max_logical_replication_workers=8 -c max_worker_processes=16"
PG_OLAP_TUNING+=" -c wal_level=minimal -c max_wal_senders=0"
PG_STARTED_HERE=""
PG_ROOT=""

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
    # Only root may install system packages; everyone else is told what to install.
    if ! is_root; then
        die "missing system packages: $*. Install them (Debian/Ubuntu: sudo apt-get install $*) and run again."
    fi
    say "installing system packages: $*"
    if [ -z "${DEVENV_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEVENV_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_python() {
    command -v python3 >/dev/null || apt_install python3 python3-venv
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "Python 3.11 or newer is needed; python3 is $(python3 --version 2>&1)."
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
}

# mysqlclient, the Dolt sql-server driver, has no Linux wheels: it compiles against the MySQL
# client library, with a C compiler and Python's headers.
ensure_mysqlclient_build() {
    local missing=()
    pkg-config --exists mysqlclient 2>/dev/null || missing+=(default-libmysqlclient-dev pkg-config)
    command -v gcc >/dev/null || missing+=(gcc)
    "$VENV/bin/python" -c 'import pathlib, sys, sysconfig
sys.exit(not (pathlib.Path(sysconfig.get_paths()["include"]) / "Python.h").exists())' || missing+=(python3-dev)
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

# $1: the requirements file to install (requirements.txt or requirements-dev.txt).
ensure_venv() {
    ensure_python
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtual environment in .venv/"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.installed-$(basename "$1")"
    # Reinstall only when a requirements file changed since the last install.
    if [ ! -f "$stamp" ] || [ -n "$(find "$ROOT" -maxdepth 1 -name 'requirements*.txt' -newer "$stamp")" ]; then
        ensure_mysqlclient_build
        say "installing Python packages from $1"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/$1"
        touch "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

# Chart.js is pinned in package.json/package-lock.json (npm verifies its integrity hash);
# the self-hosted copy is served from node_modules through STATICFILES_DIRS.
ensure_js_assets() {
    command -v npm >/dev/null || apt_install nodejs npm
    if [ ! -f "$ROOT/node_modules/.package-lock.json" ] \
        || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
        say "installing Chart.js (pinned in package-lock.json)"
        (cd "$ROOT" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
    fi
}

pg_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        # Django 5.2 needs PostgreSQL 14 or newer.
        if [ -x "$dir/pg_ctl" ] && [ "$(basename "$(dirname "$dir")")" -ge 14 ]; then
            echo "$dir"
            return
        fi
    done
    if command -v pg_ctl >/dev/null; then
        dirname "$(command -v pg_ctl)"
    fi
}

# PostgreSQL refuses to run as root, so root runs the cluster as the "postgres" user.
as_pg_owner() {
    if is_root; then
        # From / so the postgres user never tries to enter a folder it cannot read.
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Two private clusters, as in production two servers: "oltp" (users, sessions, catalog) and
# "olap" (orders and rollups, standing in for RisingWave), so either can go down alone.
# A third, "plain" (wal_level=replica, no capture), exists only for the benchmark's baseline.
cluster_port() {
    case "$1" in olap) echo $((PG_PORT + 1)) ;; plain) echo $((PG_PORT + 2)) ;; *) echo "$PG_PORT" ;; esac
}
cluster_data() { echo "$PG_ROOT/$1"; }
cluster_log() { echo "$PG_ROOT/$1.log"; }
cluster_tuning() {
    case "$1" in olap) echo "$PG_TUNING $PG_OLAP_TUNING" ;; plain) echo "$PG_TUNING" ;; *) echo "$PG_TUNING $PG_OLTP_TUNING" ;; esac
}

cluster_running() { as_pg_owner "$PG_BIN/pg_ctl" -D "$(cluster_data "$1")" status >/dev/null 2>&1; }
# The port a running cluster listens on: the fourth line of its postmaster.pid.
running_port() { as_pg_owner sed -n 4p "$(cluster_data "$1")/postmaster.pid"; }

find_postgres() {
    PG_BIN="$(pg_bindir)"
    if [ -z "$PG_BIN" ]; then
        apt_install postgresql
        PG_BIN="$(pg_bindir)"
        [ -n "$PG_BIN" ] || die "PostgreSQL server binaries (14 or newer) not found after installing them."
    fi
    if is_root && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    PG_ROOT="$DEV_DIR/pg"
    mkdir -p "$DEV_DIR"
    if is_root; then
        chown postgres "$DEV_DIR"
        if ! runuser -u postgres -- test -w "$DEV_DIR"; then
            # The checkout sits where the postgres user cannot reach (under /root, say):
            # keep the clusters in a folder of their own under /tmp, named after this checkout.
            PG_ROOT="${TMPDIR:-/tmp}/order-analytics-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
            say "the postgres user cannot reach $DEV_DIR; the clusters live in $PG_ROOT"
        fi
    fi
    as_pg_owner mkdir -p "$PG_ROOT"
}

# $1: oltp or olap. Creates the cluster if needed and starts it if stopped.
start_cluster() {
    local data port log
    data="$(cluster_data "$1")" port="$(cluster_port "$1")" log="$(cluster_log "$1")"
    if [ ! -f "$data/PG_VERSION" ]; then
        say "creating the private $1 PostgreSQL cluster in $data (port $port)"
        # Trust authentication: a throwaway development cluster that listens on loopback
        # only (no Unix socket), never a place for real data.
        as_pg_owner "$PG_BIN/initdb" -D "$data" -U "$PG_SUPERUSER" --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if cluster_running "$1" && [ "$(running_port "$1")" != "$port" ]; then
        # Started on another port (an earlier default, or another DEV_PG_PORT): moved to this one.
        say "moving the $1 PostgreSQL cluster to port $port"
        stop_cluster "$1"
    fi
    if ! cluster_running "$1"; then
        say "starting the $1 PostgreSQL cluster on 127.0.0.1:$port (log: $log)"
        # A port someone set inside Linux's ephemeral range (32768-60999) may be held by a
        # client socket of any program for a moment: then PostgreSQL cannot listen ("Address
        # already in use"); wait and retry.
        local attempt
        for attempt in $(seq 30); do
            if as_pg_owner "$PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 \
                -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' $(cluster_tuning "$1")" start >/dev/null; then
                return 0
            fi
            tail -n 5 "$log" | grep -q "Address already in use" || break
            sleep 1
        done
        die "PostgreSQL did not start; see $log"
    fi
    return 1
}

stop_cluster() {
    as_pg_owner "$PG_BIN/pg_ctl" -D "$(cluster_data "$1")" -m fast -w stop >/dev/null
}

ensure_postgres() {
    find_postgres
    PG_STARTED_HERE=""
    for name in oltp olap; do
        if start_cluster "$name"; then PG_STARTED_HERE="$PG_STARTED_HERE $name"; fi
    done
    local wal_level
    wal_level="$("$PG_BIN/psql" -h 127.0.0.1 -p "$(cluster_port oltp)" -U "$PG_SUPERUSER" -d postgres -tAq -c 'SHOW wal_level')"
    if [ "$wal_level" != logical ]; then
        die "the oltp cluster runs with wal_level=$wal_level, started by an older version of these scripts; change data capture needs logical: stop it ($PG_BIN/pg_ctl -D $(cluster_data oltp) stop, as its owner) and run again."
    fi
}

stop_postgres_if_started_here() {
    for name in $PG_STARTED_HERE; do
        if cluster_running "$name"; then
            say "stopping the $name PostgreSQL cluster this command started"
            stop_cluster "$name" || true
        fi
    done
}

# A test run that was killed can leave its capture behind: a subscription in an OLAP test
# database and its slot on the oltp cluster, and PostgreSQL then refuses to drop either test
# database. Clear them (test databases only) before a run.
clear_leftover_test_capture() {
    local psql_olap psql_oltp database name
    psql_olap=("$PG_BIN/psql" -h 127.0.0.1 -p "$(cluster_port olap)" -U "$PG_SUPERUSER" -tAq -v ON_ERROR_STOP=1)
    psql_oltp=("$PG_BIN/psql" -h 127.0.0.1 -p "$(cluster_port oltp)" -U "$PG_SUPERUSER" -tAq -v ON_ERROR_STOP=1)
    "${psql_olap[@]}" -d postgres -F ' ' -c "SELECT d.datname, s.subname FROM pg_subscription s
        JOIN pg_database d ON d.oid = s.subdbid WHERE d.datname LIKE 'test\_%'" \
        | while read -r database name; do
            say "dropping the subscription $name left in $database by an earlier test run"
            "${psql_olap[@]}" -d "$database" -v name="$name" <<'SQL'
ALTER SUBSCRIPTION :"name" DISABLE;
ALTER SUBSCRIPTION :"name" SET (slot_name = NONE);
DROP SUBSCRIPTION :"name";
SQL
        done
    "${psql_oltp[@]}" -d postgres -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
        WHERE slot_name LIKE 'dashboard\_test\_%' AND NOT active" >/dev/null
}

# $1: oltp or olap, $2: database name. Idempotent.
ensure_database() {
    local exists port
    port="$(cluster_port "$1")"
    exists="$(echo "SELECT 1 FROM pg_database WHERE datname = :'name'" \
        | "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" -d postgres -tAq -v name="$2")"
    if [ "$exists" != "1" ]; then
        say "creating database $2 on the $1 cluster"
        "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$PG_SUPERUSER" "$2"
    fi
}

# The local settings serve.sh keeps in .dev/env, under what the caller's environment already
# says (so `SHOP_SCHEMA=oscar scripts/manage.sh ...` means it).
load_dev_env() {
    local name value
    while IFS='=' read -r name value; do
        if [ -n "$name" ] && [ -z "${!name+set}" ]; then export "$name=$value"; fi
    done <"$DEV_DIR/env"
}

# $1: oltp or olap, $2: database name.
pg_url() { echo "postgres://$PG_SUPERUSER@127.0.0.1:$(cluster_port "$1")/$2"; }

# A random key kept in .dev/ so that sessions survive restarts of the dev server.
ensure_secret_key() {
    local file="$DEV_DIR/secret_key"
    if [ ! -s "$file" ]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(50))' >"$file")
    fi
    cat "$file"
}
