"""Property: for any orders and any date range and state, the rankings and headline figures
read from the rollups equal the raw answers exactly (money included), and both equal a
row-by-row computation."""

import datetime
from decimal import Decimal

import pytest
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.orders.selectors import FROM_RAW, FROM_ROLLUPS, OrderFilters, headline
from dashboard.web.rankings import all_rankings
from tests.support.orders import insert_orders
from tests.support.reference import avg_qty, expected, expected_headline, total_qty, turnover

FIRST_DAY = datetime.date(2026, 1, 1)
# Mostly a few weeks, so orders share days; sometimes half a year, so ranges span 64 days and
# more (read from the span rollups).
DAYS = st.one_of(
    st.dates(min_value=FIRST_DAY, max_value=FIRST_DAY + datetime.timedelta(days=20)),
    st.dates(
        min_value=FIRST_DAY - datetime.timedelta(days=90), max_value=FIRST_DAY + datetime.timedelta(days=90)
    ),
)
CENTS = st.integers(min_value=0, max_value=10**15)  # up to ten trillion dollars: floats lose the cents
ROW = st.tuples(
    st.integers(min_value=1, max_value=40),  # orderid
    st.integers(min_value=1, max_value=9),  # itemid
    st.one_of(st.none(), st.integers(min_value=0, max_value=50)),  # qty
    st.one_of(st.none(), CENTS.map(lambda cents: Decimal(cents).scaleb(-2))),  # price
    st.one_of(st.none(), DAYS),  # dt
    st.one_of(st.none(), st.sampled_from(["CA", "TX", "NY", "WA", "OR"])),  # state (may vary in an order)
)
# (orderid, itemid) is the key: keep the first row of each.
ORDERS = st.lists(ROW, max_size=60, unique_by=lambda row: (row[0], row[1]))
STATE_CODES = ["CA", "TX", "NY", "WA", "OR"]
FILTERS = st.tuples(
    st.one_of(st.none(), DAYS), st.one_of(st.none(), DAYS), st.one_of(st.none(), st.sampled_from(STATE_CODES))
)


def covered_by(rows, start, end, state):
    return [
        row
        for row in rows
        if (start is None or (row[4] is not None and row[4] >= start))
        and (end is None or (row[4] is not None and row[4] <= end))
        and (state is None or row[5] == state)
    ]


def as_pairs(rankings):
    return {ranking.name: [(entry.key, entry.value) for entry in ranking.entries] for ranking in rankings}


@pytest.mark.slow
@pytest.mark.django_db(databases=["default", "olap", "catalog"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ORDERS, filters=st.lists(FILTERS, min_size=1, max_size=4), split=st.integers(0, 60))
def test_rollups_equal_raw_for_any_orders_and_filters(rows, filters, split):
    with connections["olap"].cursor() as cursor:
        cursor.execute("TRUNCATE orders")  # hypothesis runs many examples in one test
    # In two statements, so a delta log holds several rows for one key.
    insert_orders(rows[:split])
    insert_orders(rows[split:])
    for start, end, state in filters:
        chosen = OrderFilters(start=start, end=end, state=state)
        from_rollups = as_pairs(all_rankings(chosen, source=FROM_ROLLUPS))
        from_raw = as_pairs(all_rankings(chosen, source=FROM_RAW))
        assert from_rollups == from_raw
        covered = covered_by(rows, start, end, state)
        assert (
            headline(chosen, source=FROM_ROLLUPS)
            == headline(chosen, source=FROM_RAW)
            == expected_headline(covered)
        )

        assert from_rollups["states_by_turnover"] == expected(covered, "state", turnover)
        assert from_rollups["items_by_turnover"] == expected(covered, "itemid", turnover)
        assert from_rollups["items_by_total_qty"] == expected(covered, "itemid", total_qty)
        assert [key for key, _ in from_rollups["items_by_avg_qty"]] == [
            key for key, _ in expected(covered, "itemid", avg_qty)
        ]
