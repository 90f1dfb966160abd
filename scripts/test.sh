#!/usr/bin/env bash
# Install everything the tests need and run the whole test suite: the static checks (ruff,
# the import-linter contracts, mypy), then pytest against two private PostgreSQL clusters,
# the embedded Dolt catalog, Debian's Chromium and PgBouncer (a pooler in front of the users'
# database, for the sessions' tests). Extra arguments go to pytest, e.g.
#   scripts/test.sh -m "not browser and not slow"     # the fast set
#   scripts/test.sh tests/orders                       # one package
source "$(dirname "${BASH_SOURCE[0]}")/lib/devenv.sh"

ensure_venv requirements-dev.txt
ensure_js_assets
command -v chromium >/dev/null || apt_install chromium
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || apt_install pgbouncer
ensure_postgres
trap stop_postgres_if_started_here EXIT
clear_leftover_test_capture

# The test runner creates and drops its own test_* databases on this cluster.
export DEBUG=0
export SECRET_KEY="tests-only-$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')"
export DATABASE_URL="$(pg_url oltp analytics)"
export OLAP_DATABASE_URL="$(pg_url olap analytics_olap)"
# The item catalog: an embedded doltlite file (the test database is test_catalog.db beside it).
export CATALOG_DATABASE_URL="sqlite:///$DEV_DIR/catalog.db"
# The fault tests stop, kill and start the clusters with this.
export CLUSTER_CONTROL="$ROOT/scripts/lib/cluster.sh"
export CHARTJS_URL=/static/vendor/chartjs/chart.umd.min.js
# Tests speak plain HTTP; the HTTPS settings are checked on their own (manage.py check --deploy).
export SECURE_HTTPS=0
# The tests choose where orders come from and what the shop is themselves: a shell that
# exported serve.sh's settings (.dev/env: ORDERS_SOURCE=cdc among them) must not choose for
# them (with it, every capture test waited for a subscription to the development database).
unset ORDERS_SOURCE SHOP_SCHEMA SHOP_DATABASE_URL CDC_SOURCE_URL SHOP_CANCELLED_STATUSES CDC_DECODING_MEMORY_MB

cd "$ROOT"
say "static checks: ruff, import-linter contracts, mypy"
ruff check --quiet .
ruff format --check --quiet .
lint-imports --no-logo
mypy
python -m pytest "$@"
