"""The headline figures above the charts: turnover, orders, order lines and average order
value for the current filters, as a selector returning plain data.

They cover the lines with a known state, the lines the states ranking ranks, so the
headline turnover is the sum over every state. An order counts once per state and day it
has lines in: an order is one checkout, so that is simply the number of orders.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from dashboard.models import Order
from dashboard.rankings import RAW, ROLLUPS, as_money, raw_metrics, state_rollup


@dataclass(frozen=True)
class Headline:
    turnover: Decimal
    orders: int
    lines: int

    @property
    def average_order_value(self):
        return as_money(self.turnover / self.orders) if self.orders else None


def headline(filters, source=ROLLUPS):
    if source == RAW:
        orders = Order.objects.filter(state__isnull=False, **filters.lookups())
        totals = orders.aggregate(turnover=raw_metrics()["turnover"].value, lines=Count("*"))
        # Distinct orders per (state, day), summed: one DISTINCT over every (order, state, day)
        # of 10M lines spills a hash table for minutes; per day it sorts in seconds.
        per_day = orders.values("state", "dt").annotate(orders=Count("orderid", distinct=True))
        totals["orders"] = sum(row["orders"] for row in per_day)
    else:
        totals = state_rollup(filters).aggregate(
            turnover=Sum("turnover"), lines=Sum("lines"), orders=Sum("orders")
        )
    return Headline(
        turnover=as_money(totals["turnover"] or Decimal(0)),
        orders=int(totals["orders"] or 0),
        lines=int(totals["lines"] or 0),
    )
