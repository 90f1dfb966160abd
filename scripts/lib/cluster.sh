#!/usr/bin/env bash
# Stop, kill or start one of the private clusters: scripts/lib/cluster.sh oltp|olap stop|kill|start
# (the fault tests take a database down under a running site, loader or capture with it).
# kill is `pg_ctl stop -m immediate`: no shutdown checkpoint, as in a crash.
source "$(dirname "${BASH_SOURCE[0]}")/devenv.sh"
find_postgres
name="${1:-}"
case "$name" in oltp | olap) ;; *) die "usage: $0 oltp|olap stop|kill|start" ;; esac
case "${2:-}" in
    stop) stop_cluster "$name" ;;
    kill) as_pg_owner "$PG_BIN/pg_ctl" -D "$(cluster_data "$name")" -m immediate -w stop >/dev/null ;;
    start) start_cluster "$name" || true ;;
    *) die "usage: $0 oltp|olap stop|kill|start" ;;
esac
