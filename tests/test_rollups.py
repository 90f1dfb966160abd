"""On PostgreSQL the rollups are tables kept current by triggers on `orders`: after any
write they must hold exactly what a from-scratch aggregation of the orders gives."""

import datetime
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest
from django.db import connections

from dashboard.olap.loading import OrderLines, load_postgresql
from dashboard.olap.schema import ROLLUPS
from tests.orders import all_orders, insert_orders

D1, D2, D3 = datetime.date(2026, 4, 1), datetime.date(2026, 4, 2), datetime.date(2026, 4, 3)
ROWS = [
    (1, 1, 2, Decimal("10.50"), D1, "CA"),
    (1, 2, 1, Decimal("3.25"), D1, "CA"),
    (2, 1, None, Decimal("9.99"), D1, "TX"),  # unknown qty
    (3, 3, 4, None, D2, "TX"),  # unknown price
    (4, 2, 5, Decimal("1.00"), None, "NY"),  # unknown date: only in all-time rollups
    (5, 1, 1, Decimal("2.00"), D3, None),  # unknown state: only in item rollups
    (6, 3, 7, Decimal("123456789012.34"), D3, "CA"),
]


def expected_rollup(rollup, rows):
    """The rollup computed row by row in Python: {key tuple: measures}."""
    columns = {"orderid": 0, "itemid": 1, "qty": 2, "price": 3, "dt": 4, "state": 5}
    groups = defaultdict(lambda: [0, 0, 0, Decimal(0), 0])
    for row in rows:
        key = tuple(row[columns[name]] for name in rollup.keys)
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
    return {key: tuple(values) for key, values in groups.items()}


def stored_rollup(rollup):
    keys = len(rollup.keys)
    with connections["olap"].cursor() as cursor:
        cursor.execute(f"SELECT * FROM {rollup.name}")
        rows = cursor.fetchall()
    # After deletes a group can be left with nothing in it: all its measures must be zero.
    empty = [row for row in rows if row[keys] == 0]
    assert all(set(row[keys:]) == {0} for row in empty), empty
    return {row[:keys]: row[keys:] for row in rows if row[keys] != 0}


def assert_rollups_match_orders():
    rows = all_orders()
    for rollup in ROLLUPS:
        assert stored_rollup(rollup) == expected_rollup(rollup, rows), rollup.name


pytestmark = pytest.mark.django_db(databases=["olap"])


def execute(sql, params=None):
    with connections["olap"].cursor() as cursor:
        cursor.execute(sql, params)


def test_inserts_in_several_statements():
    insert_orders(ROWS[:3])
    assert_rollups_match_orders()
    insert_orders(ROWS[3:])
    assert_rollups_match_orders()


def test_updates_move_lines_between_groups():
    insert_orders(ROWS)
    execute("UPDATE orders SET state = 'NY', dt = %s WHERE orderid = 1", [D2])
    execute("UPDATE orders SET qty = qty + 1 WHERE itemid = 1")
    execute("UPDATE orders SET price = 4.20 WHERE orderid = 3")
    execute("UPDATE orders SET state = NULL, qty = NULL WHERE orderid = 6")
    assert_rollups_match_orders()


def test_deletes_take_lines_out():
    insert_orders(ROWS)
    execute("DELETE FROM orders WHERE orderid IN (1, 4)")
    assert_rollups_match_orders()
    execute("DELETE FROM orders")
    assert_rollups_match_orders()


def test_truncate_empties_every_rollup():
    insert_orders(ROWS)
    execute("TRUNCATE orders")
    for rollup in ROLLUPS:
        assert stored_rollup(rollup) == {}


def test_a_bulk_copy_is_rolled_up_too():
    insert_orders(ROWS)
    rng = np.random.default_rng(3)
    count = 5000
    lines = OrderLines(
        orderid=np.arange(100, 100 + count, dtype=np.int64),
        itemid=rng.integers(1, 30, size=count).astype(np.int32),
        qty=rng.integers(1, 9, size=count).astype(np.int32),
        price_cents=rng.integers(1, 10**7, size=count),
        dt=np.datetime64("2026-04-01") + rng.integers(0, 20, size=count).astype("timedelta64[D]"),
        state=rng.choice(np.array([b"CA", b"TX", b"WA"]), size=count),
    )
    load_postgresql(connections["olap"], [lines])
    assert_rollups_match_orders()
