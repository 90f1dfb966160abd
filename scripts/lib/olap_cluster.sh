#!/usr/bin/env bash
# Stop or start the private OLAP cluster: scripts/lib/olap_cluster.sh stop|start
# (the outage tests use it to take the OLAP side down under a running site).
source "$(dirname "${BASH_SOURCE[0]}")/devenv.sh"
find_postgres
case "${1:-}" in
    stop) stop_cluster olap ;;
    start) start_cluster olap || true ;;
    *) die "usage: $0 stop|start" ;;
esac
