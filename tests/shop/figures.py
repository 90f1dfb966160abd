"""The dashboard's figures against the lines a test computed itself from a shop's tables.

Lines are (orderid, itemid, qty, price, dt, state, amount), price None: a shop's line states
its amount. Everything here is plain Python over those lines, independent of the SQL it checks.
"""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from django.db import connections

from dashboard.orders.schema import ROLLUPS
from dashboard.orders.selectors import Headline, OrderFilters, headline
from dashboard.web.rankings import all_rankings
from tests.support.reference import rollup_keys
from tests.support.rollups import stored_rollup

COLUMNS = {"orderid": 0, "itemid": 1, "qty": 2, "dt": 4, "state": 5}


def line_order(line):
    """Sort key for lines (an item may be None)."""
    return (line[0], line[1] is None, line[1] or 0)


def held_lines():
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT orderid, itemid, qty, price, dt, state, amount FROM orders")
        return sorted(cursor.fetchall(), key=line_order)


def rollup_of(rollup, lines):
    groups = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])
    orders = defaultdict(set)
    for line in lines:
        if any(line[COLUMNS[name]] is None for name in rollup.also_known):
            continue
        for key in rollup_keys(rollup, {name: line[index] for name, index in COLUMNS.items()}):
            if None in key:
                continue
            measures = groups[key]
            measures[0] += 1
            measures[1] += line[2]
            measures[2] += 1
            measures[3] += line[6]
            measures[4] += 1
            orders[key].add((line[0], line[4], line[COLUMNS["state"]]))  # per state and day
    if rollup.counts_orders:
        return {key: (*values, len(orders[key])) for key, values in groups.items()}
    return {key: tuple(values) for key, values in groups.items()}


def cents(value):
    """Money as shown: to the cent, half up."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def top(lines, key, value, shown=lambda value: value):
    """The top 5 (key, value) ranked by the exact value, ties by key; values as `shown`."""
    groups = defaultdict(list)
    for line in lines:
        group = line[COLUMNS[key]]
        if group is not None:
            groups[group].append(line)
    values = {group: value(members) for group, members in groups.items()}
    ranked = sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))[:5]
    return [(group, shown(result)) for group, result in ranked]


def turnover(lines):
    return sum((line[6] for line in lines), Decimal(0))


def expected_headline(lines):
    with_state = [line for line in lines if line[5] is not None]
    return Headline(
        turnover=cents(sum((line[6] for line in with_state), Decimal(0))),
        orders=len({(line[0], line[5], line[4]) for line in with_state}),
        lines=len(with_state),
    )


def assert_dashboard_equals(lines, some_days=(datetime.date(2026, 4, 1), datetime.date(2026, 4, 2))):
    """The OLAP lines, every rollup, the rankings and the headline equal `lines`'."""
    lines = sorted(lines, key=line_order)
    held = held_lines()
    assert held == lines, f"held {held}\nexpected {lines}"
    for rollup in ROLLUPS:
        assert stored_rollup(rollup) == rollup_of(rollup, lines), rollup.name
    for filters in (
        OrderFilters(),
        OrderFilters(state="CA"),
        OrderFilters(start=some_days[0], end=some_days[1]),
    ):
        covered = [
            line
            for line in lines
            if (filters.state is None or line[5] == filters.state)
            and (filters.start is None or (line[4] is not None and filters.start <= line[4] <= filters.end))
        ]
        figures = {r.name: [(e.key, e.value) for e in r.entries] for r in all_rankings(filters)}
        assert figures["states_by_turnover"] == top(covered, "state", turnover, cents)
        assert figures["items_by_turnover"] == top(covered, "itemid", turnover, cents)
        assert figures["items_by_total_qty"] == top(covered, "itemid", lambda ls: sum(line[2] for line in ls))
        # An average is a float on screen: equal to the exact one but for its last digit.
        average = top(covered, "itemid", lambda ls: Fraction(sum(line[2] for line in ls), len(ls)), float)
        assert [key for key, _ in figures["items_by_avg_qty"]] == [key for key, _ in average]
        assert [value for _, value in figures["items_by_avg_qty"]] == pytest.approx(
            [v for _, v in average], rel=1e-12
        )
        assert headline(filters) == expected_headline(covered)
