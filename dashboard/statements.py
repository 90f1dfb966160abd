"""Statements composed with psycopg2's sql module, rendered to text once per process.

psycopg2 renders a Composed statement again on every execute, quoting each identifier
through the connection. For the statements asked on every request (the session's read, the
figures, the trend) that took a sizeable part of the time the servers took to answer them.
Their text depends only on the models' tables and columns and on a shape the caller names
(how many placeholders of each kind), never on a value: values stay bound parameters.

A caller whose server is PostgreSQL can also have its statement prepared (execute()): each
connection PREPAREs it the first time it sends it and from then on only EXECUTEs it with the
values, and plans it once, for any values (plan_cache_mode = force_generic_plan on the
connections that prepare), instead of on every request. Planning was most of what the server
spent on the figures' statement: 0.2 of an unfiltered answer's 0.3 ms, about 0.9 ms of a
90-day range's (docs/benchmarks.md). Nothing is prepared

- where the caller says so: RisingWave has no SQL-level PREPARE (risingwavelabs/risingwave
  issue 21777), and a statement whose best plan depends on its values is better planned
  for them each time;
- on a connection closed after each request (CONN_MAX_AGE 0): preparing would be one round
  trip more per request, not one fewer;
- through a pooler (PgBouncer): in transaction pooling each statement may run on another of
  its server connections, where the statement was never prepared (own_server_process()).

Imports Django and psycopg2 only, nothing of the project: any layer may use it.
"""

import hashlib
import select
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.db import DatabaseError
from psycopg2 import errors, sql
from psycopg2.extensions import AsIs

# Texts by key: bounded by the keys the callers use (a fixed set of names and shapes).
_TEXTS: dict[Hashable, str] = {}


def rendered(key: Hashable, compose: Callable[[], sql.Composable], context: Any) -> str:
    """The text of compose() under `key`, rendered with `context` (a psycopg2 connection or
    cursor, which quotes the identifiers) the first time the key is asked."""
    text = _TEXTS.get(key)
    if text is None:
        # Two threads may both render it the first time: the same text, stored twice.
        text = _TEXTS[key] = compose().as_string(context)
    return text


def own_server_process(connection: Any) -> bool:
    """Whether the psycopg2 `connection` talks to a server process of its own: the process
    that answers is the one it started with. Not so through a pooler, which gives its
    clients a made-up process id (PgBouncer) and may hand each statement to any of its
    server connections. One round trip: callers ask once per connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (server_pid,) = cursor.fetchone()
    return bool(server_pid == connection.info.backend_pid)


def read_what_arrived(connection: Any) -> None:
    """Read everything that reached the psycopg2 `connection`'s socket, without waiting: its
    notices (into connection.notifies), or the end of a connection the server closed, which
    raises. One poll() is not enough for that: it reads the server's farewell message
    without a word, and the end of the stream after it only on the next."""
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
    connection.poll()
    while poller.poll(0):
        connection.poll()


# Django's connections belong to one thread each: per thread, for each database alias, the
# psycopg2 connection and the names of the statements prepared on it (None: it prepares none).
_local = threading.local()


def execute(
    cursor: Any, key: Hashable, compose: Callable[[], sql.Composable], params: Sequence[Any], *, prepare: bool
) -> None:
    """Send the statement compose() under `key` (rendered once per process) with `params` on
    Django's `cursor`; with `prepare` (the server is PostgreSQL), as a prepared statement of
    the connection where it may be one (see the module's docstring)."""
    prepared = _prepared_on(cursor.db) if prepare else None
    if prepared is None:
        cursor.execute(rendered(key, compose, cursor.cursor), params)
        return
    name, prepare_text, execute_text = _as_prepared(key, compose, cursor.cursor, len(params))
    if name not in prepared:
        cursor.execute(prepare_text)
        prepared.add(name)
    try:
        cursor.execute(execute_text, params or None)
    except DatabaseError as error:
        if not isinstance(error.__cause__, errors.InvalidSqlStatementName):
            raise
        # Deallocated by something other than this module (DISCARD ALL, DEALLOCATE ALL).
        # Outside a transaction nothing was aborted: prepared again and sent again. Inside
        # one the error stands, and the next use prepares it again.
        prepared.discard(name)
        if cursor.db.in_atomic_block or not cursor.db.get_autocommit():
            raise
        cursor.execute(prepare_text)
        prepared.add(name)
        cursor.execute(execute_text, params or None)


_AS_PREPARED: dict[Hashable, tuple[str, str, str]] = {}


def _as_prepared(
    key: Hashable, compose: Callable[[], sql.Composable], context: Any, values: int
) -> tuple[str, str, str]:
    """(its name, its PREPARE, its EXECUTE with `values` placeholders) for the statement under
    `key`, rendered the first time the key is asked, as rendered() does."""
    texts = _AS_PREPARED.get(key)
    if texts is None:
        text = rendered(key, compose, context)
        # Named after its text: the same in every process, and never two texts under one name.
        name = sql.Identifier("dashboard_" + hashlib.blake2b(text.encode(), digest_size=10).hexdigest())
        # The placeholders as PREPARE's $1, $2, ... in their order: psycopg2 puts them where
        # it would put the values, so the text is parsed as it always is.
        numbered = context.mogrify(text, [AsIs(f"${number}") for number in range(1, values + 1)]).decode()
        placeholders = sql.SQL(", ").join([sql.Placeholder()] * values)
        texts = _AS_PREPARED[key] = (
            name.as_string(context),
            sql.SQL("PREPARE {} AS {}").format(name, sql.SQL(numbered)).as_string(context),
            sql.SQL("EXECUTE {}({})" if values else "EXECUTE {}")
            .format(name, placeholders)
            .as_string(context),
        )
    return texts


def _prepared_on(wrapper: Any) -> set[str] | None:
    """The names prepared on Django connection `wrapper`'s current connection (a reconnect
    starts afresh: the server forgot them with the old one); None where it prepares none."""
    if wrapper.settings_dict.get("CONN_MAX_AGE") == 0:
        return None
    wrapper.ensure_connection()
    connection = wrapper.connection
    by_alias = getattr(_local, "prepared", None)
    if by_alias is None:
        by_alias = _local.prepared = {}
    known = by_alias.get(wrapper.alias)
    if known is None or known[0] is not connection:
        names: set[str] | None = None
        # On the driver's own connection, its failures made Django's as the cursor's are.
        with wrapper.wrap_database_errors:
            if own_server_process(connection):
                names = set()
                # Planned once, at the first EXECUTE, for every value: left to itself the
                # server plans each of a statement's first five executions for its values,
                # and a site has a connection per thread and a statement per shape of range,
                # so most would be among some connection's first five. Only prepared
                # statements follow this setting; the others are planned as they come.
                with connection.cursor() as cursor:
                    cursor.execute("SET plan_cache_mode = force_generic_plan")
        known = by_alias[wrapper.alias] = (connection, names)
    return known[1]
