"""Sessions kept by the connection that read them, until the users' database says that a
session or a user changed: a request whose session its connection has read before sends no
statement for it.

Every UPDATE, DELETE or TRUNCATE of the session table or the users table makes the database
NOTIFY `CHANNEL` (statement triggers, migration 0011; a new row needs no notice, since no
connection can have kept a key before it existed). Each connection the session engine reads
through LISTENs on that channel before it keeps anything. Before a kept row is used, the
notices that reached the connection are read (psycopg2's `poll()`, which never waits: about
a microsecond), and any notice forgets every row the connection kept. A notice that arrives
while a row is being read stays in the connection's list, so the next lookup forgets that
row too.

So a logout, a changed password, a deactivated or deleted user (on another worker, by the
admin, or by SQL outside the site) count from the moment the notice of its commit reaches
this connection: on the benchmark's machine 9 µs after the commit at the median, 16 µs at
p95, 4 ms at worst in 500 tries on a busy moment. A request in that window is answered as
one that read the session just before the commit would have been. Nothing is kept or used:

- inside a transaction (atomic blocks, and every TestCase): a notice comes only at commit,
  and a transaction sees its own changes before any notice could say so;
- on a connection that is not PostgreSQL or not in autocommit, that is closed after each
  request (CONN_MAX_AGE 0), or that reaches its server through a pooler (PgBouncer): its
  notices could go to another client;
- on a connection the server ended: the rows go with the connection they were read on (a
  reconnect after an outage starts with nothing), since a connection that was down heard
  nothing.

Written here rather than taken from Django: its `cached_db` engine with a cache per process
(local memory) would keep a logged-out session alive on every other worker until it expired
from that cache, and with a shared cache (memcached, Redis) every request still makes a round
trip, to another server to run; signed-cookie sessions cannot be revoked at all.

Imports Django, psycopg2 and dashboard.statements only.
"""

import threading
from datetime import datetime
from typing import Any

import psycopg2
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg2 import sql

from dashboard.statements import own_server_process, read_what_arrived

# The channel migration 0011's triggers notify. Changing it needs a migration.
CHANNEL = "dashboard_sessions_changed"

# At most this many rows kept per connection; when full, it starts over. Each row is a
# session and its user's columns: a few hundred bytes.
MAX_KEPT = 10_000

# A row as the session engine's statement reads it: the session's data, its expiry, its
# user's id, then the user's columns.
Row = tuple[Any, ...]


class _Kept:
    """The rows one connection read, by session key; `rows` None: this connection keeps
    nothing (it does not talk to a server process of its own)."""

    def __init__(self, connection: Any, rows: dict[str, Row] | None) -> None:
        self.connection = connection  # the psycopg2 connection they were read on
        self.rows = rows


# Django's connections belong to one thread each, and so do their kept rows.
_local = threading.local()


def kept_rows(wrapper: BaseDatabaseWrapper) -> dict[str, Row] | None:
    """The rows `wrapper`'s connection kept, after reading the notices that reached it (any
    notice: none); None when nothing may be kept or used now (see the module's docstring).
    A connection starts listening the first time it is asked: only the processes that read
    sessions listen (not the capture worker, say, whose unread notices would pile up)."""
    connection = wrapper.connection
    if (
        connection is None
        or wrapper.vendor != "postgresql"
        or wrapper.settings_dict.get("CONN_MAX_AGE") == 0  # closed after each request
        or wrapper.in_atomic_block
        or not wrapper.get_autocommit()  # a LISTEN in a transaction would start at its commit
    ):
        return None
    kept: _Kept | None = getattr(_local, "kept", None)
    try:
        if kept is None or kept.connection is not connection:
            # New (or a reconnect: the old one's rows go, since it heard nothing while down).
            _local.kept = kept = _Kept(connection, _listening(connection))
            return kept.rows
        if kept.rows is None:
            return None
        read_what_arrived(connection)
    except psycopg2.Error:
        # Ended by the server (it heard nothing since), or unable to listen (a standby):
        # nothing kept on this connection, and no second try on it.
        _local.kept = _Kept(connection, None)
        return None
    if connection.notifies:
        ours = [notice for notice in connection.notifies if notice.channel == CHANNEL]
        if ours:
            kept.rows.clear()
            for notice in ours:
                connection.notifies.remove(notice)
    if len(kept.rows) >= MAX_KEPT:
        kept.rows.clear()
    return kept.rows


def _listening(connection: Any) -> dict[str, Row] | None:
    """LISTEN on `connection` and an empty dict to keep rows in; None, without listening,
    when the server process answering is not the one the connection started with: a pooler
    in between (PgBouncer gives its clients a made-up process id), which in transaction
    pooling hands each statement to any server connection, so this one's notices would go
    to whichever client holds that server connection then."""
    if not own_server_process(connection):
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
    return {}


def live(row: Row, now: datetime) -> bool:
    """Whether a kept row's session has not expired by `now` (its expiry is the row's second
    column, as the statement that read it filtered on)."""
    return bool(row[1] > now)
