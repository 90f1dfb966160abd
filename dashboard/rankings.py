"""The four top-5 rankings over the orders, as selectors returning plain data.

Every ranking sorts by value, highest first, breaking ties by key ascending so the same
data always gives the same list. Rows whose key is NULL are left out, and so are groups
whose value is unknown (every qty or price in them NULL).

The dashboard reads the rollups (dashboard/olap/schema.py): all-time ones without a date
filter, day-grain ones with one. The raw GROUP BY over `orders` stays as the reference that
tests and the benchmark compare against; both give exactly the same answers.
"""

import heapq
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, FloatField, Sum
from django.db.models.functions import NullIf

from dashboard.catalog import item_label, item_names
from dashboard.models import (
    ItemDay,
    ItemTotal,
    Order,
    StateDay,
    StateItemDay,
    StateItemTotal,
    StateTotal,
)
from dashboard.us_states import state_name

TOP = 5
CENTS = Decimal("0.01")

MONEY = "money"
AVERAGE = "average"
COUNT = "count"

ROLLUPS = "rollups"
RAW = "raw"


@dataclass(frozen=True)
class OrderFilters:
    """Which orders the rankings cover: order dates from start to end, both inclusive, and
    the orders of one state (a two-letter code) if `state` is set."""

    start: date | None = None
    end: date | None = None
    state: str | None = None

    def as_dict(self):
        return {
            "start": self.start and self.start.isoformat(),
            "end": self.end and self.end.isoformat(),
            "state": self.state,
        }

    def date_range(self):
        lookups = {}
        if self.start:
            lookups["dt__gte"] = self.start
        if self.end:
            lookups["dt__lte"] = self.end
        return lookups

    def lookups(self):
        """The filters as ORM lookups, for any table with dt and state columns."""
        return {**self.date_range(), **({"state": self.state} if self.state else {})}


@dataclass(frozen=True)
class Entry:
    key: str | int
    label: str
    value: Decimal | float | int


@dataclass(frozen=True)
class Ranking:
    name: str
    title: str
    key_heading: str
    value_heading: str
    kind: str
    entries: list[Entry]


@dataclass(frozen=True)
class Metric:
    value: object  # an aggregate expression
    known: object  # an aggregate counting the lines whose value is known


def raw_metrics():
    line_turnover = F("qty") * F("price")
    return {
        "turnover": Metric(Sum(line_turnover, output_field=DecimalField()), Count(line_turnover)),
        "avg_qty": Metric(Avg("qty"), Count("qty")),
        "total_qty": Metric(Sum("qty"), Count("qty")),
    }


def rollup_metrics():
    # SUM over BIGINT is NUMERIC, so this is the same numeric division AVG(qty) performs.
    average = ExpressionWrapper(Sum("qty_sum") / NullIf(Sum("qty_lines"), 0), output_field=FloatField())
    return {
        "turnover": Metric(Sum("turnover"), Sum("turnover_lines")),
        "avg_qty": Metric(average, Sum("qty_lines")),
        "total_qty": Metric(Sum("qty_sum"), Sum("qty_lines")),
    }


def ranking_sources(filters, source):
    """({"state": queryset, "itemid": queryset}, metrics) to rank from."""
    lookups = filters.lookups()
    if source == RAW:
        orders = Order.objects.filter(**lookups)
        return {"state": orders, "itemid": orders}, raw_metrics()
    # The smallest rollup that has every key the filters and the ranking need.
    if filters.date_range():
        by_item = StateItemDay if filters.state else ItemDay
    else:
        by_item = StateItemTotal if filters.state else ItemTotal
    return {"state": state_rollup(filters), "itemid": by_item.objects.filter(**lookups)}, rollup_metrics()


def state_rollup(filters):
    """The rollup rows by state (and day, for a date range) that the filters cover."""
    rollup = StateDay if filters.date_range() else StateTotal
    return rollup.objects.filter(**filters.lookups())


def grouped_metrics(queryset, key, metrics):
    """[{key: ..., "<metric>_value": ..., "<metric>_known": ...}] per group by `key`: every
    metric from one scan, so rankings that share a source never read it twice."""
    annotations = {}
    for name, metric in metrics.items():
        annotations[f"{name}_value"] = metric.value
        annotations[f"{name}_known"] = metric.known
    return list(queryset.filter(**{f"{key}__isnull": False}).values(key).annotate(**annotations))


def top_groups(groups, key, metric, limit=TOP):
    """[(key, value)] of the `limit` groups with the highest known `metric`, ties by key."""
    known = [(group[key], group[f"{metric}_value"]) for group in groups if group[f"{metric}_known"]]
    return heapq.nsmallest(limit, known, key=lambda pair: (-pair[1], pair[0]))


def as_money(value):
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Definition:
    title: str
    key: str  # "state" or "itemid"
    key_heading: str
    metric: str
    value_heading: str
    kind: str


# The rankings, in the order the dashboard shows them.
DEFINITIONS = {
    "states_by_turnover": Definition("States by turnover", "state", "State", "turnover", "Turnover", MONEY),
    "items_by_avg_qty": Definition(
        "Items by average quantity", "itemid", "Item", "avg_qty", "Average quantity per order line", AVERAGE
    ),
    "items_by_total_qty": Definition(
        "Items by total quantity", "itemid", "Item", "total_qty", "Total quantity", COUNT
    ),
    "items_by_turnover": Definition("Items by turnover", "itemid", "Item", "turnover", "Turnover", MONEY),
}
RANKING_NAMES = tuple(DEFINITIONS)
CONVERT = {MONEY: as_money, AVERAGE: float, COUNT: int}


def rankings(names, filters=OrderFilters(), source=ROLLUPS):
    """The named rankings, in the order given."""
    querysets, metrics = ranking_sources(filters, source)
    needed = {}  # key -> the metrics ranked by it
    for name in names:
        needed.setdefault(DEFINITIONS[name].key, {})[DEFINITIONS[name].metric] = None
    groups = {
        key: grouped_metrics(querysets[key], key, {metric: metrics[metric] for metric in wanted})
        for key, wanted in needed.items()
    }
    ranked = {
        name: top_groups(groups[DEFINITIONS[name].key], DEFINITIONS[name].key, DEFINITIONS[name].metric)
        for name in names
    }
    # The catalog lives in another database: one lookup labels every item ranking.
    names_of_items = item_names(
        key for name, rows in ranked.items() if DEFINITIONS[name].key == "itemid" for key, _ in rows
    )

    def label(definition, key):
        return state_name(key) if definition.key == "state" else item_label(key, names_of_items)

    result = []
    for name, rows in ranked.items():
        definition = DEFINITIONS[name]
        entries = [Entry(key, label(definition, key), CONVERT[definition.kind](value)) for key, value in rows]
        result.append(
            Ranking(
                name,
                definition.title,
                definition.key_heading,
                definition.value_heading,
                definition.kind,
                entries,
            )
        )
    return result


def all_rankings(filters=OrderFilters(), source=ROLLUPS):
    """The four rankings, in the order the dashboard shows them."""
    return rankings(RANKING_NAMES, filters, source)


def empty_rankings():
    """The four rankings with no entries: the page's frame when the figures can't be had."""
    return [
        Ranking(name, d.title, d.key_heading, d.value_heading, d.kind, []) for name, d in DEFINITIONS.items()
    ]
