"""Expected values computed row by row in plain Python, independently of the project's SQL,
for tests of the rankings and the rollups to compare against."""

import datetime
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from dashboard.orders.spans import STORED_SPAN_DAYS


def expected(rows, key, value, limit=5):
    """Top `limit` (key, value) by value desc then key asc, computed row by row in Python."""
    groups = defaultdict(list)
    for row in rows:
        group = {"state": row[5], "itemid": row[1]}[key]
        if group is not None:
            groups[group].append(row)
    values = {}
    for group, members in groups.items():
        result = value(members)
        if result is not None:
            values[group] = result
    return sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]


def places(rows, key, value):
    """{key: 1-based place in the whole ranking}, by the same order as `expected`."""
    everyone = expected(rows, key, value, limit=None)
    return {group: place for place, (group, _) in enumerate(everyone, start=1)}


def turnover(rows):
    known = [row[2] * row[3] for row in rows if row[2] is not None and row[3] is not None]
    return sum(known, Decimal(0)) if known else None


def total_qty(rows):
    known = [row[2] for row in rows if row[2] is not None]
    return sum(known) if known else None


def avg_qty(rows):
    known = [row[2] for row in rows if row[2] is not None]
    return Fraction(sum(known), len(known)) if known else None


def expected_headline(rows):
    """Headline over the rows with a known state: turnover to the cent, orders counted once
    per (order, state, day), lines."""
    from dashboard.orders.selectors import Headline  # the plain result type, nothing computed by it

    with_state = [row for row in rows if row[5] is not None]
    known = turnover(with_state) or Decimal(0)
    return Headline(
        turnover=known.quantize(Decimal("0.01")),
        orders=len({(row[0], row[5], row[4]) for row in with_state}),
        lines=len(with_state),
    )


def rollup_keys(rollup, line):
    """The keys a line ({column: value}) is counted under in `rollup`: one, or for a span
    rollup one per span length it stores, the span's first day counted here from the day's
    ordinal (0001-01-01 is day 0 of every length)."""
    if rollup.spans is None:
        return [tuple(line[name] for name in rollup.keys)]
    day, others = line["dt"], tuple(line[name] for name in rollup.keys[2:])
    if day is None:
        return [(None,)]
    return [
        (datetime.date.fromordinal((day.toordinal() - 1) // days * days + 1), days, *others)
        for days in STORED_SPAN_DAYS
    ]


def expected_rollup(rollup, rows):
    """The rollup computed row by row in Python: {key tuple: measures}."""
    columns = {"orderid": 0, "itemid": 1, "qty": 2, "price": 3, "dt": 4, "state": 5}
    groups = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])
    orders = defaultdict(set)  # the distinct (order, day, state) of each group
    for row in rows:
        if any(row[columns[name]] is None for name in rollup.also_known):
            continue
        for key in rollup_keys(rollup, {name: row[index] for name, index in columns.items()}):
            if None in key:
                continue
            qty, price = row[2], row[3]
            measures = groups[key]
            measures[0] += 1
            if qty is not None:
                measures[1] += qty
                measures[2] += 1
                if price is not None:
                    measures[3] += qty * price
                    measures[4] += 1
            orders[key].add((row[0], row[4], row[5]))  # counted per state and day, as the headline
    if rollup.counts_orders:
        return {key: (*values, len(orders[key])) for key, values in groups.items()}
    return {key: tuple(values) for key, values in groups.items()}
