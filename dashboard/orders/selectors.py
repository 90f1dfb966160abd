"""Read-only questions to the order side (selectors): the rankings' top keys and the headline
totals for a set of filters, as plain data. This is what the web layer asks of the orders.

Every ranking sorts by value, highest first, breaking ties by key ascending so the same
data always gives the same list. Rows whose key is NULL are left out, and so are groups
whose value is unknown (every qty or price in them NULL).

Two sources give exactly the same answers:
- FROM_ROLLUPS (the default): the smallest rollup (dashboard/orders/schema.py) that has every
  key the filters need; milliseconds at any size;
- FROM_RAW: a GROUP BY over every order line; the reference that tests and the benchmark
  compare against.

Every selector turns a database failure into OlapUnavailable (503, or 504 for a query that
ran out of time), so callers catch one exception.
"""

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import MAX_PREC, ROUND_HALF_UP, Decimal, localcontext
from itertools import count
from operator import itemgetter
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connections
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, NullIf
from psycopg2 import sql

from dashboard.dbrouter import OLAP
from dashboard.orders import mirror
from dashboard.orders.engine import RISINGWAVE, known_engine
from dashboard.orders.errors import OlapUnavailable, olap_errors
from dashboard.orders.models import (
    Day,
    ItemDay,
    ItemSpan,
    ItemTotal,
    Order,
    RollupMeasures,
    StateDay,
    StateItemDay,
    StateItemTotal,
    StateSpan,
    StateTotal,
)
from dashboard.orders.schema import FRESHNESS, FRESHNESS_MAPPED_RISINGWAVE, ITEM_RANKING_VALUES
from dashboard.orders.spans import spans_covering
from dashboard.shop.configured import shop_schema
from dashboard.statements import execute, rendered

__all__ = [
    "ALL_ORDERS",
    "AVERAGE",
    "COUNT",
    "FROM_RAW",
    "FROM_ROLLUPS",
    "MONEY",
    "RANKINGS",
    "RANKING_NAMES",
    "Figures",
    "Freshness",
    "Headline",
    "OlapUnavailable",
    "OrderFilters",
    "RankedBy",
    "Trend",
    "TrendPoint",
    "as_money",
    "figures",
    "freshness",
    "headline",
    "mirror_generation",
    "positions",
    "previous_period",
    "shop_item_titles",
    "shop_names_items",
    "state_in_orders",
    "state_place",
    "top_keys",
    "trend",
]

TOP = 5
CENTS = Decimal("0.01")

# What kind of value a ranking holds: exact money, an average, or a count.
MONEY = "money"
AVERAGE = "average"
COUNT = "count"

# Where figures are read from (settings.RANKINGS_SOURCE).
FROM_ROLLUPS = "rollups"
FROM_RAW = "raw"

Key = str | int
Value = Decimal | float | int
# Groups by key: {"state": [{"state": ..., <its metrics>}], "itemid": [...]}.
Groups = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class OrderFilters:
    """Which orders the figures cover: order dates from start to end, both inclusive, and
    the orders of one state (a two-letter code) if `state` is set."""

    start: date | None = None
    end: date | None = None
    state: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "state": self.state,
        }

    def date_range(self) -> dict[str, date]:
        lookups = {}
        if self.start:
            lookups["dt__gte"] = self.start
        if self.end:
            lookups["dt__lte"] = self.end
        return lookups

    def lookups(self) -> dict[str, Any]:
        """The filters as ORM lookups, for any table with dt and state columns."""
        return {**self.date_range(), **({"state": self.state} if self.state else {})}


# No filter: every order.
ALL_ORDERS = OrderFilters()


@dataclass(frozen=True)
class RankedBy:
    """What a ranking ranks: groups by `key` ("state" or "itemid"), valued by `metric`."""

    key: str
    metric: str
    kind: str


# The rankings, in the order the dashboard shows them.
RANKINGS = {
    "states_by_turnover": RankedBy("state", "turnover", MONEY),
    "items_by_avg_qty": RankedBy("itemid", "avg_qty", AVERAGE),
    "items_by_total_qty": RankedBy("itemid", "total_qty", COUNT),
    "items_by_turnover": RankedBy("itemid", "turnover", MONEY),
}
RANKING_NAMES = tuple(RANKINGS)


@dataclass(frozen=True)
class Metric:
    value: Any  # an aggregate expression
    known: Any  # an aggregate counting the lines whose value is known


def raw_metrics() -> dict[str, Metric]:
    # A line's turnover: its amount, or qty * price where the source gives a unit price
    # (schema.LINE_TURNOVER).
    line_turnover = Coalesce(F("amount"), F("qty") * F("price"), output_field=DecimalField())
    return {
        "turnover": Metric(Sum(line_turnover, output_field=DecimalField()), Count(line_turnover)),
        "avg_qty": Metric(Avg("qty"), Count("qty")),
        "total_qty": Metric(Sum("qty"), Count("qty")),
    }


def rollup_metrics() -> dict[str, Metric]:
    # SUM over BIGINT is NUMERIC, so this is the same numeric division AVG(qty) performs.
    average = ExpressionWrapper(Sum("qty_sum") / NullIf(Sum("qty_lines"), 0), output_field=FloatField())
    return {
        "turnover": Metric(Sum("turnover"), Sum("turnover_lines")),
        "avg_qty": Metric(average, Sum("qty_lines")),
        "total_qty": Metric(Sum("qty_sum"), Sum("qty_lines")),
    }


def _sources(filters: OrderFilters, source: str) -> tuple[dict[str, QuerySet], dict[str, Metric]]:
    """({"state": queryset, "itemid": queryset}, metrics) to rank from."""
    lookups = filters.lookups()
    if source == FROM_RAW:
        orders = Order.objects.filter(**lookups)
        return {"state": orders, "itemid": orders}, raw_metrics()
    # The smallest rollup that has every key the filters and the ranking need.
    by_item: type[RollupMeasures]
    if filters.date_range():
        by_item = StateItemDay if filters.state else ItemDay
    else:
        by_item = StateItemTotal if filters.state else ItemTotal
    return {"state": _state_rollup(filters), "itemid": by_item.objects.filter(**lookups)}, rollup_metrics()


def _state_rollup(filters: OrderFilters) -> QuerySet:
    """The rollup rows by state (and day, for a date range) that the filters cover."""
    rollup = StateDay if filters.date_range() else StateTotal
    return rollup.objects.filter(**filters.lookups())


def _grouped_metrics(queryset: QuerySet, key: str, metrics: dict[str, Metric]) -> list[dict[str, Any]]:
    """[{key: ..., "<metric>_value": ..., "<metric>_known": ...}] per group by `key`: every
    metric from one scan, so rankings that share a source never read it twice."""
    annotations = {}
    for name, metric in metrics.items():
        annotations[f"{name}_value"] = metric.value
        annotations[f"{name}_known"] = metric.known
    return list(queryset.filter(**{f"{key}__isnull": False}).values(key).annotate(**annotations))


def _top_groups(
    groups: list[dict[str, Any]], key: str, metric: str, limit: int = TOP
) -> list[tuple[Key, Any]]:
    """[(key, value)] of the `limit` groups with the highest known `metric`, ties by key."""
    value, known = f"{metric}_value", f"{metric}_known"
    # Ordered as (-value, key) tuples rather than through a key function: one call fewer per
    # group (a few hundred per answer); the value itself is returned as read.
    ranked = heapq.nsmallest(
        limit, [(-group[value], group[key], group[value]) for group in groups if group[known]]
    )
    return [(group_key, group_value) for _, group_key, group_value in ranked]


def as_money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


CONVERT: dict[str, Callable[[Any], Value]] = {MONEY: as_money, AVERAGE: float, COUNT: int}


def _groups_by_key(names: list[str], filters: OrderFilters, source: str) -> Groups:
    """{key: groups} for the rankings `names`: rankings that group by the same key read their
    source once, with every metric they need."""
    querysets, metrics = _sources(filters, source)
    needed: dict[str, dict[str, None]] = {}  # key -> the metrics ranked by it
    for name in names:
        needed.setdefault(RANKINGS[name].key, {})[RANKINGS[name].metric] = None
    return {
        key: _grouped_metrics(querysets[key], key, {metric: metrics[metric] for metric in wanted})
        for key, wanted in needed.items()
    }


@olap_errors()
def top_keys(
    names: Iterable[str], filters: OrderFilters = ALL_ORDERS, source: str = FROM_ROLLUPS
) -> dict[str, list[tuple[Key, Value]]]:
    """{ranking name: [(key, value)] of its top 5}, for the named rankings, in the order given."""
    names = list(names)
    groups = _groups_by_key(names, filters, source)
    result = {}
    for name in names:
        ranked = RANKINGS[name]
        convert = CONVERT[ranked.kind]
        result[name] = [
            (key, convert(value)) for key, value in _top_groups(groups[ranked.key], ranked.key, ranked.metric)
        ]
    return result


@olap_errors()
def positions(
    names: Iterable[str], filters: OrderFilters = ALL_ORDERS, source: str = FROM_ROLLUPS
) -> dict[str, dict[Key, int]]:
    """{ranking name: {key: its 1-based place in the whole ranking}}, by the same order as
    top_keys (value highest first, ties by key), every group with a known value included."""
    names = list(names)
    groups = _groups_by_key(names, filters, source)
    result = {}
    for name in names:
        ranked = RANKINGS[name]
        everyone = _top_groups(groups[ranked.key], ranked.key, ranked.metric, limit=len(groups[ranked.key]))
        result[name] = {key: place for place, (key, _) in enumerate(everyone, start=1)}
    return result


def previous_period(filters: OrderFilters) -> OrderFilters | None:
    """The period of the same length just before the filters' range, same state; None when
    the range is open at either end (all time has nothing before it to compare with)."""
    if filters.start is None or filters.end is None or filters.start > filters.end:
        return None
    length = filters.end - filters.start + timedelta(days=1)
    if filters.start - date.min < length:
        return None  # it would begin before the calendar does
    return OrderFilters(
        start=filters.start - length, end=filters.start - timedelta(days=1), state=filters.state
    )


# --- The trend: turnover and orders per day, week or month -----------------------------------

DAY, WEEK, MONTH = "day", "week", "month"
MAX_POINTS = 120  # at most this many on screen: longer ranges take wider buckets
# A range of centuries would still be thousands of months: past this many, the empty months
# before the first order and after the last (or today) are left out.
MAX_MONTHS = 1200


@dataclass(frozen=True)
class TrendPoint:
    start: date  # the bucket's first day (a Monday for weeks, the 1st for months)
    turnover: Decimal
    orders: int
    # The range covers only part of the bucket (it starts or ends inside the week or month):
    # its figures are for those days only, so it would read as a dip beside full buckets.
    partial: bool = False


@dataclass(frozen=True)
class Trend:
    bucket: str  # DAY, WEEK or MONTH
    start: date | None  # the range covered: None when there are no orders at all
    end: date
    points: list[TrendPoint]


def bucket_start(day: date, bucket: str) -> date:
    if bucket == WEEK:
        return day - timedelta(days=day.weekday())
    if bucket == MONTH:
        return day.replace(day=1)
    return day


def _next_bucket(start: date, bucket: str) -> date:
    if bucket == WEEK:
        return start + timedelta(days=7)
    if bucket == MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def _bucket_end(first: date, bucket: str) -> date:
    """The last day of the bucket that begins on `first`: the calendar's last day (9999-12-31)
    for the bucket it cuts short."""
    try:
        return _next_bucket(first, bucket) - timedelta(days=1)
    except OverflowError:
        return date.max


def bucket_starts(start: date, end: date, bucket: str) -> list[date]:
    """Every bucket from the one holding `start` to the one holding `end`."""
    starts, current = [], bucket_start(start, bucket)
    while current <= end:
        starts.append(current)
        try:
            current = _next_bucket(current, bucket)
        except OverflowError:
            break  # no bucket after the calendar's last
    return starts


def bucket_for(start: date, end: date) -> str:
    """The narrowest bucket that keeps the range (start <= end) within MAX_POINTS points:
    the days and the weeks counted, not listed (a year's trend is asked on every poll)."""
    if (end - start).days + 1 <= MAX_POINTS:
        return DAY
    if (bucket_start(end, WEEK) - bucket_start(start, WEEK)).days // 7 + 1 <= MAX_POINTS:
        return WEEK
    return MONTH


def _preparable() -> bool:
    """Whether the OLAP side takes prepared statements (dashboard.statements): PostgreSQL
    does; RisingWave has no SQL-level PREPARE."""
    return known_engine(connections[OLAP]) != RISINGWAVE


# The bucket the last trend with an open start took in this process, for the trend of the
# whole period or of a state (by_state): the next one's guess (trend()). A guess of a shape,
# never of a figure: the answer always comes from the statement.
_OPEN_START_BUCKET: dict[bool, str] = {}


@olap_errors()
def trend(filters: OrderFilters, today: date) -> Trend:
    """Turnover and orders per bucket over the filters' range, from the headline's own source
    (lines with a known state): the day rollup, or for a state the (state, day) rollup.
    Without a start the range begins at the first order; without an end it ends `today`. A
    bucket with no orders is a zero; a week or month the range covers only in part is marked
    `partial`. Without a state, from this process's mirror of the day rollup when it has one."""
    if filters.state is None and (mirrored := mirror.current()) is not None:
        resolved = _trend_range(filters, filters.end or today, today, *mirrored.first_and_last_day())
        if isinstance(resolved, Trend):
            return resolved
        start, end = resolved
        bucket = bucket_for(start, end)
        firsts = bucket_starts(start, end, bucket)
        sums = mirrored.day_sums([max(first, start) for first in firsts], end)
        # Millionths to cents, half away from zero (as_money's rounding), in one go.
        micro = sums["turnover"]
        cents = np.sign(micro) * ((np.abs(micro) + 5_000) // 10_000)
        found = {
            first: (Decimal(turnover).scaleb(-2), orders)
            for first, turnover, orders in zip(firsts, cents.tolist(), sums["orders"].tolist(), strict=True)
        }
        return _trend_points(found, start, end, bucket, firsts)
    by_state = filters.state is not None
    state = [filters.state] if filters.state else []
    end = filters.end or today
    # The first and last day with orders matter only for an open start or a range of
    # centuries: one aggregate over the rollup's key asks them. The figures are bucketed by
    # the server, a row per bucket: reading a row per day and bucketing them here took about
    # 1.3 ms more of a year's trend (docs/benchmarks.md).
    first_day: date | None = None
    last_day: date | None = None
    guessed: tuple[str, dict[date, tuple[Any, Any]]] | None = None
    with connections[OLAP].cursor() as cursor:
        if filters.start is None:
            # The first day decides the bucket, so the statement that asks it also sums the
            # buckets the last open start took (a dashboard's default view, on every poll):
            # one round trip; a wrong guess costs the second one that every trend used to.
            bucket = _OPEN_START_BUCKET.get(by_state, WEEK)
            execute(
                cursor,
                ("trend span and buckets", by_state),
                lambda: _trend_statements(by_state)[2],
                [*state, bucket, *state, end],
                prepare=_preparable(),
            )
            rows = cursor.fetchall()
            (first_day, last_day) = next((first, last) for key, first, last, _, _ in rows if key is None)
            guessed = (
                bucket,
                {key: (turnover, orders) for key, _, _, turnover, orders in rows if key is not None},
            )
        elif (end.year - filters.start.year) * 12 > MAX_MONTHS:
            first_and_last = rendered(
                ("trend span", by_state), lambda: _trend_statements(by_state)[0], cursor.cursor
            )
            cursor.execute(first_and_last, state)
            first_day, last_day = cursor.fetchone()
        resolved = _trend_range(filters, end, today, first_day, last_day)
        if isinstance(resolved, Trend):
            return resolved
        start, end = resolved
        bucket = bucket_for(start, end)
        if filters.start is None:
            _OPEN_START_BUCKET[by_state] = bucket
        if guessed is not None and guessed[0] == bucket:
            # Summed from the first day to the end asked: this range's rows, since an end cut
            # to centuries' months above still comes after the last day with orders.
            found = guessed[1]
        else:
            execute(
                cursor,
                ("trend buckets", by_state),
                lambda: _trend_statements(by_state)[1],
                [bucket, *state, start, end],
                prepare=_preparable(),
            )
            found = {first: (turnover, orders) for first, turnover, orders in cursor.fetchall()}
    return _trend_points(found, start, end, bucket)


def _trend_range(
    filters: OrderFilters, end: date, today: date, first_day: date | None, last_day: date | None
) -> tuple[date, date] | Trend:
    """(start, end) of the trend of `filters` up to `end`, given the first and last day with
    orders (needed only for an open start or a range of centuries), or the empty Trend when
    there is nothing to show."""
    start = filters.start or first_day
    if start is None or start > end:
        return Trend(DAY, start, end, [])
    if (end.year - start.year) * 12 > MAX_MONTHS:
        if first_day is None or last_day is None:
            return Trend(MONTH, start, end, [])  # centuries with no order at all
        start = max(start, first_day)
        end = min(end, max(last_day, today))
        if start > end:
            return Trend(DAY, start, end, [])
    return start, end


def _trend_points(
    found: dict[date, tuple[Any, Any]], start: date, end: date, bucket: str, firsts: list[date] | None = None
) -> Trend:
    """The trend from {bucket's first day: (turnover, orders)} (a bucket not there: zeros);
    `firsts`: the buckets' first days, if known already."""
    points = []
    for first in bucket_starts(start, end, bucket) if firsts is None else firsts:
        turnover, orders = found.get(first, (None, None))
        # Only the first bucket can begin before the range, and only the last end after it.
        points.append(TrendPoint(first, as_money(turnover or Decimal(0)), int(orders or 0), first < start))
    if points and _bucket_end(points[-1].start, bucket) > end:
        points[-1] = replace(points[-1], partial=True)
    return Trend(bucket, start, end, points)


def _trend_statements(by_state: bool) -> tuple[sql.Composed, sql.Composed, sql.Composed]:
    """(the first and last day with orders; turnover and orders per bucket over a range; the
    two at once for an open start, the first day's row first with a NULL bucket, the buckets
    up to the last day) of the day rollup, or of the (state, day) rollup for a state: the
    bucket's unit (DAY, WEEK, MONTH: date_trunc's own), the state, the first and last day
    bound as parameters.

    Written out, and rendered once per process (dashboard.statements): the trend is asked
    with every poll, and the ORM took about 1.3 ms of each to build the two statements the
    server answers in 1 ms. The two asked on every poll are prepared on PostgreSQL, as the
    figures' statement is: about 0.2 ms of a year's trend was the server planning them."""
    model = StateDay if by_state else Day
    names = {name: sql.Identifier(name) for name in ("dt", "turnover", "orders", "state")}
    of_the_state = sql.SQL("{state} = %s AND ").format(**names) if by_state else sql.SQL("")
    table = sql.Identifier(model._meta.db_table)
    span = sql.SQL("SELECT min({dt}), max({dt}) FROM {table}{where}").format(
        table=table,
        where=sql.SQL(" WHERE {state} = %s").format(**names) if by_state else sql.SQL(""),
        **names,
    )
    per_bucket = sql.SQL("SELECT CAST(date_trunc(%s, {dt}) AS date)").format(**names)
    sums = sql.SQL("sum({turnover}), sum({orders}) FROM {table}").format(table=table, **names)
    buckets = sql.SQL("{per_bucket}, {sums} WHERE {of_the_state}{dt} >= %s AND {dt} <= %s GROUP BY 1").format(
        per_bucket=per_bucket, sums=sums, of_the_state=of_the_state, **names
    )
    # From the first day on, every row is in range: no lower bound to ask for.
    span_and_buckets = sql.SQL(
        "SELECT NULL::date, first_and_last.*, NULL::numeric, NULL::numeric FROM ({span}) AS first_and_last "
        "UNION ALL {per_bucket}, NULL::date, NULL::date, {sums} WHERE {of_the_state}{dt} <= %s GROUP BY 1"
    ).format(span=span, per_bucket=per_bucket, sums=sums, of_the_state=of_the_state, **names)
    return span, buckets, span_and_buckets


@dataclass(frozen=True)
class Freshness:
    """How current the figures are: `version` changes whenever they may have (None where the
    engine keeps no such counter: RisingWave), and with change data capture, how many
    seconds behind the shop's database they are (None when unknown or not captured)."""

    version: int | None
    behind_seconds: float | None


def mirror_generation() -> int:
    """Changes whenever this process's mirror of the rollups does (mirror.generation()): the
    figures on offer depend on it as on Freshness.version."""
    return mirror.generation()


@olap_errors()
def freshness() -> Freshness:
    """One cheap query, cheap enough for every poll of an open dashboard."""
    olap = connections[OLAP]
    engine, captured = known_engine(olap), settings.ORDERS_SOURCE == "cdc"
    query = FRESHNESS[engine, captured]
    if captured and engine == RISINGWAVE and shop_schema() is not None:
        query = FRESHNESS_MAPPED_RISINGWAVE
    with olap.cursor() as cursor:
        cursor.execute(query)
        version, behind = cursor.fetchone()
    return Freshness(
        version=None if version is None else int(version),
        behind_seconds=None if behind is None else max(0.0, float(behind)),
    )


@dataclass(frozen=True)
class Headline:
    """Turnover, orders and order lines over the lines with a known state (the lines the
    states ranking ranks, so the turnover is the sum over every state)."""

    turnover: Decimal
    orders: int
    lines: int

    @property
    def average_order_value(self) -> Decimal | None:
        return as_money(self.turnover / self.orders) if self.orders else None


@olap_errors()
def headline(filters: OrderFilters = ALL_ORDERS, source: str = FROM_ROLLUPS) -> Headline:
    """The headline figures for the filters. An order counts once per state and day it has
    lines in: an order is one checkout, so that is simply the number of orders."""
    if source == FROM_RAW:
        orders = Order.objects.filter(state__isnull=False, **filters.lookups())
        totals = orders.aggregate(turnover=raw_metrics()["turnover"].value, lines=Count("*"))
        # Distinct orders per (state, day), summed: one DISTINCT over every (order, state, day)
        # of 10M lines spills a hash table for minutes; per day it sorts in seconds.
        per_day = orders.values("state", "dt").annotate(orders=Count("orderid", distinct=True))
        totals["orders"] = sum(row["orders"] for row in per_day)
    else:
        totals = _state_rollup(filters).aggregate(
            turnover=Sum("turnover"), lines=Sum("lines"), orders=Sum("orders")
        )
    return Headline(
        turnover=as_money(totals["turnover"] or Decimal(0)),
        orders=int(totals["orders"] or 0),
        lines=int(totals["lines"] or 0),
    )


@dataclass(frozen=True)
class Figures:
    """Everything one view of the dashboard shows for a set of filters, besides the trend:
    the top keys of the named rankings, each ranking's places in the period just before
    ({} without one), the headline, the previous period's (None without one), and the
    filtered state's (place, of) among all states (None without a state)."""

    top: dict[str, list[tuple[Key, Value]]]
    previous_places: dict[str, dict[Key, int]]
    headline: Headline
    previous_headline: Headline | None
    state_place: tuple[int, int] | None


@olap_errors()
def figures(
    filters: OrderFilters = ALL_ORDERS, source: str = FROM_ROLLUPS, names: Iterable[str] = RANKING_NAMES
) -> Figures:
    """The named rankings, the headline and the comparisons with the period just before, as
    top_keys, positions, headline and state_place give them. From the rollups, one statement
    reads them all (one round trip, each rollup row read once for both periods); the raw
    GROUP BY, a reference only, asks those selectors one by one."""
    names = list(names)
    before = previous_period(filters)
    if source == FROM_RAW:
        return Figures(
            top=top_keys(names, filters, source),
            previous_places=positions(names, before, source) if before else {},
            headline=headline(filters, source),
            previous_headline=headline(before, source) if before else None,
            state_place=state_place(filters, source),
        )
    if not filters.state and (mirrored := mirror.current()) is not None:
        return _figures_from_mirror(mirrored, filters, before, names)
    current, previous = _periods_from_rollups(filters, before)
    top, places = {}, {}
    for name in names:
        ranked = RANKINGS[name]
        convert = CONVERT[ranked.kind]
        key, value = _KEY_COLUMN[ranked.key], _METRIC_COLUMNS[ranked.metric][0]
        leaders = _in_order(_ranked(current, ranked, filters), ranked)[:TOP]
        top[name] = [(row[key], convert(row[value])) for row in leaders]
        if previous is not None:
            places[name] = _places(_ranked(previous, ranked, filters), ranked)
    place = None
    if filters.state:  # among every state over the same dates
        states_by_turnover = RANKINGS["states_by_turnover"]
        everyone = _places(_ranked(current, states_by_turnover, ALL_ORDERS), states_by_turnover)
        place = (everyone[filters.state], len(everyone)) if filters.state in everyone else None
    return Figures(
        top=top,
        previous_places=places,
        headline=_headline_of(_covered_states(current, filters)),
        previous_headline=None if previous is None else _headline_of(_covered_states(previous, filters)),
        state_place=place,
    )


def _figures_from_mirror(
    mirrored: mirror.Mirrored, filters: OrderFilters, before: OrderFilters | None, names: list[str]
) -> Figures:
    """figures() without a state, summed from this process's mirror of the rollups
    (dashboard/orders/mirror.py) rather than by the figures' statement: the same rankings,
    places and headlines, ranked in the same order."""
    states, items = mirrored.over(filters.start, filters.end)
    previous = mirrored.over(before.start, before.end) if before else None
    top, places = {}, {}
    for name in names:
        ranked = RANKINGS[name]
        sums = states if ranked.key == "state" else items
        leaders = _mirror_order(sums, ranked)[:TOP]
        top[name] = [(sums.keys[index], _mirror_value(sums, ranked, index)) for index in leaders]
        if previous is not None:
            earlier = previous[0] if ranked.key == "state" else previous[1]
            places[name] = {
                earlier.keys[index]: place for place, index in enumerate(_mirror_order(earlier, ranked), 1)
            }
    return Figures(
        top=top,
        previous_places=places,
        headline=_mirror_headline(states),
        previous_headline=None if previous is None else _mirror_headline(previous[0]),
        state_place=None,
    )


# A value differing from its neighbour in the ranking by no more than this many units in the
# last place of a float may be ordered differently by the server's average: see _mirror_order.
_NEAR = 4


def _mirror_order(sums: mirror.Sums, ranked: RankedBy) -> list[int]:
    """The indexes of the keys whose value is known, in the ranking's order (value highest
    first, ties by key ascending: the keys are ascending, and the sort is stable). An average
    is ranked as the server's float of its numeric division (mirror.ratio_as_postgresql);
    numpy's correctly rounded quotient is at most an ulp from it, so it orders them alike
    except within a run of values a few ulps apart (equal averages, mostly), which is ordered
    again by the server's values."""
    value_name, known_name = _MIRROR_METRICS[ranked.metric]
    known = np.flatnonzero(sums.measures[known_name] != 0)
    if value_name is not None:
        values = sums.measures[value_name][known]
        return known[np.argsort(-values, kind="stable")].tolist()
    qty_sum, qty_lines = sums.measures["qty_sum"][known], sums.measures["qty_lines"][known]
    if len(known) and max(int(np.abs(qty_sum).max()), int(np.abs(qty_lines).max())) >= 2**53:
        near = np.ones(max(len(known) - 1, 0), dtype=bool)  # not exact as floats: every one
        order = np.arange(len(known))
    else:
        averages = qty_sum / qty_lines
        order = np.argsort(-averages, kind="stable")
        ordered = averages[order]
        near = np.abs(np.diff(ordered)) <= _NEAR * np.spacing(np.abs(ordered[1:]))
    positions = order.tolist()
    for run_start, run_end in _runs(near):
        run = positions[run_start : run_end + 1]
        exact = {
            position: mirror.ratio_as_postgresql(int(qty_sum[position]), int(qty_lines[position]))
            for position in run
        }
        positions[run_start : run_end + 1] = sorted(sorted(run), key=lambda position: -exact[position])
    return known[positions].tolist()


def _runs(near: np.ndarray) -> list[tuple[int, int]]:
    """[(first, last)] of the runs of neighbours that `near` marks (near[i]: i and i + 1)."""
    runs: list[tuple[int, int]] = []
    for index in np.flatnonzero(near).tolist():
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


# Each metric's (value, count of the lines that make it known) in the mirror's measures; the
# average is qty_sum / qty_lines.
_MIRROR_METRICS = {
    "turnover": ("turnover", "turnover_lines"),
    "avg_qty": (None, "qty_lines"),
    "total_qty": ("qty_sum", "qty_lines"),
}


def _mirror_value(sums: mirror.Sums, ranked: RankedBy, index: int) -> Value:
    if ranked.metric == "turnover":
        return as_money(sums.money("turnover", index))
    if ranked.metric == "avg_qty":
        return mirror.ratio_as_postgresql(
            int(sums.measures["qty_sum"][index]), int(sums.measures["qty_lines"][index])
        )
    return int(sums.measures["qty_sum"][index])


def _mirror_headline(states: mirror.Sums) -> Headline:
    """The headline of every state's sums, as _headline_of sums the statement's groups."""
    return Headline(
        turnover=as_money(Decimal(int(states.measures["turnover"].sum())).scaleb(-6)),
        orders=int(states.measures["orders"].sum()),
        lines=int(states.measures["lines"].sum()),
    )


# A row of the figures' statement (_figures_statement): a group by key and period of the
# rollups' rows, kept as the tuple psycopg2 gives (a dict per group cost a 90-day answer about
# 1 ms of its Python, docs/benchmarks.md). Its columns: the group's kind ("state" or
# "itemid"), its state, its item, whether it is in the filters' range (else the period just
# before), then the sums in _MEASURES' order and the average.
Row = tuple[Any, ...]
# {"state": the state groups, "itemid": the item groups} of one period.
Period = dict[str, list[Row]]
_STATE, _ITEMID, _IN_RANGE = 1, 2, 3
_TURNOVER, _TURNOVER_LINES, _QTY_SUM, _QTY_LINES, _LINES, _ORDERS, _AVERAGE = range(4, 11)
_KEY_COLUMN = {"state": _STATE, "itemid": _ITEMID}
# Each metric's (value, count of the lines that make it known) columns.
_METRIC_COLUMNS = {
    "turnover": (_TURNOVER, _TURNOVER_LINES),
    "avg_qty": (_AVERAGE, _QTY_LINES),
    "total_qty": (_QTY_SUM, _QTY_LINES),
}


def _covered_states(period: Period, filters: OrderFilters) -> list[Row]:
    """The period's per-state groups the filters cover: the filtered state's, or every one."""
    if filters.state:
        return [row for row in period["state"] if row[_STATE] == filters.state]
    return period["state"]


def _ranked(period: Period, ranked: RankedBy, filters: OrderFilters) -> list[Row]:
    """The groups a ranking ranks under the filters: the covered states that have a code (as
    the per-state query's `state IS NOT NULL`), or the items (read for the filtered state)."""
    if ranked.key == "state":
        return [row for row in _covered_states(period, filters) if row[_STATE] is not None]
    return period["itemid"]


def _in_order(rows: list[Row], ranked: RankedBy) -> list[Row]:
    """The rows whose value is known, in the ranking's order, as _top_groups orders groups:
    value highest first, ties by key ascending. Two sorts by a column each (the second
    stable, reverse included), so no Python runs per row."""
    value, known = _METRIC_COLUMNS[ranked.metric]
    ordered = [row for row in rows if row[known]]
    ordered.sort(key=itemgetter(_KEY_COLUMN[ranked.key]))
    ordered.sort(key=itemgetter(value), reverse=True)
    return ordered


def _places(rows: list[Row], ranked: RankedBy) -> dict[Key, int]:
    ordered = _in_order(rows, ranked)
    return dict(zip(map(itemgetter(_KEY_COLUMN[ranked.key]), ordered), count(1)))


def _headline_of(states: list[Row]) -> Headline:
    """The headline of these per-state groups (the state rollup's rows summed, as headline()
    sums them): exact, the context wide enough that no sum of Decimals is rounded."""
    with localcontext(prec=MAX_PREC):
        turnover = sum((row[_TURNOVER] for row in states if row[_TURNOVER] is not None), Decimal(0))
    return Headline(
        turnover=as_money(turnover),
        orders=sum(int(row[_ORDERS] or 0) for row in states),
        lines=sum(int(row[_LINES] or 0) for row in states),
    )


# The rollup columns summed per group, with the type each is sent as (each part sums those it
# needs, NULL for the others, so that the parts line up in one UNION ALL); the average follows
# them. Counts and quantities as bigint: the driver makes ints of them, several times
# faster than the Decimals a numeric becomes (about 2,000 values in a 90-day answer); the
# average as float8, the float it is ranked as (the server's cast of the same numeric
# division rounds as Python's float() of it would). Money stays numeric.
_MEASURES = {
    "turnover": "numeric",
    "turnover_lines": "bigint",
    "qty_sum": "bigint",
    "qty_lines": "bigint",
    "lines": "bigint",
    "orders": "bigint",
}


def _periods_from_rollups(filters: OrderFilters, before: OrderFilters | None) -> tuple[Period, Period | None]:
    """(the groups of the filters' range, the same of the period just before or None), from
    one statement over the rollups: both periods from one read of the rows, grouped by key
    and period. A date range is read as the few spans of days that cover each period
    (dashboard/orders/spans.py), none of which crosses from one period into the other: the
    single days from the day rollups, the longer spans from the span rollups. A state's items
    are read from its (state, day, item) rows, which have no spans. All time reads the total
    rollups' rows as they are (one per key): every state's, and of the items only those in
    the top five of some item ranking (the rankings need no more, and without a range there
    are no places before to rank the others for). The state groups cover every state (for
    the state's place), NULL included (the headline sums every row); the item groups the
    filtered state's items, never a NULL item, as the rankings read them."""
    ranged = bool(filters.date_range())
    first = before.start if before else filters.start
    low, high = first or date.min, filters.end or date.max
    if before and filters.start:  # the period before ends the day before the filters' start
        spans = spans_covering(low, filters.start - timedelta(days=1)) + spans_covering(filters.start, high)
    else:
        spans = spans_covering(low, high) if ranged else []
    single = [first_day for first_day, length in spans if length == 1]
    longer: list[Any] = [value for first_day, length in spans if length > 1 for value in (first_day, length)]
    # The state's item rows over the days of both periods: the ends the range has.
    bounds = (
        [bound for bound in (first, filters.end) if bound is not None] if ranged and filters.state else []
    )
    shape = _FiguresShape(
        ranged=ranged,
        compared=before is not None,
        state=filters.state is not None,
        singles=len(single),
        longer=len(longer) // 2,
        bounded=(first is not None, filters.end is not None) if bounds else (False, False),
    )
    # Its values, in the order of its placeholders: the states' part, then the items'.
    current: list[Any] = [filters.start] if before else []
    states_values: list[Any] = [*current, *single, *longer]  # all time: none
    state_is: list[Any] = [filters.state] if filters.state else []
    if not ranged:
        items_values = state_is * len(ITEM_RANKING_VALUES)  # once for each ranking's top
    elif filters.state:
        items_values = [*current, *bounds, *state_is]
    else:
        items_values = states_values
    with connections[OLAP].cursor() as cursor:
        # Prepared on PostgreSQL: planning it was most of the server's work (dashboard.statements).
        values = states_values + items_values
        prepare = shape.planned_once and _preparable()
        execute(cursor, shape, lambda: _figures_statement(shape), values, prepare=prepare)
        rows = cursor.fetchall()
    periods: dict[bool, Period] = {True: {"state": [], "itemid": []}, False: {"state": [], "itemid": []}}
    for row in rows:
        periods[row[_IN_RANGE]][row[0]].append(row)
    if not ranged:  # an item may top several rankings: once is enough
        periods[True]["itemid"] = list({row[_ITEMID]: row for row in periods[True]["itemid"]}.values())
    return periods[True], (periods[False] if before else None)


@dataclass(frozen=True)
class _FiguresShape:
    """What the text of the figures' statement depends on; everything else is a bound value.
    A range's spans differ in their days, not in how many of each kind there are, so the few
    texts an answer can take are rendered once per process (dashboard.statements: composing
    and rendering one took about 0.3 ms of an all-time answer, a third of its statement's)."""

    ranged: bool  # a date range (else all time)
    compared: bool  # with the period just before, grouped apart
    state: bool  # one state's items (else every item)
    singles: int  # single days, read from the day rollups
    longer: int  # longer spans, read from the span rollups
    bounded: tuple[bool, bool]  # a state's item rows over a range: (a first day, a last day)

    @property
    def planned_once(self) -> bool:
        """Whether one plan serves the statement whatever its values, so that it is prepared
        on PostgreSQL (dashboard.statements). Not a state's items over a range: how many of
        its delta log's rows the range holds decides between hashing and sorting them, and a
        plan made without the values guessed 264 of 38,313 and sorted them (22 -> 35 ms)."""
        return not (self.ranged and self.state)


def _figures_statement(shape: _FiguresShape) -> sql.Composed:
    """The figures' statement for `shape`, its values as placeholders in the order
    _periods_from_rollups binds them."""
    # Which period a row is in: true for the filters' range (a span lies wholly in one).
    current = sql.SQL("{} >= %s").format(sql.Identifier("dt")) if shape.compared else sql.SQL("TRUE")

    def over_spans(
        day: type[RollupMeasures], span: type[RollupMeasures], key: str, measures: set[str]
    ) -> sql.Composable:
        """The rows of the spans, by `key`, with `measures`: the single days' rows of `day`
        (by key), the longer spans' of `span` (OR'ed equalities, which both engines plan as
        index lookups)."""
        kept = [measure for measure in _MEASURES if measure in measures]
        columns = sql.SQL(", ").join(map(sql.Identifier, [key, "dt", *kept]))
        one_span = sql.SQL("({} = %s AND {} = %s)").format(sql.Identifier("dt"), sql.Identifier("days"))
        selects: list[sql.Composable] = []
        if shape.singles:
            in_list = sql.SQL(", ").join([sql.Placeholder()] * shape.singles)
            selects.append(
                sql.SQL("SELECT {} FROM {} WHERE {} IN ({})").format(
                    columns, sql.Identifier(day._meta.db_table), sql.Identifier("dt"), in_list
                )
            )
        if shape.longer:
            selects.append(
                sql.SQL("SELECT {} FROM {} WHERE {}").format(
                    columns,
                    sql.Identifier(span._meta.db_table),
                    sql.SQL(" OR ").join([one_span] * shape.longer),
                )
            )
        if not selects:  # an empty range (start after end)
            selects.append(
                sql.SQL("SELECT {} FROM {} WHERE FALSE").format(columns, sql.Identifier(span._meta.db_table))
            )
        return sql.SQL("({}) AS spans").format(sql.SQL(" UNION ALL ").join(selects))

    def table(model: type[RollupMeasures]) -> sql.Composable:
        return sql.Identifier(model._meta.db_table)

    def compare(column: str, operator: str) -> sql.Composable:
        return sql.SQL("{} {} %s").format(sql.Identifier(column), sql.SQL(operator))

    def part(
        key: str, source: sql.Composable, measures: set[str], where: list[sql.Composable]
    ) -> sql.Composed:
        """The groups by `key` and period of `source`'s rows that `where` keeps: their sums of
        `measures`, and the average where qty is summed. A range's rows are summed per key
        and period. A total rollup holds one row per key (its primary key; on RisingWave, its
        view's GROUP BY), so its rows are the groups as they stand: summing them again cost
        the server a plan and an aggregate, about 0.4 ms of an all-time answer. Cast, they
        have the sums' types."""
        total = "SUM({})::" if shape.ranged else "{}::"
        sums = {
            measure: sql.SQL(total + _MEASURES[measure]).format(sql.Identifier(measure))
            for measure in measures
        }
        columns: list[sql.Composable] = [
            sql.Literal(key),
            sql.SQL("{}::varchar").format(sql.Identifier(key))
            if key == "state"
            else sql.SQL("NULL::varchar"),
            sql.Identifier(key) if key == "itemid" else sql.SQL("NULL::integer"),
            current,
            *(sums.get(measure, sql.SQL("NULL::" + kind)) for measure, kind in _MEASURES.items()),
            # rollup_metrics()'s average: the same numeric division, by the server.
            sql.SQL("({}::numeric / NULLIF({}, 0))::float8").format(sums["qty_sum"], sums["qty_lines"])
            if "qty_sum" in measures
            else sql.SQL("NULL::float8"),
        ]
        if key == "itemid":
            where = [*where, sql.SQL("{} IS NOT NULL").format(sql.Identifier(key))]
        return sql.SQL("SELECT {columns} FROM {source}{where}{group}").format(
            columns=sql.SQL(", ").join(columns),
            source=source,
            where=sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
            group=sql.SQL(" GROUP BY 2, 3, 4") if shape.ranged else sql.SQL(""),
        )

    def top_items(model: type[RollupMeasures], where: list[sql.Composable]) -> sql.Composable:
        """All time: each item ranking's top TOP rows of the total rollup `model`, in its
        order (ITEM_RANKING_VALUES: indexed on PostgreSQL for every item), one after the
        other; an item in several rankings comes once for each."""
        tops = []
        for metric, (value, known) in ITEM_RANKING_VALUES.items():
            known_only = sql.SQL("{} <> 0").format(sql.Identifier(known))
            tops.append(
                sql.SQL("SELECT * FROM ({} ORDER BY {} DESC, {} LIMIT {}) AS {}").format(
                    part("itemid", table(model), item_measures, [*where, known_only]),
                    sql.SQL(value),
                    sql.Identifier("itemid"),
                    sql.Literal(TOP),
                    sql.Identifier(f"top_{metric}"),
                )
            )
        return sql.SQL(" UNION ALL ").join(tops)

    state_measures = {"turnover", "turnover_lines", "lines", "orders"}
    item_measures = {"turnover", "turnover_lines", "qty_sum", "qty_lines"}
    state_is = [compare("state", "=")] if shape.state else []
    if not shape.ranged:
        states = part("state", table(StateTotal), state_measures, [])
        items = top_items(StateItemTotal if shape.state else ItemTotal, state_is)
    else:
        states = part("state", over_spans(StateDay, StateSpan, "state", state_measures), state_measures, [])
        if shape.state:  # the state's (state, day, item) rows over the days of both periods
            ends = [
                compare("dt", operator)
                for operator, bound in zip((">=", "<="), shape.bounded, strict=True)
                if bound
            ]
            items = part("itemid", table(StateItemDay), item_measures, [*ends, *state_is])
        else:
            items = part("itemid", over_spans(ItemDay, ItemSpan, "itemid", item_measures), item_measures, [])
    return sql.SQL(" UNION ALL ").join([states, items])


def shop_names_items() -> bool:
    """Whether items are labelled with the shop's own product titles (a mapped shop schema
    with a [product] table) rather than from the dashboard's item catalog."""
    schema = shop_schema()
    return schema is not None and schema.product is not None


@olap_errors()
def shop_item_titles(itemids: Iterable[int]) -> dict[int, str]:
    """{itemid: the product's current title} from the captured copy of the shop's product
    table, for the ids it holds (a renamed product shows its new title; a deleted one none)."""
    schema = shop_schema()
    wanted = sorted(set(itemids))
    if schema is None or schema.product is None or not wanted:
        return {}
    product = schema.product
    query = sql.SQL("SELECT {key}, {title} FROM {table} WHERE {key} = ANY(%s)").format(
        key=sql.Identifier(product.key),
        title=sql.Identifier(product.title),
        table=sql.Identifier(product.schema, product.name),
    )
    with connections[OLAP].cursor() as cursor:
        cursor.execute(query, [wanted])
        return {int(key): str(title) for key, title in cursor.fetchall() if title}


@olap_errors()
def state_in_orders(code: str) -> bool:
    """Whether the orders hold lines of the state `code`: one probe of the per-state rollup by
    its key, for a state filter that names no US state or territory."""
    return StateTotal.objects.filter(state=code).exists()


@olap_errors()
def state_place(filters: OrderFilters, source: str = FROM_ROLLUPS) -> tuple[int, int] | None:
    """(place, of): where the filters' state ranks among all the states by turnover over the
    filters' dates (every state, not only the top 5), in the states ranking's own order
    (highest first, ties by code), and how many states rank. None without a state filter,
    or when that state has no known turnover in the range."""
    if not filters.state:
        return None
    every_state = OrderFilters(start=filters.start, end=filters.end)
    places = positions(["states_by_turnover"], every_state, source)["states_by_turnover"]
    place = places.get(filters.state)
    return None if place is None else (place, len(places))
