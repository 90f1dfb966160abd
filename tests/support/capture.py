"""Change data capture in tests: the shop's orders written by a plain client of the shop's
(OLTP) test database, and waiting until the OLAP side has them."""

import time

from django.db import connections

from dashboard.orders import capture
from tests.support.orders import COLUMNS, another_client

SHOP, OLAP = "default", "olap"


def shop_client():
    """A cursor on a connection of its own to the shop's database, committing on exit: the
    shop's own software, which knows nothing of this project."""
    return another_client(SHOP)


def shop_insert(rows):
    with shop_client() as cursor:
        cursor.executemany(
            f"INSERT INTO orders ({', '.join(COLUMNS)}) VALUES (%s, %s, %s, %s, %s, %s)", list(rows)
        )


def shop_orders():
    with shop_client() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM orders ORDER BY orderid, itemid")
        return cursor.fetchall()


def applied(timeout=60):
    """Wait until everything the shop committed so far has been applied on the OLAP side
    (the heartbeat stamped now has arrived there)."""
    with shop_client() as cursor:
        cursor.execute(
            "INSERT INTO cdc_heartbeat (id, beat) VALUES (1, clock_timestamp()) "
            "ON CONFLICT (id) DO UPDATE SET beat = EXCLUDED.beat RETURNING beat"
        )
        (stamp,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while True:
        with connections[OLAP].cursor() as cursor:
            cursor.execute("SELECT max(beat) FROM cdc_heartbeat")
            (reached,) = cursor.fetchone()
        if reached is not None and reached >= stamp:
            return stamp
        assert time.monotonic() < deadline, f"changes not applied within {timeout} s"
        time.sleep(0.02)


def synced(timeout=60):
    """Applied and folded into the rollups, as `manage.py cdc_worker` would."""
    stamp = applied(timeout)
    capture.fold(connections[OLAP])
    return stamp


def folded_up_to(stamp, timeout=60):
    """Wait until a running cdc_worker has folded everything committed before `stamp`."""
    seconds = capture.wait_until_caught_up(connections[OLAP], "postgresql", stamp, timeout=timeout)
    assert seconds is not None, f"not folded within {timeout} s"
    return seconds


def assert_olap_matches(rows):
    """The OLAP side holds exactly the shop's `rows`, and every rollup, ranking and headline
    figure equals what a row-by-row computation over them gives."""
    import datetime

    from dashboard.orders.schema import ROLLUPS
    from dashboard.orders.selectors import OrderFilters, headline
    from dashboard.web.rankings import all_rankings
    from tests.support.orders import all_orders
    from tests.support.reference import expected, expected_headline, expected_rollup, total_qty, turnover
    from tests.support.rollups import stored_rollup

    assert all_orders() == sorted(rows)
    for rollup in ROLLUPS:
        assert stored_rollup(rollup) == expected_rollup(rollup, rows), rollup.name
    some_days = OrderFilters(start=datetime.date(2026, 4, 2), end=datetime.date(2026, 4, 30))
    for filters in (OrderFilters(), OrderFilters(state="CA"), some_days):
        covered = [
            row
            for row in rows
            if (filters.state is None or row[5] == filters.state)
            and (filters.start is None or (row[4] is not None and filters.start <= row[4] <= filters.end))
        ]
        figures = {
            ranking.name: [(e.key, e.value) for e in ranking.entries] for ranking in all_rankings(filters)
        }
        assert figures["states_by_turnover"] == expected(covered, "state", turnover)
        assert figures["items_by_turnover"] == expected(covered, "itemid", turnover)
        assert figures["items_by_total_qty"] == expected(covered, "itemid", total_qty)
        assert headline(filters) == expected_headline(covered)
