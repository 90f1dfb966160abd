"""On PostgreSQL the rollups are tables kept current by triggers on `orders`: after any
write they must hold exactly what a from-scratch aggregation of the orders gives."""

import numpy as np
import pytest
from django.db import connections

from dashboard.olap.loading import OrderLines, load_postgresql
from dashboard.olap.schema import ROLLUPS
from tests.orders import insert_orders
from tests.rollups import D2, ROWS, assert_rollups_match_orders, stored_rollup

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
