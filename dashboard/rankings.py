"""The four top-5 rankings over the orders, as selectors returning plain data.

Every ranking sorts by value, highest first, breaking ties by key ascending so the same
data always gives the same list. Rows whose key is NULL are left out, and so are groups
whose value is unknown (every qty or price in them NULL).

The dashboard reads the rollups (dashboard/olap/schema.py): all-time ones without a date
filter, day-grain ones with one. The raw GROUP BY over `orders` stays as the reference that
tests and the benchmark compare against; both give exactly the same answers.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, DecimalField, ExpressionWrapper, F, FloatField, Sum
from django.db.models.functions import NullIf

from dashboard.catalog import item_label, item_names
from dashboard.models import ItemDay, ItemTotal, Order, StateDay, StateTotal
from dashboard.us_states import state_name

TOP = 5
CENTS = Decimal("0.01")

MONEY = "money"
AVERAGE = "average"
COUNT = "count"

ROLLUPS = "rollups"
RAW = "raw"

RANKING_NAMES = ("states_by_turnover", "items_by_avg_qty", "items_by_total_qty", "items_by_turnover")


@dataclass(frozen=True)
class OrderFilters:
    """Which orders the rankings cover: order dates from start to end, both inclusive."""

    start: date | None = None
    end: date | None = None

    def as_dict(self):
        return {"start": self.start and self.start.isoformat(), "end": self.end and self.end.isoformat()}

    def date_range(self):
        lookups = {}
        if self.start:
            lookups["dt__gte"] = self.start
        if self.end:
            lookups["dt__lte"] = self.end
        return lookups


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
    """(orders by state, orders by item, metrics) to rank from."""
    in_range = filters.date_range()
    if source == RAW:
        orders = Order.objects.filter(**in_range)
        return orders, orders, raw_metrics()
    if in_range:
        return StateDay.objects.filter(**in_range), ItemDay.objects.filter(**in_range), rollup_metrics()
    return StateTotal.objects.all(), ItemTotal.objects.all(), rollup_metrics()


def top_groups(queryset, key, metric, limit=TOP):
    """[(key, value)] of the `limit` groups by `key` with the highest known `metric`."""
    rows = (
        queryset.filter(**{f"{key}__isnull": False})
        .values(key)
        .annotate(value=metric.value, known=metric.known)
        .filter(known__gt=0)
        .order_by("-value", key)
        .values_list(key, "value")
    )
    return list(rows[:limit])


def as_money(value):
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def all_rankings(filters=OrderFilters(), source=ROLLUPS):
    """The four rankings, in the order the dashboard shows them."""
    by_state, by_item, metrics = ranking_sources(filters, source)
    states = top_groups(by_state, "state", metrics["turnover"])
    avg_qty = top_groups(by_item, "itemid", metrics["avg_qty"])
    total_qty = top_groups(by_item, "itemid", metrics["total_qty"])
    item_turnover = top_groups(by_item, "itemid", metrics["turnover"])

    # The catalog lives in another database: one lookup labels all three item rankings.
    names = item_names(key for rows in (avg_qty, total_qty, item_turnover) for key, _ in rows)

    def items(rows, convert):
        return [Entry(key, item_label(key, names), convert(value)) for key, value in rows]

    return [
        Ranking(
            "states_by_turnover",
            "States by turnover",
            "State",
            "Turnover",
            MONEY,
            [Entry(code, state_name(code), as_money(value)) for code, value in states],
        ),
        Ranking(
            "items_by_avg_qty",
            "Items by average quantity",
            "Item",
            "Average quantity per order line",
            AVERAGE,
            items(avg_qty, float),
        ),
        Ranking(
            "items_by_total_qty",
            "Items by total quantity",
            "Item",
            "Total quantity",
            COUNT,
            items(total_qty, int),
        ),
        Ranking(
            "items_by_turnover",
            "Items by turnover",
            "Item",
            "Turnover",
            MONEY,
            items(item_turnover, as_money),
        ),
    ]
