"""The four top-5 rankings over the orders, as selectors returning plain data.

Every ranking sorts by value, highest first, breaking ties by key ascending so the same
data always gives the same list. Rows whose key is NULL are left out, and so are groups
whose value is unknown (every qty or price in them NULL).
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, DecimalField, F, Sum

from dashboard.catalog import item_label, item_names
from dashboard.models import Order
from dashboard.us_states import state_name

TOP = 5
CENTS = Decimal("0.01")

MONEY = "money"
AVERAGE = "average"
COUNT = "count"


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


def turnover():
    return Sum(F("qty") * F("price"), output_field=DecimalField())


def top_groups(key, metric, limit=TOP):
    """[(key, value)] of the `limit` groups of orders by `key` with the highest `metric`."""
    rows = (
        Order.objects.filter(**{f"{key}__isnull": False})
        .values(key)
        .annotate(value=metric)
        .filter(value__isnull=False)
        .order_by("-value", key)
        .values_list(key, "value")
    )
    return list(rows[:limit])


def as_money(value):
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def all_rankings():
    """The four rankings, in the order the dashboard shows them."""
    states = top_groups("state", turnover())
    avg_qty = top_groups("itemid", Avg("qty"))
    total_qty = top_groups("itemid", Sum("qty"))
    item_turnover = top_groups("itemid", turnover())

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
