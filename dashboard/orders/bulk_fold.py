"""The capture's fold of a bulk import into the sample table (ORDERS_SOURCE=cdc, the
PostgreSQL stand-in): the lines a big insert-only transaction at the shop applied, read out
with one binary COPY and summed in numpy the way gen_data's loader sums a load
(dashboard/orders/loader_rollups.py), instead of by the fold's set-based statement.

Why: that statement groups a million changes once per rollup, appends ~900k (state, item,
day) rows with an INSERT ... SELECT and probes `orders`' key once per order to count the
orders each day gained; it took 8-9 s for a 1M-line transaction, after the 7 s PostgreSQL's
apply takes. Here the lines leave the server once (about 56 bytes each), the sums are
scatter-adds, and the deltas go back as binary COPY.

Only what the loader can sum exactly takes this path; anything else is left to the
set-based fold (capture.fold), which handles every case:
- insert-only: nothing logged since the last fold (no update or delete to take off);
- between capture.BIG_FOLD and MAX_LINES lines (small folds cost a few milliseconds as they are;
  the cap bounds the worker's memory: a million lines took it from about 60 to 215 MB);
- every line with a quantity of zero or more, a price of zero or more in whole cents and no
  amount of its own (as the sample table's lines are: turnover is qty * price), a day
  within loader_rollups' range, and a state of two printable ASCII characters: no NULL
  anywhere;
- every order either new, or continuing one folded before (its earlier lines applied by an
  earlier transaction, as when a shop's import commits every 1,000 lines and an order
  straddles two commits): where its earlier lines already count it in a (state, day), its
  lines here do not count it again (LoadRollups.uncount_orders). Those earlier lines are
  read only when `orders` holds lines within the fold's order ids besides the fold's own,
  at most MAX_EARLIER of them.
Those checks and the reads run in the fold's REPEATABLE READ transaction (capture._fold), so
the count of pending changes, the lines read, the order-id check and the snapshot recorded as
folded are the same view; a writer of the rollups that commits meanwhile fails the fold, and
the next one starts again.

Owns only the reading, the checks and the sums; capture.py owns the transaction, the lock
and the progress. May import numpy, Django's database layer and the order side's schema,
binary COPY, loader sums and OrderLines (loading.py).
"""

import io
from dataclasses import dataclass

import numpy as np
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from dashboard.orders.binary_copy import COPY_HEADER, COPY_TRAILER, PG_EPOCH
from dashboard.orders.loader_rollups import FIRST_DAY, INT64_LIMIT, LAST_DAY, LoadRollups, write_deltas
from dashboard.orders.loading import OrderLines
from dashboard.orders.schema import applied_since

MAX_LINES = 2_000_000
# Lines summed at a time: the sums' temporaries (a dozen arrays of one number per line) stay
# a quarter of what the whole fold's would be.
BATCH_LINES = 250_000
DENSE_CELLS_PER_LINE = 4  # dense sums when their cells are at most this many per line (_dense)
LINE_COLUMNS = ("orderid", "itemid", "qty", "price_cents", "dt", "state")

# The lines applied since the last fold, every field fixed-width and never NULL, so the COPY's
# rows parse as one numpy structured array: a value that does not fit gets a sentinel the
# checks below reject (-1, the day 'infinity', the state chr(1) chr(1)). The price goes as
# whole cents when its scale says it has at most two decimals (so `price * 100` is exact),
# as the loader sends it; a line with an amount of its own (a mapped shop's) is not taken.
# The state goes as its two bytes of text, unconverted: the cheapest way out (a conversion
# of each cost the read a fifth more); only printable ASCII passes the checks.
READ_APPLIED = f"""\
COPY (
    SELECT orderid, itemid, COALESCE(qty, -1),
        CASE WHEN amount IS NULL AND scale(price) <= 2 AND price >= 0 AND price < 1e15
            THEN (price * 100)::BIGINT ELSE -1 END,
        COALESCE(dt, 'infinity'::DATE),
        CASE WHEN octet_length(state) = 2 THEN state ELSE chr(1) || chr(1) END
    FROM orders
    WHERE {applied_since("captured_xid", "%(previous)s::pg_snapshot")}
    LIMIT %(limit)s
) TO STDOUT WITH (FORMAT binary)"""  # noqa: S608 - constant text only: nothing from input
# No line outside the fold within its order ids: then the fold's lines are all `orders` holds
# there (they are in it), and they are this many.
LINES_BETWEEN = "SELECT count(*) FROM orders WHERE orderid BETWEEN %s AND %s"
# Otherwise, where the lines outside the fold within its order ids count their orders: those
# applied before the fold's snapshot, and any a direct writer stamped with no transaction.
EARLIER_LINES = f"""\
SELECT DISTINCT orderid, state, dt
FROM orders
WHERE orderid BETWEEN %(low)s AND %(high)s AND state IS NOT NULL AND dt IS NOT NULL
    AND ({applied_since("captured_xid", "%(previous)s::pg_snapshot")}) IS NOT TRUE
LIMIT %(limit)s"""  # noqa: S608 - constant text only: nothing from input
MAX_EARLIER = 100_000

ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("len0", ">i4"),
        ("orderid", ">i8"),
        ("len1", ">i4"),
        ("itemid", ">i4"),
        ("len2", ">i4"),
        ("qty", ">i4"),
        ("len3", ">i4"),
        ("price", ">i8"),
        ("len4", ">i4"),
        ("dt", ">i4"),
        ("len5", ">i4"),
        ("state", "S2"),
    ]
)
WIDTHS = {"len0": 8, "len1": 4, "len2": 4, "len3": 8, "len4": 4, "len5": 2}


def read_applied(cursor: CursorWrapper, previous: str) -> OrderLines | None:
    """The lines applied since the snapshot `previous`, as columns (sentinels where a value
    does not fit: see READ_APPLIED), at most MAX_LINES + 1 of them; None when the rows are
    not all of one width, as when a state's two bytes on the server are more in the
    connection's encoding (a server not in UTF8)."""
    out = io.BytesIO()
    # One line past the most this path takes says there are more, without reading them.
    cursor.copy_expert(cursor.mogrify(READ_APPLIED, {"previous": previous, "limit": MAX_LINES + 1}), out)
    data = out.getbuffer()
    try:
        return _columns(data)
    finally:
        data.release()  # then `out` and its bytes go with this call


def _columns(data: memoryview) -> OrderLines | None:
    """The COPY's rows as columns, if every row has the fields and widths of ROW."""
    rows_bytes = len(data) - len(COPY_HEADER) - len(COPY_TRAILER)
    if rows_bytes % ROW.itemsize:
        return None
    rows = np.frombuffer(data, dtype=ROW, count=rows_bytes // ROW.itemsize, offset=len(COPY_HEADER))
    if np.any(rows["fields"] != len(WIDTHS)) or any(
        np.any(rows[name] != width) for name, width in WIDTHS.items()
    ):
        return None
    return OrderLines(
        orderid=rows["orderid"].astype(np.int64),
        itemid=rows["itemid"].astype(np.int32),
        qty=rows["qty"].astype(np.int32),
        price_cents=rows["price"].astype(np.int64),
        dt=PG_EPOCH + rows["dt"].astype(np.int64).astype("timedelta64[D]"),
        state=rows["state"].copy(),
    )


@dataclass(frozen=True)
class Summable:
    """A fold's lines the loader's sums take exactly, and the (state, day) of each order among
    them that its earlier lines already count there (two arrays, S2 and datetime64[D])."""

    lines: OrderLines
    counted_before: tuple[np.ndarray, np.ndarray]


def summable_lines(cursor: CursorWrapper, previous: str) -> Summable | None:
    """The lines applied since the snapshot `previous`, if the loader's sums take them
    exactly (see the module's docstring); None, with nothing written, if not."""
    lines = read_applied(cursor, previous)
    if lines is None or len(lines) > MAX_LINES or not summable(lines):
        return None
    counted_before = orders_counted_before(cursor, lines, previous)
    return None if counted_before is None else Summable(lines, counted_before)


def summable(lines: OrderLines) -> bool:
    """Whether the loader's sums take every line exactly (see the module's docstring)."""
    if not len(lines):
        return False
    state = lines.state.view(np.uint8)
    return bool(
        lines.qty.min() >= 0
        and lines.price_cents.min() >= 0
        # Every sum is at most this: inside int64, as LoadRollups checks it.
        and int(lines.qty.max()) * int(lines.price_cents.max()) * len(lines) < INT64_LIMIT
        and lines.dt.min() >= FIRST_DAY
        and lines.dt.max() <= LAST_DAY
        and state.min() >= 0x20
        and state.max() <= 0x7E
    )


def orders_counted_before(
    cursor: CursorWrapper, lines: OrderLines, previous: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """(state, day) of each (order, state, day) of `lines` that lines of `orders` outside the
    fold (see EARLIER_LINES) already count: empty when every order is new; None when those
    lines are more than MAX_EARLIER."""
    low, high = int(lines.orderid.min()), int(lines.orderid.max())
    cursor.execute(LINES_BETWEEN, [low, high])
    if cursor.fetchone()[0] == len(lines):  # no other line there: every order is new
        return np.empty(0, dtype="S2"), np.empty(0, dtype="datetime64[D]")
    cursor.execute(EARLIER_LINES, {"low": low, "high": high, "previous": previous, "limit": MAX_EARLIER + 1})
    earlier = cursor.fetchall()
    if len(earlier) > MAX_EARLIER:
        return None
    # Only the lines of orders the fold continues: a few, next to the fold's own.
    counted = {(orderid, state.encode(), dt) for orderid, state, dt in earlier}
    continued = np.isin(lines.orderid, np.fromiter((orderid for orderid, _, _ in counted), np.int64))
    again = {
        (orderid, state, dt)
        for orderid, state, dt in zip(
            lines.orderid[continued].tolist(),
            lines.state[continued].tolist(),
            lines.dt[continued].astype(object).tolist(),
            strict=True,
        )
    } & counted
    return np.array([state for _, state, _ in again], dtype="S2"), np.array(
        [dt for _, _, dt in again], dtype="datetime64[D]"
    )


def add_to_rollups(connection: BaseDatabaseWrapper, cursor: CursorWrapper, summable: Summable) -> None:
    """Add the lines' sums to every rollup, as the loader adds a load's: in ascending order
    ids, a batch of whole orders at a time (LoadRollups counts each order once per batch);
    an order counted before in a (state, day) is not counted there again."""
    lines = summable.lines
    if np.any(lines.orderid[1:] < lines.orderid[:-1]):  # as applied: in the shop's order
        by_order = np.argsort(lines.orderid, kind="stable")
        lines = OrderLines(*(getattr(lines, name)[by_order] for name in LINE_COLUMNS))
    sums = LoadRollups((int(lines.orderid[0]), int(lines.orderid[-1]) + 1), dense=_dense(lines))
    start = 0
    while start < len(lines):
        # The batch ends after the whole order its last line belongs to.
        stop = int(
            np.searchsorted(lines.orderid, lines.orderid[min(start + BATCH_LINES, len(lines)) - 1], "right")
        )
        sums.add(OrderLines(*(getattr(lines, name)[start:stop] for name in LINE_COLUMNS)))
        start = stop
    sums.uncount_orders(*summable.counted_before)
    write_deltas(connection, cursor, sums.deltas())


def _dense(lines: OrderLines) -> bool:
    """Whether dense sums pay: their cells (every state seen, over the range of days and of
    items) are few next to the lines. A fold of a few thousand lines over a year of days and
    200 items would otherwise zero and scan ~90 MB of cells."""
    states = np.count_nonzero(np.bincount(lines.state.view(">u2"), minlength=1 << 16))
    days = int((lines.dt.max() - lines.dt.min()).astype(np.int64)) + 1
    items = int(lines.itemid.max()) - int(lines.itemid.min()) + 1
    return bool(states * days * items <= DENSE_CELLS_PER_LINE * len(lines))
