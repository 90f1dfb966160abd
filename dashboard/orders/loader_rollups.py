"""The rollup deltas of one bulk load into PostgreSQL, computed from its numpy columns.

A 10M-line COPY makes the triggers aggregate 10M transition rows in SQL, which costs more
than the COPY's own writing. The loader already holds every line as numpy columns, so it
sums them there (exact: money in integer cents) and writes each rollup's delta with one
COPY and one set-based upsert, while the triggers skip that COPY (LOADER_WRITES_ROLLUPS).

Sums by (state, day, item) are kept in dense arrays over the states, days and items seen
(DenseSums: a batch is three scatter-adds, no sorting), as long as those cells stay few
(DENSE_CELLS: a year of sample orders over 200 items is 3.8M cells); a load that spreads
wider goes on with sorted sparse sums (RunningSums), which need memory only for the keys
that occur.

Counting orders per (state, day) needs to know which orders are new. The loader only takes
this path when it replaces a whole range of order ids (deleted first, in the same
transaction), every line lies inside that range, and batches come in ascending, disjoint
order-id ranges, so each order is new and wholly inside one batch. (The capture's bulk fold
also sums orders that continue ones summed before, and says where they were counted already:
LoadRollups.uncount_orders.) The lines of an
OrderLines batch carry no NULLs, so every line has a known qty and turnover.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

import numpy as np
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

from dashboard.orders.binary_copy import (
    CHAR2,
    COPY_HEADER,
    COPY_TRAILER,
    DATE,
    INT4,
    INT8,
    Kind,
    RowEncoder,
    copy_from,
    money,
    worked_ahead,
)
from dashboard.orders.schema import (
    DAY,
    ITEM_DAY,
    ITEM_TOTAL,
    LOADER_WRITES_ROLLUPS,
    ROLLUPS,
    STATE_DAY,
    STATE_ITEM_DAY,
    STATE_ITEM_TOTAL,
    STATE_TOTAL,
    Rollup,
    upsert,
)
from dashboard.orders.spans import EPOCH, STORED_SPAN_DAYS

INT64_LIMIT = 2**63


class LoadRefused(ValueError):
    """Lines a load cannot take exactly (a turnover past int64's cents, a day outside the
    range the sums key, a price the COPY cannot encode): what is wrong with the data, as
    opposed to a caller breaking the loader's contract (a plain ValueError)."""


# How each rollup column is sent: turnover in cents, up to int64's limit.
KINDS: dict[str, Kind] = {"state": CHAR2, "dt": DATE, "itemid": INT4, "days": INT4, "turnover": money(5)}
# A (state, day, item) group is one uint64 key: 16 bits of state code, 16 of day, 32 of item.
# So a load's days must lie within 2^15 days of 2000-01-01.
DAY_ZERO = np.datetime64("2000-01-01", "D")
DAY_LIMIT = 2**15
FIRST_DAY, LAST_DAY = DAY_ZERO - DAY_LIMIT, DAY_ZERO + DAY_LIMIT - 1
SPAN_EPOCH = np.datetime64(EPOCH, "D")  # day number 0 of the spans
STATE_BITS = np.uint64(0xFFFF << 48)
DAY_BITS = np.uint64(0xFFFF << 32)
PENDING_ROWS = 250_000  # partial sums held before they are merged into the running ones
COPY_ROWS = 200_000  # rows encoded at a time for COPY
# At most this many (state, day, item) cells are summed densely: three int64 sums each, so
# 144 MB at most (gen_data's peak RSS goal is 300 MB).
DENSE_CELLS = 6_000_000


class Lines(Protocol):
    """A batch of order lines as columns: what this module reads of
    dashboard.orders.loading.OrderLines (which imports this module, so is not imported here)."""

    @property
    def orderid(self) -> np.ndarray: ...
    @property
    def itemid(self) -> np.ndarray: ...
    @property
    def qty(self) -> np.ndarray: ...
    @property
    def price_cents(self) -> np.ndarray: ...
    @property
    def dt(self) -> np.ndarray: ...
    @property
    def state(self) -> np.ndarray: ...
    def __len__(self) -> int: ...


def group(
    keys: Sequence[np.ndarray], values: Sequence[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Sum `values` (int64 arrays) over equal `keys` (arrays, the first most significant).
    Returns (keys, sums) of the groups, sorted by key."""
    if len(keys[0]) == 0:
        return [key[:0] for key in keys], [value[:0] for value in values]
    order = np.lexsort(keys[::-1])
    keys = [key[order] for key in keys]
    starts = _run_starts(keys)
    return [key[starts] for key in keys], [np.add.reduceat(value[order], starts) for value in values]


def _run_starts(sorted_keys: Sequence[np.ndarray]) -> np.ndarray:
    """Where each run of equal keys starts, in non-empty columns sorted together."""
    starts = np.zeros(len(sorted_keys[0]), dtype=bool)
    starts[0] = True
    for key in sorted_keys:
        starts[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(starts)


class RunningSums:
    """Sums by a uint64 key, sorted by key, merged in place a block of partial sums at a time
    so memory stays near the size of the sums themselves."""

    def __init__(self, measures: int) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.sums = [np.empty(0, dtype=np.int64) for _ in range(measures)]
        self._pending: list[tuple[list[np.ndarray], list[np.ndarray]]] = []

    def add(self, keys: np.ndarray, sums: Sequence[np.ndarray]) -> None:
        self._pending.append(group([keys], sums))
        if sum(len(part[0][0]) for part in self._pending) > PENDING_ROWS:
            self.merge()

    def merge(self) -> None:
        if not self._pending:
            return
        (keys,), sums = group(
            [np.concatenate([part[0][0] for part in self._pending])],
            [np.concatenate(column) for column in zip(*(part[1] for part in self._pending), strict=True)],
        )
        self._pending = []
        at = np.searchsorted(self.keys, keys)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == keys[found]
        for mine, theirs in zip(self.sums, sums, strict=True):
            mine[at[found]] += theirs[found]
        new = ~found
        self.keys = np.insert(self.keys, at[new], keys[new])
        for number, theirs in enumerate(sums):
            # One column at a time, so only one column is ever held twice.
            self.sums[number] = np.insert(self.sums[number], at[new], theirs[new])


class DenseSums:
    """Lines, qty and turnover by (state, day, item), and orders by (state, day), in dense
    int64 arrays over the states, days and items seen so far: a state gets the next place
    when first seen, days and items are ranges that widen as lines need. Adding a batch is a
    scatter-add per measure (exact integers, no sort)."""

    def __init__(self) -> None:
        self.codes = np.empty(0, dtype="S2")  # the states, in the order first seen
        self._place = np.full(1 << 16, -1, dtype=np.int64)  # a state code (as >u2) -> its place
        self.first_day = self.first_item = 0  # days since DAY_ZERO; item id
        self.days = self.items = 0
        self.sums = np.zeros((3, 0, 0, 0), dtype=np.int64)  # lines, qty, turnover by cell
        self.orders = np.zeros((0, 0), dtype=np.int64)  # by (state, day)

    def add(self, lines: Lines) -> bool:
        """Add the lines; False (and nothing added) if their cells would be too many."""
        codes = lines.state.view(">u2")
        places = self._place[codes]
        new_codes = np.unique(codes[places < 0])
        day = (lines.dt - DAY_ZERO).astype(np.int64)
        item = lines.itemid.astype(np.int64)
        first_day, last_day, first_item, last_item = (
            int(day.min()),
            int(day.max()),
            int(item.min()),
            int(item.max()),
        )
        if self.days:  # the ranges only widen
            first_day, last_day = (
                min(first_day, self.first_day),
                max(last_day, self.first_day + self.days - 1),
            )
            first_item, last_item = (
                min(first_item, self.first_item),
                max(last_item, self.first_item + self.items - 1),
            )
        states, days, items = (
            len(self.codes) + len(new_codes),
            last_day - first_day + 1,
            last_item - first_item + 1,
        )
        if states * days * items > DENSE_CELLS:
            return False
        if len(new_codes):
            self._place[new_codes] = np.arange(len(self.codes), states)
            self.codes = np.concatenate([self.codes, new_codes.astype(">u2").view("S2")])
            places = self._place[codes]
        if (states, days, items, first_day, first_item) != (
            *self.sums.shape[1:],
            self.first_day,
            self.first_item,
        ):
            self._widen(states, first_day, days, first_item, items)
        state_day = places * days + (day - first_day)
        cell = state_day * items + (item - first_item)
        qty = lines.qty.astype(np.int64)
        for measure, values in zip(
            self.sums.reshape(3, -1), (np.ones_like(qty), qty, qty * lines.price_cents), strict=True
        ):
            np.add.at(measure, cell, values)
        order_cells = _order_cells(lines.orderid, state_day)
        np.add.at(self.orders.reshape(-1), order_cells, np.ones_like(order_cells))
        return True

    def uncount(self, state: np.ndarray, dt: np.ndarray) -> None:
        """One order fewer in each (state, day) given (LoadRollups.uncount_orders)."""
        places = self._place[state.view(">u2")]
        days = (dt - DAY_ZERO).astype(np.int64) - self.first_day
        if np.any(places < 0) or np.any(days < 0) or np.any(days >= self.days):
            raise ValueError("an order can only be uncounted where this load counted it")
        np.add.at(self.orders, (places, days), -1)

    def _widen(self, states: int, first_day: int, days: int, first_item: int, items: int) -> None:
        """Room for more states, days or items; the sums so far keep their cells."""
        old_states, old_days, old_items = self.sums.shape[1:]
        at_day, at_item = self.first_day - first_day, self.first_item - first_item
        if not self.days:
            at_day = at_item = 0
        sums = np.zeros((3, states, days, items), dtype=np.int64)
        sums[:, :old_states, at_day : at_day + old_days, at_item : at_item + old_items] = self.sums
        orders = np.zeros((states, days), dtype=np.int64)
        orders[:old_states, at_day : at_day + old_days] = self.orders
        self.sums, self.orders = sums, orders
        self.first_day, self.days, self.first_item, self.items = first_day, days, first_item, items

    def deltas(self) -> Iterator[tuple[Rollup, Iterable[list[np.ndarray]]]]:
        """(rollup, chunks of its columns in the rollup's order), as LoadRollups.deltas."""
        by_code = np.argsort(self.codes, kind="stable")  # states in code order, as in SQL
        codes = self.codes[by_code]
        dts = DAY_ZERO + np.arange(self.first_day, self.first_day + self.days).astype("timedelta64[D]")
        itemids = np.arange(self.first_item, self.first_item + self.items).astype(np.int32)
        yield STATE_ITEM_DAY, self._fine_chunks(by_code, dts, itemids)
        state_days = self.sums.sum(axis=3)[:, by_code]
        state_days = np.concatenate([state_days, self.orders[by_code][np.newaxis]])
        state, day = np.nonzero(state_days[0])
        yield STATE_DAY, [delta_columns(STATE_DAY, [dts[day], codes[state]], list(state_days[:, state, day]))]
        days = state_days.sum(axis=1)
        (day,) = np.nonzero(days[0])
        yield DAY, [delta_columns(DAY, [dts[day]], list(days[:, day]))]
        states = state_days.sum(axis=2)
        (state,) = np.nonzero(states[0])
        yield STATE_TOTAL, [delta_columns(STATE_TOTAL, [codes[state]], list(states[:, state]))]
        item_days = self.sums.sum(axis=1)
        day, item = np.nonzero(item_days[0])
        yield ITEM_DAY, [delta_columns(ITEM_DAY, [dts[day], itemids[item]], list(item_days[:, day, item]))]
        items = item_days.sum(axis=1)
        (item,) = np.nonzero(items[0])
        yield ITEM_TOTAL, [delta_columns(ITEM_TOTAL, [itemids[item]], list(items[:, item]))]
        state_items = self.sums.sum(axis=2)[:, by_code]
        state, item = np.nonzero(state_items[0])
        yield (
            STATE_ITEM_TOTAL,
            [
                delta_columns(
                    STATE_ITEM_TOTAL, [codes[state], itemids[item]], list(state_items[:, state, item])
                )
            ],
        )

    def _fine_chunks(
        self, by_code: np.ndarray, dts: np.ndarray, itemids: np.ndarray
    ) -> Iterator[list[np.ndarray]]:
        # One state at a time, in code order, days then items: the delta log gets its rows
        # sorted by (state, dt) for its BRIN index.
        for place in by_code:
            cells = self.sums[:, place]
            day, item = np.nonzero(cells[0])
            state = np.full(len(day), self.codes[place])
            yield delta_columns(STATE_ITEM_DAY, [state, dts[day], itemids[item]], list(cells[:, day, item]))

    def spill(
        self, fine: RunningSums, item_days: RunningSums, state_items: RunningSums, orders: RunningSums
    ) -> None:
        """Add everything summed so far to sparse sums (when the cells grow too many)."""
        state, day, item = np.nonzero(self.sums[0])
        keys = (
            self.codes[state].view(">u2").astype(np.uint64) << np.uint64(48)
            | (day + self.first_day + DAY_LIMIT).astype(np.uint64) << np.uint64(32)
            | (item + self.first_item).astype(np.uint32).astype(np.uint64)
        )
        sums = list(self.sums[:, state, day, item])
        fine.add(keys, sums)
        item_days.add(keys & (DAY_BITS | np.uint64(0xFFFFFFFF)), sums)
        state_items.add(keys & (STATE_BITS | np.uint64(0xFFFFFFFF)), sums)
        state, day = np.nonzero(self.orders)
        cells = self.codes[state].view(">u2").astype(np.uint64) << np.uint64(48) | (
            day + self.first_day + DAY_LIMIT
        ).astype(np.uint64) << np.uint64(32)
        orders.add(cells, [self.orders[state, day]])


def _order_cells(orderid: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """The cell of each distinct (order, cell) pair among the lines. Lines of one order come
    together, in one cell, in the sample data: then the first line of each order says it."""
    same_order = orderid[1:] == orderid[:-1]
    if np.all(orderid[1:] >= orderid[:-1]) and np.array_equal(cell[1:][same_order], cell[:-1][same_order]):
        return cell[np.flatnonzero(np.concatenate([[True], ~same_order]))]
    (cells, _), _ = group([cell, orderid], [])
    return cells


def _cell_keys(lines: Lines) -> np.ndarray:
    """(state, day) as the top 32 bits of a uint64, in the order of (state code, day); the
    days already checked to lie in range (LoadRollups.add)."""
    return _state_day_keys(lines.state, lines.dt)


def _state_day_keys(state: np.ndarray, dt: np.ndarray) -> np.ndarray:
    day = ((dt - DAY_ZERO).astype(np.int64) + DAY_LIMIT).astype(np.uint64)
    return state.view(">u2").astype(np.uint64) << np.uint64(48) | day << np.uint64(32)


def _unpack(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    state = (keys >> np.uint64(48)).astype(">u2").view("S2")
    day = ((keys >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64) - DAY_LIMIT
    itemid = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)
    return state, DAY_ZERO + day.astype("timedelta64[D]"), itemid


class LoadRollups:
    """Collects one load's sums by (state, day, item), (day, item) and (state, item), and its
    orders by (state, day); the other rollups are summed from those at the end."""

    def __init__(self, replace: tuple[int, int], *, dense: bool = True) -> None:
        """`dense`: sum in DenseSums until the cells grow too many (a load of millions of
        lines fills them); otherwise sparse sums from the start, whose memory and time
        follow the lines, not the span of days and items they cover."""
        self.low, self.high = replace
        self._after: int | None = None  # the highest order id of the batches so far
        self._turnover_bound = 0
        self._dense: DenseSums | None = DenseSums() if dense else None
        self._fine = RunningSums(3)  # lines, qty, turnover
        self._item_days = RunningSums(3)
        self._state_items = RunningSums(3)
        self._orders = RunningSums(1)

    def add(self, lines: Lines) -> None:
        if not len(lines):
            return
        first, last = int(lines.orderid.min()), int(lines.orderid.max())
        if first < self.low or last >= self.high:
            raise ValueError(f"order ids must lie in the range being replaced, {self.low} to {self.high - 1}")
        if self._after is not None and first <= self._after:
            raise ValueError("batches must come in ascending order ids, each order within one batch")
        self._after = last
        # Every sum is at most the whole load's turnover: keep that inside int64.
        self._turnover_bound += int(lines.qty.max()) * int(lines.price_cents.max()) * len(lines)
        if int(lines.qty.min()) < 0 or self._turnover_bound >= INT64_LIMIT:
            raise LoadRefused("this load's turnover is too large to sum exactly; load it in smaller parts")
        if len(lines) and (lines.dt.min() < FIRST_DAY or lines.dt.max() > LAST_DAY):
            raise LoadRefused(f"order dates must be from {FIRST_DAY} to {LAST_DAY}")
        if self._dense is not None:
            if self._dense.add(lines):
                return
            self._dense.spill(self._fine, self._item_days, self._state_items, self._orders)
            self._dense = None
        cells = _cell_keys(lines)
        qty = lines.qty.astype(np.int64)
        sums = [np.ones(len(lines), dtype=np.int64), qty, qty * lines.price_cents]
        items = lines.itemid.view(np.uint32).astype(np.uint64)
        self._fine.add(cells | items, sums)
        self._item_days.add(cells & DAY_BITS | items, sums)
        self._state_items.add(cells & STATE_BITS | items, sums)
        (order_cells, _), _ = group([cells, lines.orderid], [])
        self._orders.add(order_cells, [np.ones(len(order_cells), dtype=np.int64)])

    def uncount_orders(self, state: np.ndarray, dt: np.ndarray) -> None:
        """One order fewer in each (state, day) given (states as S2, days as datetime64[D]):
        where an order of this load continues one summed before, whose earlier lines already
        count it in that (state, day). The capture's fold meets such orders when a shop's
        import commits every so many lines and an order straddles two commits. Each pair
        must be one where an add() counted the order; call it after the last add()."""
        if not len(state):
            return
        if self._dense is not None:
            self._dense.uncount(state, dt)
        else:
            self._orders.add(_state_day_keys(state, dt), [np.full(len(state), -1, dtype=np.int64)])

    def deltas(self) -> Iterator[tuple[Rollup, Iterable[list[np.ndarray]]]]:
        """(rollup, chunks of its columns in the rollup's order), one rollup at a time; each
        span rollup summed from its day rollup's delta, right after it."""
        span_rollups = {rollup.spans: rollup for rollup in ROLLUPS if rollup.spans}
        for rollup, chunks in self._dense.deltas() if self._dense is not None else self._sparse_deltas():
            if rollup not in span_rollups:
                yield rollup, chunks
                continue
            # One chunk: the upsert reads its rows from one table, each key once.
            columns = [np.concatenate(column) for column in zip(*chunks, strict=True)]
            yield rollup, [columns]
            yield span_rollups[rollup], [span_deltas(span_rollups[rollup], columns)]

    def _sparse_deltas(self) -> Iterator[tuple[Rollup, Iterable[list[np.ndarray]]]]:
        for running in (self._fine, self._item_days, self._state_items, self._orders):
            running.merge()
        # The fine keys are sorted by (state, day) first: each run of one day is summed in
        # place. Every (state, day) with lines has orders, and both keys sort alike.
        day_sums = list(self._fine.sums)
        if len(self._fine.keys):
            starts = _run_starts([self._fine.keys >> np.uint64(32)])
            day_sums = [np.add.reduceat(column, starts) for column in day_sums]
        day_sums.append(self._orders.sums[0])
        day_state, day_dt, _ = _unpack(self._orders.keys)
        item_days = self._item_days.sums
        _, item_day_dt, item_day_itemid = _unpack(self._item_days.keys)
        yield STATE_ITEM_DAY, self._fine_chunks()
        yield STATE_DAY, [delta_columns(STATE_DAY, [day_dt, day_state], day_sums)]
        yield DAY, [delta_columns(DAY, *group([day_dt], day_sums))]
        yield STATE_TOTAL, [delta_columns(STATE_TOTAL, *group([day_state], day_sums))]
        yield ITEM_DAY, [delta_columns(ITEM_DAY, [item_day_dt, item_day_itemid], item_days)]
        yield ITEM_TOTAL, [delta_columns(ITEM_TOTAL, *group([item_day_itemid], item_days))]
        state, _, itemid = _unpack(self._state_items.keys)
        yield STATE_ITEM_TOTAL, [delta_columns(STATE_ITEM_TOTAL, [state, itemid], self._state_items.sums)]

    def _fine_chunks(self) -> Iterator[list[np.ndarray]]:
        # Unpacked a slice at a time: the whole unpacked log would double its memory.
        for start in range(0, len(self._fine.keys), COPY_ROWS):
            state, dt, itemid = _unpack(self._fine.keys[start : start + COPY_ROWS])
            sums = [column[start : start + COPY_ROWS] for column in self._fine.sums]
            yield delta_columns(STATE_ITEM_DAY, [state, dt, itemid], sums)


def span_deltas(rollup: Rollup, day_columns: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The span rollup's columns in order, summed from a delta of its day rollup (that
    rollup's columns): length by length, each from the sums of the length below (a span of 8d
    days is eight of d), so the rows to sort shrink with every length."""
    assert rollup.spans
    day = dict(zip(rollup.spans.columns, day_columns, strict=True))
    other_keys = [key for key in rollup.spans.keys if key != "dt"]
    start = (day["dt"] - SPAN_EPOCH).astype(np.int64)  # day numbers: a day is a span of 1
    keys, sums = [day[key] for key in other_keys], [day[measure] for measure in rollup.measures]
    sizes: list[dict[str, np.ndarray]] = []
    for days in STORED_SPAN_DAYS:
        (start, *keys), sums = group([start // days * days, *keys], sums)
        spans = dict(zip(other_keys, keys, strict=True))
        spans.update(zip(rollup.measures, sums, strict=True))
        spans.update(dt=SPAN_EPOCH + start.astype("timedelta64[D]"), days=np.full(len(start), days, np.int32))
        sizes.append(spans)
    return [np.concatenate([spans[column] for spans in sizes]) for column in rollup.columns]


def delta_columns(rollup: Rollup, keys: Sequence[np.ndarray], sums: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The rollup's columns in order: keys, then lines, qty_sum, qty_lines, turnover (cents),
    turnover_lines and, where counted, orders."""
    columns = dict(zip(rollup.keys, keys, strict=True))
    lines, qty, turnover, *orders = sums
    columns.update(lines=lines, qty_sum=qty, qty_lines=lines, turnover=turnover, turnover_lines=lines)
    if orders:
        columns["orders"] = orders[0]
    return [columns[name] for name in rollup.columns]


def skip_triggers(cursor: CursorWrapper, skip: bool) -> None:
    cursor.execute("SELECT set_config(%s, %s, true)", [LOADER_WRITES_ROLLUPS, "on" if skip else "off"])


Deltas = Iterable[tuple[Rollup, Iterable[list[np.ndarray]]]]


def write_deltas(connection: BaseDatabaseWrapper, cursor: CursorWrapper, deltas: Deltas) -> None:
    """Add a load's deltas (LoadRollups.deltas, or what is left of them) to every rollup: the
    delta log by appending, the others by upsert."""
    for rollup, chunks in deltas:
        columns = rollup.columns
        data = copy_data(rollup, chunks)
        if rollup.delta_log:
            target = rollup.name
        else:
            target = f"{rollup.name}_load"
            cursor.execute(f"CREATE TEMP TABLE {target} (LIKE {rollup.name}) ON COMMIT DROP")
        # The delta log's millions of rows are encoded in a thread while the server takes
        # in the ones before (binary_copy.worked_ahead).
        with connection.wrap_database_errors, worked_ahead(data) as chunks_ahead:
            copy_from(cursor, copy_statement(rollup, target), chunks_ahead)
        if not rollup.delta_log:
            cursor.execute(upsert(rollup, f"SELECT {', '.join(columns)} FROM {target}"))  # noqa: S608
            cursor.execute(f"DROP TABLE {target}")


def copy_statement(rollup: Rollup, table: str) -> str:
    """The binary COPY of a rollup's columns into `table` (the rollup's, or one made like it)."""
    # Names of schema.py's constants only: no input reaches the statement's text.
    return f"COPY {table} ({', '.join(rollup.columns)}) FROM STDIN WITH (FORMAT binary)"


def copy_data(rollup: Rollup, chunks: Iterable[Sequence[np.ndarray]]) -> Iterator[bytes]:
    """The binary COPY data of a rollup's delta, given as chunks of its columns."""
    return _copy_data([KINDS.get(column, INT8) for column in rollup.columns], chunks)


def _copy_data(kinds: Sequence[Kind], chunks: Iterable[Sequence[np.ndarray]]) -> Iterator[bytes]:
    encode = RowEncoder(kinds)
    yield COPY_HEADER
    for columns in chunks:
        yield encode(columns)
    yield COPY_TRAILER
