#!/usr/bin/env bash
# Run any manage.py command with the project's virtualenv and the local settings that
# scripts/serve.sh keeps in .dev/env, starting the private PostgreSQL clusters for it if they
# are not running (and stopping them again afterwards). For example:
#   scripts/manage.sh createsuperuser          # a login for /admin/
#   scripts/manage.sh gen_data --follow --rate 20
source "$(dirname "${BASH_SOURCE[0]}")/lib/devenv.sh"

if [ ! -x "$VENV/bin/python" ] || [ ! -f "$DEV_DIR/env" ]; then
    die "run scripts/serve.sh once first: it installs .venv/ and writes the local settings to .dev/env."
fi
ensure_postgres
trap stop_postgres_if_started_here EXIT
load_dev_env
cd "$ROOT"
"$VENV/bin/python" manage.py "$@"
