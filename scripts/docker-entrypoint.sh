#!/bin/sh
# Wait for the databases this container needs to answer SQL (WAIT_FOR_SQL), bring the OLTP
# database up to date (and, where this container may, the OLAP schema), then run the
# container's command. Every step is idempotent, so every start may do them.
set -e

# SIGTERM (docker stop) or SIGINT stops the container at once, whatever step runs: the shell
# is PID 1 there, which the kernel sends no signal it has no handler for, and a step's
# process would outlive it otherwise. Each step runs in the background and is waited for, so
# the trap runs as soon as the signal comes; the command itself is exec'd and gets the
# signals directly (gunicorn stops gracefully on either).
CHILD=""
stop() {
    trap '' INT TERM
    if [ -n "$CHILD" ]; then
        kill -TERM "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    rm -f "${PROBE_OUTPUT:-}"
    exit "$1"
}
trap 'stop 143' TERM
trap 'stop 130' INT
# run COMMAND...: one step, in the background, waited for; its exit status.
run() {
    "$@" &
    CHILD=$!
    status=0
    wait "$CHILD" || status=$?
    CHILD=""
    return "$status"
}
PROBE_OUTPUT="$(mktemp)"

# One try: open the Django database alias $1 and run SELECT 1. Prints where it connects and,
# on failure, why (one line, never a password), and exits non-zero then.
SQL_PROBE='
import sys

alias = sys.argv[1]
where = alias
try:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    host, port, name = (settings.DATABASES[alias].get(key) for key in ("HOST", "PORT", "NAME"))
    where = f"{alias} ({host}:{port}/{name})"
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
except Exception as error:
    reason = (str(error).strip().splitlines() or [""])[0]
    sys.exit(f"{where}: {type(error).__name__}: {reason}")
print(where)
'

# wait_for_sql ALIAS...: until each of these databases answers SELECT 1, trying at most
# WAIT_ATTEMPTS times (default 60), WAIT_SECONDS apart (default 2), each try cut off after
# 20 s; says what it waits for on every failed try, and stops the container, saying why, when
# a database still does not answer after the last one.
wait_for_sql() {
    attempts="${WAIT_ATTEMPTS:-60}"
    for alias in "$@"; do
        attempt=1
        until run env DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-analytics_site.settings}" \
            timeout 20 python -c "$SQL_PROBE" "$alias" >"$PROBE_OUTPUT" 2>&1; do
            answer=$(tail -n 1 "$PROBE_OUTPUT")
            [ -n "$answer" ] || answer="$alias: no answer within 20 s"
            if [ "$attempt" -ge "$attempts" ]; then
                echo "gave up after $attempts attempts: the database does not answer SQL: $answer" >&2
                rm -f "$PROBE_OUTPUT"
                exit 1
            fi
            echo "waiting for the database to answer SQL (attempt $attempt of $attempts): $answer"
            attempt=$((attempt + 1))
            run sleep "${WAIT_SECONDS:-2}"
        done
        echo "the database $(tail -n 1 "$PROBE_OUTPUT") answers SQL"
    done
}

if [ -n "${WAIT_FOR_SQL:-}" ]; then
    # Word splitting on purpose: a list of aliases, e.g. "default olap".
    # shellcheck disable=SC2086
    wait_for_sql $WAIT_FOR_SQL
fi
rm -f "$PROBE_OUTPUT"
if [ "${PREPARE_DATABASES:-1}" = "1" ]; then
    run python manage.py migrate --noinput
    run python manage.py migrate --database catalog --noinput
    run python manage.py createcachetable
fi
if [ "${SETUP_OLAP:-1}" = "1" ]; then
    run python manage.py setup_olap
fi
trap - INT TERM
exec "$@"
