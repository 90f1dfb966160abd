"""The delta log of a load that replaces everything, written beside the load and swapped in.

A first load (or the reload of the only seed) empties the (state, day, item) delta log and
writes its own rows into it: 2.65M rows for 10M sample lines, about 2 s of one server
process, which came after the lines' COPY and the key's build while the machine's other core
had little to do. Here a second connection writes them instead, into a new table made like
the log (NEXT), while the load's own connection builds the key; then the load's transaction
drops the old log and renames the new table into its place. The load stays one transaction:
until it commits, readers see the old log, and a load that fails or is stopped leaves the
old log as it was (NEXT is dropped; one left by a killed load is dropped by the next swap
before it starts).

Taken only when the swap changes nothing else about the log (SWAPPABLE_SQL): the load's role
owns it, grants on it go to no other role, it has no row security, triggers, dependents (a
view would block the drop) or storage parameters (an operator's autovacuum settings, say),
and its only index is the one setup_olap makes. Otherwise the load writes the log in its own
transaction as before; so does a load inside an enclosing transaction, whose rollback could
not take back what the second connection committed.

What a swap costs readers: the drop comes last, so from there to the commit (the commit's
flush of the load's files: 0.6 to 0.9 s at 10M lines) reading the log waits; the other
rollups stay readable throughout.

Used by dashboard/orders/loading.py; imports binary_copy, loader_rollups, schema and session.
"""

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from django.db import Error, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from dashboard.orders.binary_copy import copy_from, worked_ahead
from dashboard.orders.loader_rollups import copy_data, copy_statement
from dashboard.orders.schema import STATE_ITEM_DAY, delta_log_index

LOG = STATE_ITEM_DAY.name
NEXT = f"{LOG}_next"
INDEX = f"{LOG}_range"
NEXT_INDEX = f"{NEXT}_range"

# Constant names from schema.py only; no input reaches these statements.
SWAPPABLE_SQL = f"""\
SELECT c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
    AND NOT EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner)
    AND NOT c.relrowsecurity
    AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid)
    AND NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid AND d.deptype = 'n'
    )
    AND ARRAY(SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = c.oid)
        = ARRAY['{INDEX}']
    AND c.reloptions IS NULL
FROM pg_class c
WHERE c.oid = '{LOG}'::regclass"""  # noqa: S608
DROP_NEXT_SQL = f"DROP TABLE IF EXISTS {NEXT}"
# Out of autovacuum's reach until it is the log: committed by the second connection, NEXT
# (2.65M new rows at 10M lines) is at once a table autovacuum wants, and a worker that took it
# held the swap's RENAME until the deadlock check cancelled the worker, a second later
# (deadlock_timeout; "canceling autovacuum task" in the server's log, seen in a 10M-line load).
CREATE_NEXT_SQL = (
    f"CREATE TABLE {NEXT} (LIKE {LOG} INCLUDING ALL EXCLUDING INDEXES) WITH (autovacuum_enabled = false)"
)
# The index after the rows (building it over 2.65M rows takes about as long as keeping it
# during the COPY), then the statistics, which a new table lacks: how many of a state's rows
# a date range holds decides its plan (dashboard/orders/selectors.py).
CREATE_NEXT_INDEX_SQL = delta_log_index(STATE_ITEM_DAY, NEXT)
ANALYZE_NEXT_SQL = f"ANALYZE {NEXT}"
SWAP_SQL = (
    f"DROP TABLE {LOG}",
    f"ALTER TABLE {NEXT} RENAME TO {LOG}",
    f"ALTER INDEX {NEXT_INDEX} RENAME TO {INDEX}",
    # The log as setup_olap makes it, autovacuumed like any table once the load commits.
    f"ALTER TABLE {LOG} RESET (autovacuum_enabled)",
)


def swappable(cursor: CursorWrapper) -> bool:
    """Whether the delta log may be swapped for a new table (SWAPPABLE_SQL)."""
    cursor.execute(SWAPPABLE_SQL)
    return bool(cursor.fetchone()[0])


class DeltaLogBeside:
    """The delta log's rows written into NEXT on a connection of its own, in a thread of its
    own (Django's connections belong to the thread that made them); see the module's
    docstring. Made by `written_beside`, which ends the thread."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self._alias = connection.alias
        self._thread: threading.Thread | None = None
        self._side: BaseDatabaseWrapper | None = None
        self._error: BaseException | None = None
        self._written = threading.Event()  # NEXT committed, or the writing failed
        self._ended = threading.Event()  # the load decided: keep_next says what
        self._keep_next = False
        self._writing = threading.Lock()  # held while a cancel could still hit the writing
        self._swapped = False

    def start(self, chunks: Iterable[list[np.ndarray]]) -> None:
        """Start writing the rows (the delta log's columns, chunk by chunk) into NEXT."""
        self._thread = threading.Thread(target=self._run, args=(chunks,), name="delta-log", daemon=True)
        self._thread.start()

    def swap_in(self, cursor: CursorWrapper) -> None:
        """Wait for NEXT to be committed, then put it in the log's place in `cursor`'s
        transaction (which the load then commits)."""
        assert self._thread is not None
        self._written.wait()
        if self._error is not None:
            raise self._error
        for statement in SWAP_SQL:
            cursor.execute(statement)
        self._swapped = True

    def end(self, failed: bool) -> None:
        """Stop the thread: NEXT is kept if it became the log and the load did not fail,
        dropped otherwise."""
        if self._thread is None:
            return
        self._keep_next = self._swapped and not failed
        self._ended.set()
        with self._writing:
            if not self._written.is_set() and self._side is not None and self._side.connection is not None:
                # psycopg2's cancel is made to be called from another thread.
                self._side.connection.cancel()
        self._thread.join()

    def _run(self, chunks: Iterable[list[np.ndarray]]) -> None:
        # Here, not at the top: gen_data imports the loader before Django is set up, and
        # session.py reaches the models through the router.
        from dashboard.orders.session import set_statement_timeout

        try:
            # Set up as the load's connection is: the same role, time zone and options.
            self._side = connections.create_connection(self._alias)
            # A new connection gets the site's statement timeout (5 s by default), and the COPY
            # lasts as long as the load's stream: on a busy machine a 10M-line load outlasted
            # it, was cancelled and began again. A load has no limit; neither has its log.
            set_statement_timeout(self._side, 0)
            self._write(self._side, chunks)
        except BaseException as error:  # raised in the load's thread by swap_in
            self._error = error
        finally:
            with self._writing:
                self._written.set()
        self._ended.wait()
        try:
            if self._side is not None and not self._keep_next:
                _drop_next(self._side)
        except Error:
            pass  # the connection lost: left for the next swap, which drops it before it starts
        finally:
            if self._side is not None:
                self._side.close()

    def _write(self, side: BaseDatabaseWrapper, chunks: Iterable[list[np.ndarray]]) -> None:
        if self._ended.is_set():
            return  # the load failed before this thread had connected: nothing to write
        with side.wrap_database_errors:
            side.set_autocommit(False)
            with side.cursor() as cursor, worked_ahead(copy_data(STATE_ITEM_DAY, chunks)) as data:
                cursor.execute(DROP_NEXT_SQL)
                cursor.execute(CREATE_NEXT_SQL)
                copy_from(cursor, copy_statement(STATE_ITEM_DAY, NEXT), data)
                cursor.execute(CREATE_NEXT_INDEX_SQL)
                cursor.execute(ANALYZE_NEXT_SQL)
            side.commit()


def _drop_next(side: BaseDatabaseWrapper) -> None:
    if side.connection is not None and not side.get_autocommit():
        side.rollback()
    side.set_autocommit(True)
    with side.cursor() as cursor:
        cursor.execute(DROP_NEXT_SQL)


@contextmanager
def written_beside(connection: BaseDatabaseWrapper) -> Iterator[DeltaLogBeside]:
    """A DeltaLogBeside for a load on `connection`; entered around the load's transaction,
    so that leaving it (the load committed, failed or stopped) ends the thread and drops
    NEXT unless it became the log."""
    beside = DeltaLogBeside(connection)
    failed = True
    try:
        yield beside
        failed = False
    finally:
        beside.end(failed)
