"""The rollups that the rankings and the trend read without a state, mirrored in each web
process: a date range (or all time) is then summed in memory instead of by a statement.

What it keeps: orders_day, orders_state_day and orders_item_day as running totals over the
days (numpy arrays, a row per day from the first to the last day with rows, a column per
key), and orders_state_total and orders_item_total as they are. A range's figures are two
rows of running totals subtracted: microseconds whatever the range, where the statement over
the span rollups reads about 5,800 rows for a 90-day range and the period before, and every
answer costs a round trip (docs/benchmarks.md).

How it stays exact: triggers on those tables (schema.mirror_trigger_statements) NOTIFY
MIRROR_CHANNEL at each commit that changes them, with the days it changed. A thread of the
process LISTENs on a connection of its own before it reads anything, so no commit after
that read goes unannounced. Before a request uses the mirror it reads the notices that have
reached that connection (psycopg2's poll(), which never waits: a few microseconds), as the
kept sessions do (dashboard/sessions/kept.py); a notice makes the mirror stale at once, and
once a request has found it so, the thread reads the days announced again on a second
connection and puts the new arrays in place (a process nobody asks reads nothing, and none
spends more than a twenty-first of its time reading, however fast the writes come). So a commit
counts from the moment its notice reaches the process, microseconds after it
(docs/benchmarks.md), and while the mirror is stale, starting, or its connection is down,
every answer comes from the statements, as without a mirror.

Not used (the statements answer): inside a transaction (an atomic block, every TestCase),
whose connection may see changes no notice has announced yet; on RisingWave (no triggers; its
materialized views are the rollups); for one state's figures (its (state, day, item) delta
log holds millions of rows); with RANKINGS_MIRROR_CELLS 0. A process also stops mirroring,
saying why in its log, when the rollups outgrow RANKINGS_MIRROR_CELLS (days x keys: memory),
hold money with more than six decimal places (kept as integer millionths, so that sums stay
exact), or sums beyond 64-bit integers.

Written here rather than taken from a library: the caches Django offers keep answers, not
figures to compute them from, and expire by time, not by what changed.

Imports numpy, psycopg2, Django, dashboard.orders.{engine,schema,session} and
dashboard.statements.
"""

import contextlib
import logging
import os
import select
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg2
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from dashboard.dbrouter import OLAP
from dashboard.orders.engine import RISINGWAVE, known_engine
from dashboard.orders.schema import MIRROR_CHANNEL, MIRROR_DAY_ROWS, MIRROR_EXTENT, MIRROR_TOTAL_ROWS
from dashboard.orders.session import set_statement_timeout
from dashboard.statements import own_server_process, read_what_arrived

__all__ = [
    "Mirrored",
    "Sums",
    "current",
    "generation",
    "ratio_as_postgresql",
    "refused",
    "started",
    "stop",
    "synced",
]

logger = logging.getLogger(__name__)

# Money is kept as integer millionths: exact for every turnover with up to six decimals.
MICRO = 1_000_000
# The measures kept for each kind of key, the ones the figures' statement sums; for the days
# also "rows" (1 where orders_day has a row), for the trend's first and last day.
STATE_MEASURES = ("lines", "orders", "turnover", "turnover_lines")
ITEM_MEASURES = ("qty_sum", "qty_lines", "turnover", "turnover_lines")
DAY_MEASURES = ("orders", "turnover", "rows")
# Sums of money above this (in millionths) could overflow int64 when added up: not mirrored.
_MONEY_LIMIT = float(2**62)
# Seconds between attempts to reach the OLAP database again after its connection failed.
RETRY_SECONDS = 1.0
# After a read that took t seconds, the next waits READ_SPACING x t: reading takes at most a
# twenty-first of a process's time however fast the rollups change (between reads, the
# statements answer).
READ_SPACING = 20.0
# A process that could not mirror the rollups (too large, money not exact) tries again after
# this many seconds: rollups change (a reload, a shop's data cleaned up).
REFUSED_SECONDS = 600.0


@dataclass(frozen=True)
class Sums:
    """Figures per key: `keys` in ascending order, and for each measure an int64 array
    aligned with them (money in millionths)."""

    keys: list[Any]
    measures: dict[str, np.ndarray]

    def money(self, measure: str, index: int) -> Decimal:
        return Decimal(int(self.measures[measure][index])).scaleb(-6)


@dataclass(frozen=True)
class _Running:
    """One day rollup as running totals: row i of each measure sums days 0 .. i-1 (row 0 is
    zeros), a column per key."""

    keys: list[Any]
    cumulative: dict[str, np.ndarray]  # measure -> (days + 1, len(keys))

    def between(self, low: int, high: int) -> Sums:
        """The sums over days low .. high - 1 (indexes into the mirrored days)."""
        return Sums(self.keys, {name: sums[high] - sums[low] for name, sums in self.cumulative.items()})


@dataclass(frozen=True)
class Mirrored:
    """The mirrored rollups at one moment: never changed in place (a change makes a new one),
    so a request reads one consistent state without a lock."""

    first: date  # the first day kept (index 0)
    days: int  # how many days are kept: first .. first + days - 1
    states: _Running
    items: _Running
    day: _Running  # orders_day, one column
    state_totals: Sums
    item_totals: Sums

    def low(self, start: date | None) -> int:
        """The index of the first kept day on or after `start` (None: the first)."""
        return 0 if start is None else min(max((start - self.first).days, 0), self.days)

    def high(self, end: date | None) -> int:
        """One past the index of the last kept day on or before `end` (None: the last)."""
        return self.days if end is None else min(max((end - self.first).days + 1, 0), self.days)

    def over(self, start: date | None, end: date | None) -> tuple[Sums, Sums]:
        """(the states' sums, the items' sums) over start .. end, both inclusive; all time
        (from the total rollups, which also hold lines with no date) when both are None."""
        if start is None and end is None:
            return self.state_totals, self.item_totals
        low = self.low(start)
        high = max(self.high(end), low)
        return self.states.between(low, high), self.items.between(low, high)

    def first_and_last_day(self) -> tuple[date | None, date | None]:
        """The first and the last day orders_day has a row for (None, None: no rows)."""
        rows = np.diff(self.day.cumulative["rows"][:, 0])
        present = np.flatnonzero(rows)
        if not len(present):
            return None, None
        return self.first + timedelta(days=int(present[0])), self.first + timedelta(days=int(present[-1]))

    def day_sums(self, firsts: list[date], end: date) -> dict[str, np.ndarray]:
        """orders_day's sums over each of the ranges firsts[i] .. firsts[i + 1] - 1, the last
        to `end` (the firsts ascending, none after `end`)."""
        at = [self.low(first) for first in firsts] + [self.high(end)]
        return {name: np.diff(sums[at, 0]) for name, sums in self.day.cumulative.items()}


def ratio_as_postgresql(numerator: int, denominator: int) -> float:
    """numerator / denominator as PostgreSQL's `(a::numeric / b)::float8` gives it, for the
    integers a and b (b not 0): the figures' statement computes averages so. PostgreSQL
    divides numerics to a scale of at least 16 significant digits (select_div_scale() in
    src/backend/utils/adt/numeric.c, for inputs of scale 0), rounding half away from zero,
    and the float is the one nearest that decimal; Python's float() of the same decimal is
    that float."""
    if numerator == 0:
        return 0.0
    a, b = abs(numerator), abs(denominator)
    # Each as base-10000 digits (NBASE): the weight of the first and that digit.
    weight_a, weight_b = (len(str(a)) - 1) // 4, (len(str(b)) - 1) // 4
    quotient_weight = weight_a - weight_b - (1 if a // 10000**weight_a <= b // 10000**weight_b else 0)
    scale = min(max(16 - quotient_weight * 4, 0), 1000)
    whole, remainder = divmod(a * 10**scale, b)
    if 2 * remainder >= b:
        whole += 1
    sign = "-" if (numerator < 0) != (denominator < 0) else ""
    return float(Decimal(f"{sign}{whole}").scaleb(-scale))


# --- Reading the rollups ------------------------------------------------------------------

# A row of those statements: (part, dt, state, itemid, lines, orders, qty_sum, qty_lines,
# turnover in millionths, turnover_lines, exact).
_PART, _DT, _STATE, _ITEMID = range(4)
_VALUES = {"lines": 4, "orders": 5, "qty_sum": 6, "qty_lines": 7, "turnover": 8, "turnover_lines": 9}
_EXACT_COLUMN = 10
_STATES, _ITEMS, _DAYS, _STATE_TOTALS, _ITEM_TOTALS = 1, 2, 0, 3, 4


class Refused(Exception):
    """The rollups cannot be mirrored in this process (too large, or money not exact)."""


def _check(rows: list[tuple[Any, ...]]) -> None:
    if not all(row[_EXACT_COLUMN] for row in rows):
        raise Refused("the rollups hold money with more than six decimal places")


class _Days:
    """One day rollup's rows added up as they are read, into a (days, keys) array per
    measure; keys are added as they come (a column each), and put in order at the end."""

    def __init__(self, key_column: int, keys: list[Any], measures: tuple[str, ...], first: date, days: int):
        self.key_column, self.measures, self.first = key_column, measures, first
        self.keys = list(keys)
        self.column_of = {key: column for column, key in enumerate(self.keys)}
        self.values = {name: np.zeros((days, len(self.keys)), dtype=np.int64) for name in measures}

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        new = sorted({row[self.key_column] for row in rows} - self.column_of.keys())
        if new:  # a key with day rows but no total row: rare, so the arrays grow for it
            self.column_of.update({key: len(self.keys) + offset for offset, key in enumerate(new)})
            self.keys += new
            self.values = {
                name: np.pad(values, ((0, 0), (0, len(new)))) for name, values in self.values.items()
            }
        at_day = np.fromiter(((row[_DT] - self.first).days for row in rows), dtype=np.int64, count=len(rows))
        at_key = np.fromiter(
            (self.column_of[row[self.key_column]] for row in rows), dtype=np.int64, count=len(rows)
        )
        for name in self.measures:
            if name == "rows":
                column = np.ones(len(rows), dtype=np.int64)
            else:
                index = _VALUES[name]
                column = np.fromiter((row[index] for row in rows), dtype=np.int64, count=len(rows))
            np.add.at(self.values[name], (at_day, at_key), column)

    def in_order(self) -> tuple[list[Any], dict[str, np.ndarray]]:
        """(the keys ascending, each measure's values with its columns in that order)."""
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        return [self.keys[column] for column in order], {
            name: values[:, order] for name, values in self.values.items()
        }


def _running(per_day: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, values in per_day.items():
        sums = np.zeros((values.shape[0] + 1, values.shape[1]), dtype=np.int64)
        np.cumsum(values, axis=0, out=sums[1:])
        out[name] = sums
    return out


def _running_of(days: _Days) -> _Running:
    keys, values = days.in_order()
    return _Running(keys, _running(values))


def _totals(rows: list[tuple[Any, ...]], key_column: int, measures: tuple[str, ...]) -> Sums:
    rows = sorted(rows, key=lambda row: row[key_column])
    keys = [row[key_column] for row in rows]
    arrays = {
        name: np.fromiter((row[_VALUES[name]] for row in rows), dtype=np.int64, count=len(rows))
        for name in measures
    }
    return Sums(keys, arrays)


def _check_money(*arrays: np.ndarray) -> None:
    for array in arrays:
        if array.size and float(np.abs(array.astype(np.float64)).sum()) > _MONEY_LIMIT:
            raise Refused("the rollups' money adds up beyond 64-bit integers")


# Rows fetched at a time by a full read: its memory is the arrays and one batch of rows, not
# every row as a Python tuple (about 400 bytes each).
BATCH_ROWS = 20_000


def _read_day_rows(
    connection: Any, first: date, last: date, states: list[Any], items: list[Any]
) -> dict[int, _Days]:
    """The day rollups' rows of first .. last, added up per part ({_STATES, _ITEMS, _DAYS}:
    _Days with columns for `states` and `items` to begin with), read in batches."""
    days = (last - first).days + 1
    parts = {
        _STATES: _Days(_STATE, states, STATE_MEASURES, first, days),
        _ITEMS: _Days(_ITEMID, items, ITEM_MEASURES, first, days),
        # One column, keyed by the rows' part: orders_day has no key but the day.
        _DAYS: _Days(_PART, [_DAYS], DAY_MEASURES, first, days),
    }
    with connection.cursor(name="rollups_mirror") as cursor:
        cursor.execute(MIRROR_DAY_ROWS, {"first": first, "last": last})
        while rows := cursor.fetchmany(BATCH_ROWS):
            _check(rows)
            for part, days_of_part in parts.items():
                days_of_part.add([row for row in rows if row[_PART] == part])
    return parts


def read_everything(connection: Any, max_cells: int) -> Mirrored:
    """The mirror of the rollups as the psycopg2 `connection` (not in autocommit, at
    REPEATABLE READ: one snapshot for every statement below) sees them now."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(MIRROR_EXTENT)
            first, last, keys = cursor.fetchone()
            if first is None:
                first = last = date.today()
            days = (last - first).days + 1
            if days * (keys + 1) > max_cells:
                raise Refused(
                    f"the rollups span {days:,} days and {keys:,} keys: more cells than "
                    f"RANKINGS_MIRROR_CELLS ({max_cells:,})"
                )
            cursor.execute(MIRROR_TOTAL_ROWS)
            totals = cursor.fetchall()
        _check(totals)
        state_totals = _totals([row for row in totals if row[_PART] == _STATE_TOTALS], _STATE, STATE_MEASURES)
        item_totals = _totals([row for row in totals if row[_PART] == _ITEM_TOTALS], _ITEMID, ITEM_MEASURES)
        parts = _read_day_rows(connection, first, last, state_totals.keys, item_totals.keys)
    finally:
        connection.commit()
    mirrored = Mirrored(
        first=first,
        days=days,
        states=_running_of(parts[_STATES]),
        items=_running_of(parts[_ITEMS]),
        day=_running_of(parts[_DAYS]),
        state_totals=state_totals,
        item_totals=item_totals,
    )
    _check_money(
        mirrored.states.cumulative["turnover"][-1],
        mirrored.items.cumulative["turnover"][-1],
        state_totals.measures["turnover"],
        item_totals.measures["turnover"],
    )
    return mirrored


def read_days(connection: Any, mirrored: Mirrored, first: date, last: date) -> Mirrored | None:
    """`mirrored` with the days first .. last read again (through the psycopg2 `connection`,
    as read_everything); None when they hold what it cannot take in place (a day outside its
    days, a key it has no column for): read everything then."""
    if first < mirrored.first or (last - mirrored.first).days >= mirrored.days:
        return None
    low, count = (first - mirrored.first).days, (last - first).days + 1
    try:
        parts = _read_day_rows(connection, first, last, mirrored.states.keys, mirrored.items.keys)
    finally:
        connection.commit()
    if len(parts[_STATES].keys) > len(mirrored.states.keys) or len(parts[_ITEMS].keys) > len(
        mirrored.items.keys
    ):
        return None  # a new key

    def replaced(running: _Running, fresh: _Days) -> _Running:
        cumulative = {}
        for name, sums in running.cumulative.items():
            before = sums[low + 1 : low + count + 1] - sums[low : low + count]
            change = np.cumsum(fresh.values[name] - before, axis=0)
            updated = sums.copy()
            updated[low + 1 : low + count + 1] += change
            updated[low + count + 1 :] += change[-1]
            cumulative[name] = updated
        return _Running(running.keys, cumulative)

    states = replaced(mirrored.states, parts[_STATES])
    items = replaced(mirrored.items, parts[_ITEMS])
    _check_money(states.cumulative["turnover"][-1], items.cumulative["turnover"][-1])
    return Mirrored(
        first=mirrored.first,
        days=mirrored.days,
        states=states,
        items=items,
        day=replaced(mirrored.day, parts[_DAYS]),
        state_totals=mirrored.state_totals,
        item_totals=mirrored.item_totals,
    )


def read_totals(connection: Any, mirrored: Mirrored) -> Mirrored:
    """`mirrored` with the total rollups read again."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(MIRROR_TOTAL_ROWS)
            rows = cursor.fetchall()
    finally:
        connection.commit()
    _check(rows)
    state_totals = _totals([row for row in rows if row[_PART] == _STATE_TOTALS], _STATE, STATE_MEASURES)
    item_totals = _totals([row for row in rows if row[_PART] == _ITEM_TOTALS], _ITEMID, ITEM_MEASURES)
    _check_money(state_totals.measures["turnover"], item_totals.measures["turnover"])
    return Mirrored(
        first=mirrored.first,
        days=mirrored.days,
        states=mirrored.states,
        items=mirrored.items,
        day=mirrored.day,
        state_totals=state_totals,
        item_totals=item_totals,
    )


# --- Following the notices ------------------------------------------------------------------


# More notices than this waiting are merged into the few that say the same (merged()).
MAX_PENDING = 64


def merged(notices: list[str]) -> list[str]:
    """Notices that ask for the same reads as `notices`: "all", or one range of days from the
    first to the last named and "totals" if any asked it; the last "sync" kept."""
    out = []
    if "all" in notices:
        out.append("all")
    else:
        days = [notice.split()[1:] for notice in notices if notice.startswith("days ")]
        if days:
            out.append(f"days {min(first for first, _ in days)} {max(last for _, last in days)}")
        if "totals" in notices:
            out.append("totals")
    synced = [notice for notice in notices if notice.startswith("sync ")]
    return out + synced[-1:]


class _Mirror:
    """This process's mirror and the thread that keeps it current."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        # Written to wake the thread, never waiting: a full pipe has woken it already.
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)
        self.listening: Any = None  # the psycopg2 connection that LISTENs, once it does
        self.mirrored: Mirrored | None = None  # None: not usable now
        self.pending: list[str] = []  # notices taken, not yet read again
        self.broken = False  # a request found the listening connection down
        # Whether a request has found the mirror stale since the thread last read: changes are
        # read again only then, so a process nobody asks spends nothing on a stream of writes.
        self.wanted = True
        self.refused: str | None = None
        self.refused_at = 0.0  # time.monotonic() then
        # The last "sync <token>" notice read: a point in the notices' order that tests (and
        # anyone checking the mirror) can wait for; no other meaning.
        self.synced: str | None = None
        # How many times a new state of the mirror was put in place: what the web's change
        # marker adds to the OLAP side's version (see generation()).
        self.generation = 0

    # In a request's thread.

    def current(self) -> Mirrored | None:
        with self.lock:
            if self.thread is None:
                self._start()
                return None
            if self.mirrored is None or self.pending or self.broken:
                self._want()
                return None
            try:
                read_what_arrived(self.listening)
            except psycopg2.Error:
                self.broken = True
                self.mirrored = None
                self._wake()
                return None
            if self.listening.notifies:
                self._take_notices()
                self._want()
                return None
            return self.mirrored

    def _want(self) -> None:
        """A request found the mirror stale: have the thread read what changed (the lock held)."""
        if not self.wanted:
            self.wanted = True
            self._wake()

    def _start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="rollups mirror", daemon=True)
        self.thread.start()

    def _take_notices(self) -> None:
        """Move the notices that reached the listening connection to `pending` (the lock held),
        merged when they pile up (a process nobody asks reads none of them)."""
        self.pending += [notice.payload for notice in self.listening.notifies]
        self.listening.notifies.clear()
        if len(self.pending) > MAX_PENDING:
            self.pending = merged(self.pending)
        if self.pending:
            self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self.wake_write, b".")

    def stop(self) -> None:
        self.stopping.set()
        self._wake()
        if self.thread is not None:
            self.thread.join(timeout=10)
        with self.lock:
            self.thread = None
            self.wanted = True
            self.mirrored = None
            self.listening = None
            self.pending = []
            self.broken = False
            self.refused = None
        self.stopping.clear()

    # In the mirror's thread.

    def _run(self) -> None:
        while not self.stopping.is_set() and self.refused is None:
            listener = reader = None
            try:
                listener = connections.create_connection(OLAP)
                reader = connections.create_connection(OLAP)
                self._follow(listener, reader)
            except Refused as refused:
                self.refused, self.refused_at = str(refused), time.monotonic()
                logger.warning("Rankings without a state are read from the database: %s.", refused)
            except (DatabaseError, psycopg2.Error, OSError) as error:
                logger.info("The rollups' mirror lost its connection (%s); trying again.", error)
            except Exception:
                # A fault of its own must not end the thread: the statements answer meanwhile.
                logger.exception("The rollups' mirror failed; reading everything again.")
            finally:
                with self.lock:
                    self.mirrored = None
                    self.listening = None
                    self.broken = False
                for wrapper in (listener, reader):
                    if wrapper is not None:
                        with contextlib.suppress(DatabaseError, psycopg2.Error):
                            wrapper.close()
            self.stopping.wait(RETRY_SECONDS)

    def _follow(self, listener: BaseDatabaseWrapper, reader: BaseDatabaseWrapper) -> None:
        listener.ensure_connection()
        listener.connection.autocommit = True
        if not own_server_process(listener.connection):
            # A pooler between: its notices could go to another of its clients.
            raise Refused("the OLAP connection goes through a pooler, which LISTEN cannot")
        with listener.connection.cursor() as cursor:
            cursor.execute(f"LISTEN {MIRROR_CHANNEL}")
        reader.ensure_connection()
        set_statement_timeout(reader, 0)  # a background read, which may take seconds
        # Each read in a transaction of its own, each statement of it in one snapshot.
        reader.connection.set_session(isolation_level="REPEATABLE READ", autocommit=False)
        with self.lock:
            self.listening = listener.connection
        max_cells = settings.RANKINGS_MIRROR_CELLS
        connection = reader.connection
        mirrored = read_everything(connection, max_cells)
        next_read = 0.0  # time.monotonic() before which nothing is read again
        while not self.stopping.is_set():
            wait = 5.0
            with self.lock:
                if self.broken:
                    raise psycopg2.OperationalError("the listening connection is down")
                read_what_arrived(listener.connection)
                self._take_notices()
                pending = list(self.pending)
                if not pending and mirrored is not self.mirrored:  # nothing announced since it was read
                    self.mirrored = mirrored
                    self.generation += 1
                if pending and self.wanted:
                    wait = next_read - time.monotonic()
                    if wait <= 0:
                        self.wanted = False  # a request that finds it stale meanwhile asks again
            if pending and wait <= 0:
                began = time.monotonic()
                mirrored = self._read_again(connection, mirrored, pending, max_cells)
                # At most a twenty-first of the time spent reading: under a stream of writes over many
                # days (a bulk import), the statements answer between reads, as without a mirror.
                next_read = time.monotonic() + READ_SPACING * (time.monotonic() - began)
                with self.lock:
                    # Those are read; any that came meanwhile keep it stale until they are.
                    del self.pending[: len(pending)]
                continue
            readable, _, _ = select.select([listener.connection, self.wake_read], [], [], max(wait, 0.0))
            if self.wake_read in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_read, 4096)

    def _read_again(
        self, connection: Any, mirrored: Mirrored, notices: list[str], max_cells: int
    ) -> Mirrored:
        synced = [notice[len("sync ") :] for notice in notices if notice.startswith("sync ")]
        if synced:
            self.synced = synced[-1]
        if "all" in notices:
            return read_everything(connection, max_cells)
        days = [notice.split()[1:] for notice in notices if notice.startswith("days ")]
        if days:
            first = min(date.fromisoformat(first) for first, _ in days)
            last = max(date.fromisoformat(last) for _, last in days)
            updated = read_days(connection, mirrored, first, last)
            if updated is None:
                return read_everything(connection, max_cells)
            mirrored = updated
        if "totals" in notices:
            mirrored = read_totals(connection, mirrored)
        return mirrored


_mirror = _Mirror()


def current() -> Mirrored | None:
    """The mirrored rollups if the figures without a state may be read from them now, else
    None (the statements answer: see the module's docstring). The first call in a process
    starts the thread that reads them."""
    global _mirror
    if settings.RANKINGS_MIRROR_CELLS <= 0:
        return None
    olap = connections[OLAP]
    if olap.in_atomic_block or olap.vendor != "postgresql":
        return None
    if _mirror.pid != os.getpid():  # a forked child: the thread stayed with the parent
        _mirror = _Mirror()
    if _mirror.refused is not None:
        if time.monotonic() - _mirror.refused_at < REFUSED_SECONDS:
            return None
        _mirror.stop()  # and start again: the next call reads them anew
    try:
        if known_engine(olap) == RISINGWAVE:
            return None
    except DatabaseError:
        return None
    return _mirror.current()


def generation() -> int:
    """A number that changes whenever this process's mirror changes. The OLAP side's version
    (schema.ROLLUPS_VERSION) moves when a writer changes the rollups, which can be seen before
    the notice of its commit has reached the mirror: figures computed in between, from the
    mirror as it was, must not be kept under the new version alone (the rankings cache, the
    API's ETag), or they would stay on show until the cache's time bucket ends."""
    return _mirror.generation


def refused() -> str | None:
    """Why this process does not mirror the rollups (None: it does, or may)."""
    return _mirror.refused


def synced() -> str | None:
    """The token of the last "sync <token>" notice this process's mirror has read."""
    return _mirror.synced


def started() -> bool:
    """Whether this process has started mirroring (and not stopped since)."""
    return _mirror.thread is not None or _mirror.refused is not None


def stop() -> None:
    """Stop mirroring in this process and close its connections (tests, before their
    databases are dropped; a refused process, to try again); the next current() starts
    again."""
    _mirror.stop()
