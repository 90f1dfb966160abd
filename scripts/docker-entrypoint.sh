#!/bin/sh
# Bring the OLTP database up to date (and, where this container may, the OLAP schema), then
# run the container's command. Every step is idempotent, so every start may do them.
set -e
if [ "${PREPARE_DATABASES:-1}" = "1" ]; then
    python manage.py migrate --noinput
    python manage.py migrate --database catalog --noinput
    python manage.py createcachetable
fi
if [ "${SETUP_OLAP:-1}" = "1" ]; then
    python manage.py setup_olap
fi
exec "$@"
