#!/bin/sh
# Bring both databases up to date, then run the container's command. Both steps are
# idempotent, so every container start (and `docker compose run`) may do them.
set -e
if [ "${PREPARE_DATABASES:-1}" = "1" ]; then
    python manage.py migrate --noinput
    python manage.py createcachetable
    python manage.py setup_olap
fi
exec "$@"
