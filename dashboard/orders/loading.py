"""Bulk loading of order lines into the OLAP database.

PostgreSQL gets binary COPY built straight from numpy arrays (no Python object per row).
A thread of the loader generates, encodes and sums the next batches while the server takes
in the previous ones: numpy and the driver's sending both let go of Python's lock, so on two
cores the generating and the ingesting overlap instead of taking turns.
RisingWave has no COPY FROM STDIN, so it gets multi-row INSERT statements with bound
parameters and then FLUSH, which is what makes the rows visible to readers.

A load may replace a whole range of order ids (DELETE, then insert), so running the same
load twice leaves the same table: on PostgreSQL in one transaction; on RisingWave, which has
no read-write transactions, a load cut short is completed by running it again. Without a
range to replace, a load only appends.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from dashboard.orders import delta_log_swap
from dashboard.orders.binary_copy import (
    CHAR2,
    COPY_HEADER,
    COPY_TRAILER,
    DATE,
    INT4,
    INT8,
    RowEncoder,
    copy_from,
    money,
    money_limit,
    worked_ahead,
)
from dashboard.orders.engine import RISINGWAVE
from dashboard.orders.loader_rollups import LoadRefused, LoadRollups, skip_triggers, write_deltas
from dashboard.orders.schema import INSERT_TRIGGER, ORDER_COLUMNS, ROLLUPS, STATE_ITEM_DAY, rollup_trigger

MAX_PRICE_CENTS = money_limit(money(3))  # $1 trillion
COPY_SQL = f"COPY orders ({', '.join(ORDER_COLUMNS)}) FROM STDIN WITH (FORMAT binary)"
# Into a table emptied in the same transaction, the lines are written frozen: the first
# reader then sets no hint bits on them (a first full scan of 10M lines: 718 ms, not 956 ms),
# and no vacuum need freeze them later.
COPY_FROZEN_SQL = f"COPY orders ({', '.join(ORDER_COLUMNS)}) FROM STDIN WITH (FORMAT binary, FREEZE true)"
DELETE_RANGE_SQL = "DELETE FROM orders WHERE orderid >= %s AND orderid < %s"
# Keeping the key up to date line by line costs the server more than twice the writing of the
# lines themselves; building it once afterwards, about half that. It means holding the table
# locked from readers until the load commits (the rollups stay readable), so a load does it
# only when it replaces everything the table holds, the key being the one setup_olap made.
# Writers wait once the check has said so (SHARE ROW EXCLUSIVE conflicts with itself and with
# every write, not with reads), and it is asked again: no line may land outside the range
# between the check and the emptying of the table.
HOLD_WRITERS_SQL = "LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE"
ONLY_LINES_REPLACED_SQL = """\
SELECT NOT EXISTS (SELECT 1 FROM orders WHERE orderid < %s OR orderid >= %s)
    AND EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'orders'::regclass AND contype = 'p' AND conname = 'orders_pkey'
            AND pg_get_constraintdef(oid) = 'PRIMARY KEY (orderid, itemid)'
    )
    AND EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND tgname = %s)"""
# Such a table is emptied at once rather than deleted line by line: taking 10M lines out of
# the rollups through the delete trigger took 82 s of a 100 s reload. Its rollups' rows are
# deleted instead (EMPTY_ROLLUP_SQL), so readers see the old figures until the commit, and
# the load writes its own sums as on a first load.
EMPTY_TABLE_SQL = "TRUNCATE orders"
EMPTY_ROLLUP_SQL = "DELETE FROM {rollup}"
DROP_KEY_SQL = "ALTER TABLE orders DROP CONSTRAINT orders_pkey"
# The rollups' insert trigger reads its rows from a transition table, which PostgreSQL fills
# for every row a statement inserts even when the trigger then does nothing, or is disabled:
# for a 10M-line COPY, a 410 MB temporary file written in the COPY's time. The load writes the
# rollups itself, so it drops the trigger while it holds the table and makes it again after.
# A load beside other lines leaves the table readable meanwhile, and so keeps the trigger.
DROP_INSERT_TRIGGER_SQL = f"DROP TRIGGER {INSERT_TRIGGER} ON orders"
ADD_KEY_SQL = "ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY (orderid, itemid)"
# Room to sort the keys of a 10M-line table in memory (server memory, for this transaction):
# 1GB built them in 2.0 s, 512MB (each of the build's three processes spilling) in 2.4-2.5 s.
KEY_BUILD_MEMORY_SQL = "SET LOCAL maintenance_work_mem = '1GB'"
FLUSH_SQL = "FLUSH"
# Column names are constants of this module; no input reaches the statement text.
INSERT_PREFIX = f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) VALUES "  # noqa: S608


@dataclass(frozen=True)
class OrderLines:
    """A batch of order lines as columns. Prices are whole cents; dates are datetime64[D]."""

    orderid: np.ndarray  # int64
    itemid: np.ndarray  # int32
    qty: np.ndarray  # int32
    price_cents: np.ndarray  # int64
    dt: np.ndarray  # datetime64[D]
    state: np.ndarray  # S2: two-letter ASCII codes

    def __len__(self) -> int:
        return len(self.orderid)


# Called with the number of lines loaded so far, after each batch.
OnBatch = Callable[[int], object]


class Loader(Protocol):
    """load(batches, replace=None, on_batch=None): the lines loaded (see loader_for)."""

    def __call__(
        self,
        batches: Iterable[OrderLines],
        replace: tuple[int, int] | None = None,
        on_batch: OnBatch | None = None,
    ) -> int: ...


# --- PostgreSQL: binary COPY ------------------------------------------------------------

PRICE = money(3)  # three base-10000 digits before the point: up to $1 trillion
_ORDER_KINDS = (INT8, INT4, INT4, PRICE, DATE, CHAR2)


def copy_tuples(lines: OrderLines, encoder: RowEncoder | None = None) -> bytes:
    """The order lines in PostgreSQL's binary COPY tuple format (no header or trailer);
    `encoder`, one kept from batch to batch, saves building its buffer each time."""
    cents = lines.price_cents
    if len(lines) and (cents.min() < 0 or cents.max() >= MAX_PRICE_CENTS):
        raise LoadRefused(f"prices must be from 0 to {MAX_PRICE_CENTS - 1} cents")
    columns = (lines.orderid, lines.itemid, lines.qty, cents, lines.dt, lines.state)
    return (encoder or RowEncoder(_ORDER_KINDS))(columns)


def _only_lines_replaced(cursor: CursorWrapper, replace: tuple[int, int] | None) -> bool:
    """Whether the table holds only lines of the range `replace` and the key setup_olap made;
    if so, writers now wait until the load commits (HOLD_WRITERS_SQL)."""

    def asked() -> bool:
        cursor.execute(ONLY_LINES_REPLACED_SQL, [*(replace or ()), INSERT_TRIGGER])
        return bool(cursor.fetchone()[0])

    if not asked():
        return False
    cursor.execute(HOLD_WRITERS_SQL)
    return asked()


def load_postgresql(
    connection: BaseDatabaseWrapper,
    batches: Iterable[OrderLines],
    replace: tuple[int, int] | None = None,
    on_batch: OnBatch | None = None,
    *,
    with_rollups: bool = True,
) -> int:
    """Load `batches` in one transaction, first deleting the order ids in the half-open range
    `replace` if given. Returns the number of lines loaded.

    Into the OLAP database, a load that replaces a range sums its own rollup deltas
    (dashboard/orders/loader_rollups.py) instead of leaving them to the triggers; an append
    leaves them to the triggers. If the table holds no other lines (ONLY_LINES_REPLACED_SQL),
    it empties the table at once instead of deleting the range, deletes the rollups' rows, and
    builds the key after the COPY instead of during it, while a second connection writes the
    delta log into a new table that replaces the old one at the end
    (dashboard/orders/delta_log_swap.py). Into the shop's database
    (`with_rollups` False) there are no rollups, and its key stays: change data capture
    carries the lines on."""
    loaded = 0
    rollups = LoadRollups(replace) if replace and with_rollups else None
    encoder = RowEncoder(_ORDER_KINDS)

    def encoded() -> Iterator[tuple[bytes, int]]:
        # In the load's thread: generating the batches, encoding and summing them.
        for lines in batches:
            tuples = copy_tuples(lines, encoder)
            if rollups:
                rollups.add(lines)
            yield tuples, len(lines)

    def stream(work: Iterator[tuple[bytes, int]]) -> Iterator[bytes]:
        nonlocal loaded
        yield COPY_HEADER
        for tuples, count in work:
            yield tuples
            loaded += count
            if on_batch:
                on_batch(loaded)
        yield COPY_TRAILER

    # Only a load that is its own transaction swaps: the second connection commits the new
    # log at once, which an enclosing transaction's rollback could not take back.
    outermost = not connection.in_atomic_block
    with (
        # Outside the transaction: it ends only once the load has committed or failed.
        delta_log_swap.written_beside(connection) as delta_log_beside,
        transaction.atomic(using=connection.alias),
        connection.cursor() as cursor,
        worked_ahead(encoded()) as work,
    ):
        rebuild_key = bool(rollups) and _only_lines_replaced(cursor, replace)
        swap_delta_log = rebuild_key and outermost and delta_log_swap.swappable(cursor)
        if rebuild_key:
            # The load writes the rollups itself from here on. Not skipped, the truncate
            # trigger would also empty them under a lock that readers wait on until the commit.
            skip_triggers(cursor, True)
            cursor.execute(EMPTY_TABLE_SQL)
            for rollup in ROLLUPS:
                if swap_delta_log and rollup is STATE_ITEM_DAY:
                    continue  # replaced whole at the end
                # Constant names from schema.py; no input reaches the statement.
                cursor.execute(EMPTY_ROLLUP_SQL.format(rollup=rollup.name))
            cursor.execute(DROP_KEY_SQL)
            cursor.execute(DROP_INSERT_TRIGGER_SQL)
        elif replace:
            # The triggers take the deleted lines out of the rollups.
            cursor.execute(DELETE_RANGE_SQL, list(replace))
            if rollups:
                skip_triggers(cursor, True)
        # copy_expert reaches the driver's cursor directly; wrap its errors as Django's
        # own, like every other query, so callers catch one kind of DatabaseError.
        with connection.wrap_database_errors:
            copy = COPY_FROZEN_SQL if rebuild_key else COPY_SQL
            copy_from(cursor, copy, stream(work))
        deltas = rollups.deltas() if rollups else iter(())
        if swap_delta_log:
            # The lines are all summed by now: the delta log's rows go first, written beside
            # the key's build (dashboard/orders/delta_log_swap.py).
            rollup, chunks = next(deltas)
            assert rollup is STATE_ITEM_DAY
            delta_log_beside.start(chunks)
        if rebuild_key:
            cursor.execute(rollup_trigger("insert"))
            cursor.execute(KEY_BUILD_MEMORY_SQL)
            cursor.execute(ADD_KEY_SQL)
        if rollups:
            # Off again before anything else this transaction (or an enclosing one) writes.
            skip_triggers(cursor, False)
            # The rest of the deltas, summed from the same sums the second connection's rows
            # come from: nothing writes them any more, so both threads may read them.
            write_deltas(connection, cursor, deltas)
            if swap_delta_log:
                # Last: readers of the log wait from here to the commit.
                delta_log_beside.swap_in(cursor)
    return loaded


# --- RisingWave: multi-row INSERT, then FLUSH --------------------------------------------


def insert_statements(lines: OrderLines, batch_size: int) -> Iterator[tuple[str, list[Any]]]:
    """(sql, params) multi-row INSERTs of at most batch_size rows, values bound, never inlined."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    row_placeholder = "(" + ", ".join(["%s"] * len(ORDER_COLUMNS)) + ")"
    columns = (
        lines.orderid.tolist(),
        lines.itemid.tolist(),
        lines.qty.tolist(),
        [Decimal(cents).scaleb(-2) for cents in lines.price_cents.tolist()],
        lines.dt.astype(object).tolist(),
        [code.decode("ascii") for code in lines.state.tolist()],
    )
    rows = list(zip(*columns, strict=True))
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        # Only constant text and %s placeholders: every value is bound by the driver.
        sql = INSERT_PREFIX + ", ".join([row_placeholder] * len(batch))
        yield sql, [value for row in batch for value in row]


def load_risingwave(
    connection: BaseDatabaseWrapper,
    batches: Iterable[OrderLines],
    batch_size: int,
    replace: tuple[int, int] | None = None,
    on_batch: OnBatch | None = None,
) -> int:
    """Load `batches` with multi-row INSERTs, first deleting the order ids in the half-open
    range `replace` if given, then FLUSH. Returns the number of lines loaded."""
    loaded = 0
    with connection.cursor() as cursor:
        if replace:
            cursor.execute(DELETE_RANGE_SQL, list(replace))
        for lines in batches:
            for sql, params in insert_statements(lines, batch_size):
                cursor.execute(sql, params)
            loaded += len(lines)
            if on_batch:
                on_batch(loaded)
        # Without FLUSH, RisingWave readers would not see the rows for up to a second.
        cursor.execute(FLUSH_SQL)
    return loaded


def loader_for(
    connection: BaseDatabaseWrapper, engine: str, batch_size: int, *, with_rollups: bool = True
) -> Loader:
    """load(batches, replace=None, on_batch=None) for the engine the server reported: binary
    COPY on PostgreSQL, multi-row INSERTs of `batch_size` rows then FLUSH on RisingWave.
    `with_rollups` False: the shop's database, which has none."""
    if engine == RISINGWAVE:

        def load(
            batches: Iterable[OrderLines],
            replace: tuple[int, int] | None = None,
            on_batch: OnBatch | None = None,
        ) -> int:
            return load_risingwave(connection, batches, batch_size, replace=replace, on_batch=on_batch)

        return load

    def load_copy(
        batches: Iterable[OrderLines],
        replace: tuple[int, int] | None = None,
        on_batch: OnBatch | None = None,
    ) -> int:
        return load_postgresql(
            connection, batches, replace=replace, on_batch=on_batch, with_rollups=with_rollups
        )

    return load_copy
