#!/usr/bin/env bash
# Run scripts/bench.py (docs/benchmarks.md) with what it needs: the development requirements
# (django-oscar drives its shop stage; installed as scripts/test.sh installs them), the
# private PostgreSQL clusters (started for the run and stopped after it if they were not
# running) and the local settings serve.sh keeps in .dev/env. Arguments go to bench.py:
#   scripts/bench.sh                  # every stage at 10M lines, about ten minutes
#   scripts/bench.sh --users 0 --no-capture --no-shop --raw-requests 1 --requests 100
#   scripts/bench.sh --help
source "$(dirname "${BASH_SOURCE[0]}")/lib/devenv.sh"

if [ ! -f "$DEV_DIR/env" ]; then
    die "run scripts/serve.sh once first: it writes the local settings to .dev/env, which the benchmark's own databases are made beside."
fi
ensure_venv requirements-dev.txt
ensure_postgres
trap stop_postgres_if_started_here EXIT
load_dev_env
cd "$ROOT"
"$VENV/bin/python" scripts/bench.py "$@"
