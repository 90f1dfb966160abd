"""Taking the private PostgreSQL clusters down and up under running tests, for real, with
scripts/lib/cluster.sh (scripts/test.sh names it in CLUSTER_CONTROL)."""

import os
import shutil
import subprocess

from django.db import connections


def cluster(name, action):
    """name: "oltp" or "olap"; action: "stop" (fast shutdown), "kill" (pg_ctl stop -m
    immediate, as in a crash) or "start"."""
    control = os.environ.get("CLUSTER_CONTROL")
    assert control, "run the tests with scripts/test.sh: it provides CLUSTER_CONTROL"
    if action == "start":
        # The clusters' ports lie in Linux's ephemeral range, and a client socket takes the
        # next free port there for each connection to the same server: one of this process's
        # connections to the other cluster may hold the port the server is to listen on
        # (seen once in a whole run of the fault tests). Closed, they reopen when next used.
        connections.close_all()
    subprocess.run(
        [shutil.which("bash"), control, name, action], check=True, timeout=120, capture_output=True
    )
    if action != "start":
        # This process's connections to it are gone: let Django open new ones when asked.
        alias = "default" if name == "oltp" else "olap"
        connections[alias].close()
