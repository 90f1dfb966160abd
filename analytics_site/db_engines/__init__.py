"""Database engines: Django's PostgreSQL engine and django_risingwave, each with a health check
that asks the server only when its connection may be dead.

Django checks a kept connection (CONN_HEALTH_CHECKS) the first time a request uses it, with
`SELECT 1`: a round trip per database per request (80-100 µs each in process here, more
over HTTP; docs/benchmarks.md). A server that restarts, crashes, is stopped or ends an idle
session closes its end of the connection, and the kernel then has the client's socket
readable (the end of the stream, after the server's last error message if it sent one); an
idle, healthy connection has nothing to read, since the driver reads every reply in full.
So a connection that is open, not in a failed transaction and has nothing to read is taken
as usable without asking; any other gets Django's own `SELECT 1`. A path that silently drops
packets (no end ever arrives) is not noticed either way: `SELECT 1` would wait for the
network's timeouts just as the request's own query does.

May import Django and the database drivers only.
"""

import select
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg2 import extensions

# Idle, or inside a transaction that has not failed: ready for the next statement. A failed
# transaction (SELECT 1 would fail there too), a statement under way or a broken connection
# is left to the real check.
_READY = (extensions.TRANSACTION_STATUS_IDLE, extensions.TRANSACTION_STATUS_INTRANS)


def ready_by_its_own_account(connection: Any) -> bool:
    """Whether the psycopg2 `connection` is, by what the client alone knows, open and ready for
    a statement: not closed, idle or in a transaction that has not failed, and nothing on its
    socket to read (a server that ended it would have left the end of the stream there)."""
    if connection.closed or connection.info.transaction_status not in _READY:
        return False
    if not hasattr(select, "poll"):  # Windows: Django's own check, a round trip each time
        return False
    poller = select.poll()  # unlike select.select, any descriptor number
    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


class AsksOnlyWhenInDoubt(BaseDatabaseWrapper):
    """Put before a psycopg2 engine's DatabaseWrapper: its is_usable() (`SELECT 1`) runs only
    when the connection cannot vouch for itself."""

    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        return ready_by_its_own_account(self.connection) or super().is_usable()
