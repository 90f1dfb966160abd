#!/usr/bin/env bash
# Install everything, start two private PostgreSQL clusters, load sample orders and serve the
# dashboard on http://127.0.0.1:8000/. Running it again reuses what exists: the virtualenv,
# the clusters and their data, the demo login (its password too, so you stay logged in) and
# the sample orders (loaded once).
#
# The OLAP side here is a second PostgreSQL database standing in for RisingWave; set
# OLAP_DATABASE_URL to a RisingWave URL (postgres://root@HOST:4566/dev) to use the real one.
#
# Environment: SAMPLE_ORDERS (default 40000, about 120k order lines), PORT (default 8000),
# DEV_PG_PORT (default 25432: the OLTP cluster; the OLAP one takes the next port).
source "$(dirname "${BASH_SOURCE[0]}")/lib/devenv.sh"

ensure_venv requirements.txt
ensure_js_assets
# SIGTERM (a process manager, `docker stop`, `kill PID`) or SIGINT (Ctrl-C, `kill -INT PID`)
# stops what this script started, within seconds: the server, the capture worker, the
# sample loader, then the clusters. Long steps run in the background and are waited for, so
# a signal is handled at once rather than when the step ends.
CHILD_PID=""
WORKER_PID=""
stop_child() {
    local pid="$1"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
stop_everything() {
    trap '' INT TERM  # once is enough; a second Ctrl-C does not cut the clean-up short
    stop_child "$CHILD_PID"
    stop_child "$WORKER_PID"
    stop_postgres_if_started_here
}
trap stop_everything EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# run_waited COMMAND...: run a long step in the background and wait for it (its status).
run_waited() {
    "$@" &
    CHILD_PID=$!
    local status=0
    wait "$CHILD_PID" || status=$?
    CHILD_PID=""
    return "$status"
}

ensure_postgres
ensure_database oltp analytics
ensure_database olap analytics_olap

mkdir -p "$DEV_DIR"
DEMO_PASSWORD_FILE="$DEV_DIR/demo_password"
[ -s "$DEMO_PASSWORD_FILE" ] || (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(12))' >"$DEMO_PASSWORD_FILE")

# Your shop's settings (README, "Connect your shop") are kept from the last run unless given.
for name in SHOP_SCHEMA SHOP_DATABASE_URL CDC_SOURCE_URL SHOP_CANCELLED_STATUSES; do
    if [ -z "${!name:-}" ] && [ -f "$DEV_DIR/env" ]; then
        kept="$(sed -n "s/^$name=//p" "$DEV_DIR/env")"
        if [ -n "$kept" ]; then export "$name=$kept"; fi
    fi
done

# The local defaults, also kept in .dev/env so you can `set -a; . .dev/env; set +a` and run
# manage.py or scripts/gen_data.py yourself.
cat >"$DEV_DIR/env" <<ENV
DEBUG=1
SECRET_KEY=$(ensure_secret_key)
ALLOWED_HOSTS=127.0.0.1,localhost
DATABASE_URL=$(pg_url oltp analytics)
OLAP_DATABASE_URL=${OLAP_DATABASE_URL:-$(pg_url olap analytics_olap)}
CATALOG_DATABASE_URL=${CATALOG_DATABASE_URL:-sqlite:///$DEV_DIR/catalog.db}
CHARTJS_URL=/static/vendor/chartjs/chart.umd.min.js
ORDERS_SOURCE=${ORDERS_SOURCE:-cdc}
SHOP_SCHEMA=${SHOP_SCHEMA:-sample}
ENV
# Your own shop instead of the sample one (README, "Connect your shop"): its database and schema.
for name in SHOP_DATABASE_URL CDC_SOURCE_URL SHOP_CANCELLED_STATUSES; do
    if [ -n "${!name:-}" ]; then echo "$name=${!name}" >>"$DEV_DIR/env"; fi
done
set -a
# shellcheck disable=SC1091
source "$DEV_DIR/env"
set +a

cd "$ROOT"
python manage.py migrate --noinput -v0
python manage.py migrate --database catalog --noinput -v0
python manage.py createcachetable
python manage.py setup_olap
DEMO_PASSWORD="$(cat "$DEMO_PASSWORD_FILE")" python manage.py ensure_user demo

# With ORDERS_SOURCE=cdc (the default here) orders are written into the oltp cluster, the
# shop's database, and logical replication carries them to the olap one; the worker folds
# them into the rollups. It stops with this script, before the clusters do.
if [ "$ORDERS_SOURCE" = cdc ]; then
    python manage.py cdc_worker &
    WORKER_PID=$!
fi
if [ "$SHOP_SCHEMA" = sample ]; then
    run_waited python scripts/gen_data.py --orders "${SAMPLE_ORDERS:-40000}" --seed 1 --skip-if-loaded
fi

cat <<MSG

  Dashboard:  http://127.0.0.1:${PORT:-8000}/
  Log in as:  demo / $(cat "$DEMO_PASSWORD_FILE")
  Admin:      http://127.0.0.1:${PORT:-8000}/admin/ (an admin login: scripts/manage.sh createsuperuser)
  OLAP side:  ${OLAP_DATABASE_URL} (PostgreSQL standing in for RisingWave; see README.md)
  Orders:     ${ORDERS_SOURCE}, shop schema ${SHOP_SCHEMA}; sample ones live: scripts/manage.sh gen_data --follow --rate 20

MSG
# gunicorn, as in production, with a fixed pool of threads: each keeps one connection per
# database, so a crowd of clients opening connections of their own cannot exhaust
# PostgreSQL's (runserver starts a thread per connection, and each would keep its own).
# --reload restarts the workers when the code changes.
# In the background and waited for: a signal to this script reaches the trap above at once.
run_waited gunicorn analytics_site.wsgi --bind "127.0.0.1:${PORT:-8000}" --worker-class gthread \
    --workers 2 --threads 8 --reload --graceful-timeout 5 --log-level warning
