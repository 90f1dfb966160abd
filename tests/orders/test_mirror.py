"""The rollups mirrored in each web process (dashboard/orders/mirror.py): committed writes of
every kind reach it through the database's notices, its answers equal the statements' and a
raw GROUP BY's, and it steps aside (the statements answer) whenever it cannot be sure."""

import datetime
import random
import time
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.orders import mirror
from dashboard.orders.selectors import (
    FROM_RAW,
    RANKING_NAMES,
    OlapUnavailable,
    OrderFilters,
    _figures_from_mirror,
    figures,
    previous_period,
    trend,
)
from tests.support.clusters import cluster
from tests.support.mirror import change_unannounced, settled
from tests.support.orders import insert_orders
from tests.support.reference import expected, expected_headline, turnover

OLAP = "olap"
COMMITTED = pytest.mark.django_db(transaction=True, databases=["default", OLAP, "catalog"])
TODAY = datetime.date(2026, 3, 1)
FIRST_DAY = datetime.date(2026, 1, 1)


def statements(filters):
    """figures() and trend() with the mirror off: from the statements, as before it."""
    with override_settings(RANKINGS_MIRROR_CELLS=0):
        return figures(filters), trend(filters, TODAY)


def covered_by(rows, filters):
    """The rows a date range covers (all time: every row, with a day or not)."""
    if filters.start is None and filters.end is None:
        return rows
    return [
        row
        for row in rows
        if row[4] is not None
        and (filters.start is None or row[4] >= filters.start)
        and (filters.end is None or row[4] <= filters.end)
    ]


def assert_mirror_agrees(filters_list, rows=None):
    """For each filters: the mirror's figures equal the statements' and the raw GROUP BY's
    rankings, its trend the statements' and, given the rows, a row-by-row reference."""
    mirrored = settled()
    for filters in filters_list:
        from_mirror = _figures_from_mirror(mirrored, filters, previous_period(filters), list(RANKING_NAMES))
        from_statements, trend_from_statements = statements(filters)
        assert from_mirror == from_statements, filters
        assert from_mirror.top == figures(filters, source=FROM_RAW).top, filters
        assert mirror.current() is mirrored  # nothing changed meanwhile: trend() reads it too
        assert trend(filters, TODAY) == trend_from_statements, filters
        if rows is not None:
            covered = covered_by(rows, filters)
            assert from_mirror.top["states_by_turnover"] == expected(covered, "state", turnover)
            assert from_mirror.headline == expected_headline(covered)


@pytest.mark.django_db(databases=[OLAP])
def test_averages_are_the_servers_floats(olap_cursor):
    """ratio_as_postgresql against PostgreSQL's own (a::numeric / b)::float8, for sizes and
    signs of every kind, and equal ratios the server rounds to different scales (12/11 and
    12000/11000)."""
    chooser = random.Random(20261208)
    pairs = [(12, 11), (12000, 11000), (1, 3), (10**17, 3), (-7, 2), (7, -2), (0, 5), (2**62, 2**61 + 1)]
    for _ in range(3000):
        digits = chooser.randint(1, 18)
        numerator = chooser.randint(-(10**digits), 10**digits)
        denominator = chooser.choice([1, 2, 3, 7, 9999, 10000, 10001]) * chooser.randint(
            1, 10 ** chooser.randint(0, 12)
        )
        pairs.append((numerator, denominator))
    olap_cursor.execute(
        "SELECT (a::numeric / b)::float8 "
        "FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS t(a, b, n) ORDER BY n",
        [[a for a, _ in pairs], [b for _, b in pairs]],
    )
    from_server = [value for (value,) in olap_cursor.fetchall()]
    assert [mirror.ratio_as_postgresql(a, b) for a, b in pairs] == from_server


DAYS = st.dates(min_value=FIRST_DAY, max_value=FIRST_DAY + datetime.timedelta(days=40))
ROW = st.tuples(
    st.integers(min_value=1, max_value=30),  # orderid
    st.integers(min_value=1, max_value=8),  # itemid
    st.one_of(st.none(), st.integers(min_value=0, max_value=9)),  # qty
    st.one_of(
        st.none(), st.integers(min_value=0, max_value=10**12).map(lambda cents: Decimal(cents).scaleb(-2))
    ),
    st.one_of(st.none(), DAYS),  # dt
    st.one_of(st.none(), st.sampled_from(["CA", "TX", "NY"])),  # state
)
RANGES = st.lists(st.tuples(st.one_of(st.none(), DAYS), st.one_of(st.none(), DAYS)), min_size=1, max_size=3)


@pytest.mark.slow
@COMMITTED
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(ROW, max_size=40, unique_by=lambda row: (row[0], row[1])),
    ranges=RANGES,
    split=st.integers(0, 40),
    dropped=st.integers(0, 40),
)
def test_the_mirror_answers_as_the_statements_after_any_committed_writes(
    empty_orders, rows, ranges, split, dropped
):
    """Orders committed in two statements, then some deleted and some changed: each commit
    reaches the mirror (days read again in place, or everything when a day or key is new),
    and its figures and trend equal the statements' and a raw GROUP BY's."""
    with connections[OLAP].cursor() as cursor:
        cursor.execute("TRUNCATE orders")
    insert_orders(rows[:split])
    insert_orders(rows[split:])
    filters = [OrderFilters(start=start, end=end) for start, end in ranges] + [OrderFilters()]
    assert_mirror_agrees(filters, rows)
    gone, changed = rows[:dropped:2], rows[1:dropped:2]
    with connections[OLAP].cursor() as cursor:
        for row in gone:
            cursor.execute("DELETE FROM orders WHERE orderid = %s AND itemid = %s", [row[0], row[1]])
        for row in changed:
            cursor.execute("UPDATE orders SET qty = 3 WHERE orderid = %s AND itemid = %s", [row[0], row[1]])
    kept = [row for row in rows if row not in gone]
    kept = [(*row[:2], 3, *row[3:]) if row in changed else row for row in kept]
    assert_mirror_agrees(filters, kept)


@COMMITTED
def test_a_commit_reaches_the_mirror_in_place_and_a_new_day_or_item_reads_everything(empty_orders):
    insert_orders(
        [
            (1, 1, 2, Decimal("10.00"), FIRST_DAY, "CA"),
            (2, 2, 1, Decimal("5.00"), FIRST_DAY + datetime.timedelta(days=9), "TX"),
        ]
    )
    before = settled()
    ten_days = OrderFilters(start=FIRST_DAY, end=FIRST_DAY + datetime.timedelta(days=9))
    insert_orders([(3, 1, 4, Decimal("1.50"), FIRST_DAY + datetime.timedelta(days=3), "TX")])
    in_place = settled()
    assert in_place is not before
    assert (in_place.first, in_place.days) == (before.first, before.days)  # read in place
    assert _figures_from_mirror(in_place, ten_days, None, ["items_by_total_qty"]).top == {
        "items_by_total_qty": [(1, 6), (2, 1)]
    }
    insert_orders(
        [(4, 9, 1, Decimal("2.00"), FIRST_DAY + datetime.timedelta(days=30), "NY")]
    )  # new item, new day
    everything = settled()
    assert everything.days == 31 and 9 in everything.items.keys
    assert_mirror_agrees(
        [ten_days, OrderFilters(start=FIRST_DAY + datetime.timedelta(days=20)), OrderFilters()]
    )
    with connections[OLAP].cursor() as cursor:
        cursor.execute("TRUNCATE orders")  # empties the rollups: "all"
    emptied = settled()
    assert _figures_from_mirror(emptied, OrderFilters(), None, list(RANKING_NAMES)).headline.lines == 0


@COMMITTED
def test_outside_a_transaction_figures_come_from_the_mirror(empty_orders, olap_cursor):
    insert_orders([(1, 1, 2, Decimal("10.00"), FIRST_DAY, "CA")])
    settled()
    # What figures() answers is the mirror's, which has not heard of the change.
    change_unannounced(olap_cursor)
    assert figures(OrderFilters()).headline.lines == 1
    assert statements(OrderFilters())[0].headline.lines == 99


@COMMITTED
def test_a_state_a_transaction_or_a_small_budget_read_the_statements(empty_orders, olap_cursor):
    insert_orders([(1, 1, 2, Decimal("10.00"), FIRST_DAY, "CA")])
    settled()
    change_unannounced(olap_cursor)
    assert figures(OrderFilters(state="CA")).headline.lines == 99
    with transaction.atomic(using=OLAP):
        assert mirror.current() is None
        assert figures(OrderFilters()).headline.lines == 99
    mirror.stop()
    with override_settings(RANKINGS_MIRROR_CELLS=1):
        deadline = time.monotonic() + 5
        while mirror.refused() is None and time.monotonic() < deadline:
            assert mirror.current() is None
            time.sleep(0.02)
        assert "more cells than RANKINGS_MIRROR_CELLS (1)" in mirror.refused()
        assert figures(OrderFilters()).headline.lines == 99
    mirror.stop()


@COMMITTED
@pytest.mark.parametrize("how", ["kill", "stop"])
def test_with_the_olap_server_down_nothing_is_answered_from_the_mirror(empty_orders, how):
    """pg_ctl stop (-m immediate too) while the mirror is current: the next answer is an
    outage (503), not the mirror's last figures; back up, the mirror reads everything again
    and agrees with the statements."""
    rows = [(1, 1, 2, Decimal("10.00"), FIRST_DAY, "CA"), (2, 3, 5, Decimal("0.99"), FIRST_DAY, "TX")]
    insert_orders(rows)
    settled()
    cluster(OLAP, how)
    try:
        with pytest.raises(OlapUnavailable):
            figures(OrderFilters())
        assert mirror.current() is None
    finally:
        cluster(OLAP, "start")
    insert_orders([(3, 1, 1, Decimal("1.00"), FIRST_DAY, "CA")])
    assert_mirror_agrees(
        [OrderFilters(), OrderFilters(start=FIRST_DAY, end=FIRST_DAY)],
        [*rows, (3, 1, 1, Decimal("1.00"), FIRST_DAY, "CA")],
    )


@COMMITTED
def test_changes_are_read_again_only_once_a_request_asks(empty_orders):
    """A process nobody asks spends nothing on a stream of writes: the notices make its
    mirror stale, and the days are read again when a request finds it so."""
    insert_orders([(1, 1, 2, Decimal("10.00"), FIRST_DAY, "CA")])
    settled()
    read = mirror.generation()
    insert_orders([(2, 1, 1, Decimal("1.00"), FIRST_DAY, "TX")])
    time.sleep(1)  # the notice has long arrived, and no request has asked
    assert mirror.generation() == read
    assert mirror.current() is None  # stale: the statements answer this one
    assert _figures_from_mirror(settled(), OrderFilters(), None, ["states_by_turnover"]).top == {
        "states_by_turnover": [("CA", Decimal("20.00")), ("TX", Decimal("1.00"))]
    }
    assert mirror.generation() > read


def test_notices_that_pile_up_are_merged_into_the_same_reads():
    notices = ["days 2026-01-05 2026-01-09", "totals", "sync a", "days 2025-12-30 2026-01-02", "sync b"]
    assert mirror.merged(notices) == ["days 2025-12-30 2026-01-09", "totals", "sync b"]
    assert mirror.merged([*notices, "all"]) == ["all", "sync b"]
