"""Sample rows and the check that the stored rollups hold what the orders add up to."""

import datetime
from decimal import Decimal

from django.db import connections

from dashboard.orders.schema import ROLLUPS
from dashboard.orders.session import without_statement_timeout
from tests.support.orders import all_orders
from tests.support.reference import expected_rollup

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


def stored_rollup(rollup):
    """{key tuple: measures}, summed per key: a delta log holds several rows per key."""
    keys = len(rollup.keys)
    key_list = ", ".join(rollup.keys)
    sums = ", ".join(f"SUM({measure})" for measure in rollup.measures)
    olap = connections["olap"]
    # A reference check, not a page view: the site's statement timeout is not for it (a delta
    # log after reloads, on a busy machine, may take longer than a request may).
    with without_statement_timeout(olap), olap.cursor() as cursor:
        cursor.execute(f"SELECT {key_list}, {sums} FROM {rollup.name} GROUP BY {key_list}")
        rows = cursor.fetchall()
    # After deletes a group can be left with nothing in it: all its measures must be zero.
    empty = [row for row in rows if row[keys] == 0]
    assert all(set(row[keys:]) == {0} for row in empty), empty
    return {row[:keys]: row[keys:] for row in rows if row[keys] != 0}


def assert_rollups_match_orders():
    rows = all_orders()
    for rollup in ROLLUPS:
        assert stored_rollup(rollup) == expected_rollup(rollup, rows), rollup.name
