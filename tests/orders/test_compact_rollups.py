"""manage.py compact_rollups folds the delta-log rollups to one row per key, keeping what
they add up to, also while another client is writing orders."""

import io

import pytest
from django.core.management import call_command
from django.db import connections

from dashboard.orders.schema import ROLLUPS
from tests.support.orders import another_client, insert_orders
from tests.support.rollups import D2, ROWS, assert_rollups_match_orders

DELTA_LOGS = [rollup for rollup in ROLLUPS if rollup.delta_log]
INSERT = "INSERT INTO orders (orderid, itemid, qty, price, dt, state) VALUES (%s, %s, %s, %s, %s, %s)"


def execute(sql, params=None):
    with connections["olap"].cursor() as cursor:
        cursor.execute(sql, params)


def log_shape(rollup):
    """(rows, distinct keys, rows whose lines are zero) of a delta log."""
    keys = ", ".join(rollup.keys)
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(DISTINCT ({keys})), count(*) FILTER (WHERE lines = 0) FROM {rollup.name}"
        )
        return cursor.fetchone()


def compact():
    out = io.StringIO()
    call_command("compact_rollups", stdout=out)
    return out.getvalue()


@pytest.mark.django_db(databases=["olap"])
def test_each_key_ends_in_one_row_and_the_sums_stay():
    assert DELTA_LOGS
    insert_orders(ROWS)  # one statement per row: a run of rows per key
    execute("UPDATE orders SET qty = qty + 1 WHERE itemid = 1")
    execute("UPDATE orders SET state = 'NY', dt = %s WHERE orderid = 1", [D2])
    execute("DELETE FROM orders WHERE orderid = 6")  # its key is left summing to zero
    shapes = {rollup.name: log_shape(rollup) for rollup in DELTA_LOGS}
    assert all(rows > keys for rows, keys, _ in shapes.values())

    output = compact()

    for rollup in DELTA_LOGS:
        rows, keys, zero = log_shape(rollup)
        assert rows == keys and zero == 0, rollup.name
        assert rows < shapes[rollup.name][1]  # the emptied key is gone too
        assert f"{rollup.name}: {shapes[rollup.name][0]:,} rows folded into {rows:,}" in output
    assert_rollups_match_orders()
    compact()  # again: nothing changes
    assert_rollups_match_orders()


@pytest.mark.django_db(databases=["olap"], transaction=True)
def test_orders_written_by_another_client_meanwhile_are_neither_lost_nor_counted_twice(empty_orders):
    insert_orders(ROWS[:4])
    with another_client() as cursor:
        # Its rows (and the trigger's deltas) are uncommitted while the compaction runs.
        cursor.executemany(INSERT, ROWS[4:])
        compact()
    assert_rollups_match_orders()
    compact()
    assert_rollups_match_orders()
