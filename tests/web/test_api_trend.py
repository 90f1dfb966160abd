"""GET /api/trend/ and /api/trend.csv: turnover and orders per day, week or month, checked
against a row-by-row computation over the orders (lines with a known state, as the
headline; an order counted once per state and day)."""

import csv
import datetime
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.support.orders import as_prepared, insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = reverse("dashboard:api-trend")
D = datetime.date


def expected_points(rows, first, last, start_of, step, state=None):
    """[(bucket start, turnover, orders)] from `first`'s bucket to `last`'s, zeros included."""
    turnover, orders = defaultdict(Decimal), defaultdict(set)
    for orderid, _, qty, price, dt, row_state in rows:
        if row_state is None or dt is None or not first <= dt <= last or state not in (None, row_state):
            continue
        bucket = start_of(dt)
        orders[bucket].add((orderid, row_state, dt))
        if qty is not None and price is not None:
            turnover[bucket] += qty * price
    points, current = [], start_of(first)
    while current <= last:
        points.append((current.isoformat(), f"{turnover[current]:.2f}", len(orders[current])))
        current = step(current)
    return points


def monday(day):
    return day - datetime.timedelta(days=day.weekday())


def first_of_month(day):
    return day.replace(day=1)


def next_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


# bucket -> (its first day for a day, the next bucket's first day)
BUCKETS = {
    "day": (lambda day: day, lambda day: day + datetime.timedelta(days=1)),
    "week": (monday, lambda day: day + datetime.timedelta(days=7)),
    "month": (first_of_month, next_month),
}


def expected_bucket(first, last):
    """The narrowest bucket that keeps the range within 120 points, counted independently."""
    for bucket in ("day", "week"):
        start_of, step = BUCKETS[bucket]
        count, current = 0, start_of(first)
        while current <= last:
            count, current = count + 1, step(current)
        if count <= 120:
            return bucket
    return "month"


ROWS = [
    (1, 1, 2, Decimal("10.50"), D(2026, 1, 28), "CA"),
    (1, 2, 1, Decimal("3.25"), D(2026, 1, 28), "CA"),
    (2, 1, 3, Decimal("9.99"), D(2026, 1, 31), "TX"),
    (3, 3, None, Decimal("4.00"), D(2026, 2, 2), "TX"),  # unknown qty: an order, no turnover
    (4, 2, 5, Decimal("1.00"), D(2026, 2, 3), None),  # unknown state: not counted
    (5, 1, 1, Decimal("123456789012.34"), D(2026, 2, 9), "CA"),
    (6, 3, 7, Decimal("2.00"), D(2025, 6, 14), "NY"),
]


def as_points(body):
    return [(point["start"], point["turnover"], point["orders"]) for point in body["points"]]


def test_days_with_empty_ones_as_zero_across_a_month_end(user_client):
    insert_orders(ROWS)
    body = user_client.get(URL, {"start": "2026-01-27", "end": "2026-02-04"}).json()
    assert body["bucket"] == "day"
    assert as_points(body) == expected_points(ROWS, D(2026, 1, 27), D(2026, 2, 4), *BUCKETS["day"])
    assert as_points(body)[1] == ("2026-01-28", "24.25", 1)  # two lines, one order
    assert body["filters"] == {"start": "2026-01-27", "end": "2026-02-04", "state": None}


def test_long_ranges_take_weeks_then_months_partial_buckets_included(user_client):
    insert_orders(ROWS)
    weekly = user_client.get(URL, {"start": "2025-06-11", "end": "2026-02-10"}).json()  # 245 days
    assert weekly["bucket"] == "week" and len(weekly["points"]) <= 120
    assert as_points(weekly) == expected_points(ROWS, D(2025, 6, 11), D(2026, 2, 10), *BUCKETS["week"])
    assert weekly["points"][0]["start"] == "2025-06-09"  # the Monday of a partial first week
    monthly = user_client.get(URL, {"start": "2023-03-15", "end": "2026-02-10"}).json()
    assert monthly["bucket"] == "month" and len(monthly["points"]) == 36
    assert as_points(monthly) == expected_points(
        ROWS, D(2023, 3, 15), D(2026, 2, 10), first_of_month, next_month
    )


def test_a_state_filter_and_the_open_ends(user_client):
    insert_orders(ROWS)
    body = user_client.get(URL, {"state": "ca"}).json()  # from the first order in CA to today
    today = timezone.localdate()
    assert body["start"] == "2026-01-28" and body["end"] == today.isoformat()
    expected = expected_points(
        ROWS, D(2026, 1, 28), today, monday, lambda day: day + datetime.timedelta(days=7), "CA"
    )
    if body["bucket"] == "week":
        assert as_points(body) == expected
    assert sum(Decimal(point["turnover"]) for point in body["points"]) == Decimal("123456789036.59")


def test_no_orders_and_bad_filters(user_client):
    assert user_client.get(URL).json()["points"] == []
    assert user_client.get(URL, {"start": "2026-13-01"}).status_code == 400
    assert Client().get(URL).status_code == 401  # not logged in


def test_the_csv_has_the_same_points(user_client):
    insert_orders(ROWS)
    query = {"start": "2026-01-27", "end": "2026-02-04"}
    body = user_client.get(URL, query).json()
    response = user_client.get(reverse("dashboard:api-trend-csv"), query)
    assert response["Content-Disposition"] == 'attachment; filename="trend-2026-01-27-2026-02-04.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["start", "turnover", "orders", "partial"]
    assert [(start, turnover, int(orders)) for start, turnover, orders, _ in rows[1:]] == as_points(body)
    assert [partial for *_, partial in rows[1:]] == ["false"] * len(body["points"])  # days


def test_ranges_of_centuries_keep_to_the_months_with_orders(user_client):
    insert_orders(ROWS)
    body = user_client.get(URL, {"start": "0001-01-01", "end": "9999-12-31"}).json()
    # From the first order (June 14th, 2025) to today: the empty centuries are left out.
    today = timezone.localdate()
    bucket = expected_bucket(D(2025, 6, 14), today)
    assert (body["bucket"], body["start"], body["end"]) == (bucket, "2025-06-14", today.isoformat())
    assert as_points(body) == expected_points(ROWS, D(2025, 6, 14), today, *BUCKETS[bucket])


def test_without_a_state_one_row_a_day_is_read_and_agrees_with_the_states(user_client):
    # An order with lines in two states counts in each, as the headline counts it, and a
    # line with no state is left out: the per-day rollup sums what the per-state ones hold.
    rows = [
        *ROWS,
        (7, 1, 1, Decimal("5.00"), D(2026, 2, 5), "CA"),
        (7, 2, 2, Decimal("1.50"), D(2026, 2, 5), "TX"),
        (8, 2, 1, Decimal("7.00"), D(2026, 2, 5), None),
    ]
    insert_orders(rows)
    with CaptureQueriesContext(connections["olap"]) as sent:
        body = user_client.get(URL, {"start": "2026-01-27", "end": "2026-02-09"}).json()
    assert as_points(body) == expected_points(rows, D(2026, 1, 27), D(2026, 2, 9), *BUCKETS["day"])
    assert ("2026-02-05", "8.00", 2) in as_points(body)
    (statement,) = [
        as_prepared(query["sql"])
        for query in sent.captured_queries
        if "orders_rollups_version" not in query["sql"]
    ]
    assert '"orders_day"' in statement and "orders_state_day" not in statement


def test_all_time_runs_from_the_first_order_to_today(user_client):
    # What the page asks by default: no filters at all, bucketed by the server over the days
    # from the first order on.
    insert_orders(ROWS)
    body = user_client.get(URL).json()
    today = timezone.localdate()
    bucket = expected_bucket(D(2025, 6, 14), today)
    assert (body["bucket"], body["start"], body["end"]) == (bucket, "2025-06-14", today.isoformat())
    assert as_points(body) == expected_points(ROWS, D(2025, 6, 14), today, *BUCKETS[bucket])


def answered(client, query):
    """(the JSON of one trend answer, the OLAP statements it sent besides the change marker)."""
    with CaptureQueriesContext(connections["olap"]) as sent:
        body = client.get(URL, query).json()
    return body, [
        query["sql"] for query in sent.captured_queries if "orders_rollups_version" not in query["sql"]
    ]


def test_an_open_start_is_one_statement_unless_its_bucket_changed(user_client):
    # The first day with orders decides the bucket; the statement that asks it sums the
    # buckets the last open start took, and a trend that needs others asks again.
    insert_orders(ROWS)
    today = timezone.localdate()
    first = D(2025, 6, 14)
    in_days = {"end": "2025-07-01"}  # 18 days from the first order: days
    answered(user_client, in_days)
    body, statements = answered(user_client, in_days)
    assert body["bucket"] == "day" and len(statements) == 1, statements
    assert as_points(body) == expected_points(ROWS, first, D(2025, 7, 1), *BUCKETS["day"])
    # To today: more than 120 days, so not days: asked again, and right.
    bucket = expected_bucket(first, today)
    body, statements = answered(user_client, {})
    assert body["bucket"] == bucket and len(statements) == 2, statements
    assert as_points(body) == expected_points(ROWS, first, today, *BUCKETS[bucket])
    # And from then on in one statement again.
    body, statements = answered(user_client, {})
    assert len(statements) == 1, statements
    assert as_points(body) == expected_points(ROWS, first, today, *BUCKETS[bucket])
    # A range of centuries from the first order is kept to the months with orders, as ever.
    body, _ = answered(user_client, {"end": "9999-12-31"})
    bucket = expected_bucket(first, today)
    assert (body["bucket"], body["start"], body["end"]) == (bucket, first.isoformat(), today.isoformat())
    assert as_points(body) == expected_points(ROWS, first, today, *BUCKETS[bucket])
