"""PgBouncer in transaction pooling in front of the test databases' cluster, as production
sometimes puts it between the site and PostgreSQL: for tests of what a pooler changes."""

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from tests.support.http import free_port, listening


@contextmanager
def pgbouncer(alias="default"):
    """PgBouncer (pool_mode = transaction) for the server of the database `alias`; yields the
    port it listens on, and stops it and removes its files afterwards."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    command = [binary]
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root (like PostgreSQL, which scripts/lib/devenv.sh
        # runs as "postgres"): the same user, its files readable to it. setpriv execs it,
        # so the process started is PgBouncer itself and stopping it stops PgBouncer.
        shutil.chown(folder, "postgres")
        command = ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", binary]
    database = settings.DATABASES[alias]
    port = free_port()
    users = folder / "userlist.txt"
    users.write_text(f'"{database["USER"]}" "{database["PASSWORD"] or ""}"\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={database['HOST']} port={database['PORT']}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {users}\npool_mode = transaction\n"
        f"logfile = {folder / 'pgbouncer.log'}\npidfile = {folder / 'pgbouncer.pid'}\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    server = subprocess.Popen(
        [*command, str(config)], cwd="/", stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with listening(server, port, "pgbouncer", folder / "pgbouncer.log"):
            yield port
    finally:
        shutil.rmtree(folder)
