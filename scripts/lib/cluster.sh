#!/usr/bin/env bash
# Stop, kill or start one of the private clusters: scripts/lib/cluster.sh oltp|olap|plain stop|kill|start
# (the fault tests take a database down under a running site, loader or capture with it; the
# benchmark starts "plain", a cluster without logical WAL, for its baseline).
# kill is `pg_ctl stop -m immediate`: no shutdown checkpoint, as in a crash.
source "$(dirname "${BASH_SOURCE[0]}")/devenv.sh"
find_postgres
name="${1:-}"
case "$name" in oltp | olap | plain) ;; *) die "usage: $0 oltp|olap|plain stop|kill|start" ;; esac
case "${2:-}" in
    stop) stop_cluster "$name" ;;
    kill) as_pg_owner "$PG_BIN/pg_ctl" -D "$(cluster_data "$name")" -m immediate -w stop >/dev/null ;;
    start) start_cluster "$name" || true ;;
    port) cluster_port "$name" ;;
    *) die "usage: $0 oltp|olap|plain stop|kill|start|port" ;;
esac
