"""The comparison with the period just before, in /api/rankings/: headline.previous and each
entry's previous_rank, against a row-by-row computation over the orders."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.support.orders import insert_orders
from tests.support.reference import expected_headline, total_qty, turnover

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = reverse("dashboard:api-rankings")
D = datetime.date
CURRENT = {"start": "2026-03-01", "end": "2026-03-10"}  # 10 days: the previous is Feb 19-28
ROWS = [
    # the previous period: item 2 leads, items 1 and 3 tie on turnover (so ranked by id)
    (1, 2, 5, Decimal("10.00"), D(2026, 2, 19), "CA"),
    (2, 1, 2, Decimal("5.00"), D(2026, 2, 28), "TX"),
    (3, 3, 1, Decimal("10.00"), D(2026, 2, 25), "TX"),
    (4, 1, 1, Decimal("1.00"), D(2026, 2, 18), "NY"),  # the day before: in neither period
    # the current period: item 4 is new, item 2 falls behind
    (10, 1, 3, Decimal("20.00"), D(2026, 3, 1), "CA"),
    (11, 4, 2, Decimal("15.00"), D(2026, 3, 10), "WA"),
    (12, 2, 1, Decimal("1.00"), D(2026, 3, 5), "CA"),
    (13, 3, 1, Decimal("2.00"), D(2026, 3, 11), "CA"),  # the day after: in neither
]


def places(rows, key, value):
    """{key: 1-based place in the whole ranking}, highest value first, ties by key."""
    groups = defaultdict(list)
    for row in rows:
        group = {"state": row[5], "itemid": row[1]}[key]
        if group is not None:
            groups[group].append(row)
    values = {group: value(members) for group, members in groups.items() if value(members) is not None}
    ordered = sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))
    return {group: place for place, (group, _) in enumerate(ordered, start=1)}


def within(rows, first, last, state=None):
    return [row for row in rows if row[4] and first <= row[4] <= last and state in (None, row[5])]


def headline_json(headline):
    aov = headline.average_order_value
    return {
        "turnover": f"{headline.turnover:.2f}",
        "orders": headline.orders,
        "lines": headline.lines,
        "average_order_value": None if aov is None else f"{aov:.2f}",
    }


def test_a_range_is_compared_with_the_period_of_the_same_length_before_it(user_client):
    insert_orders(ROWS)
    body = user_client.get(URL, CURRENT).json()
    before = within(ROWS, D(2026, 2, 19), D(2026, 2, 28))
    assert body["headline"]["previous"] == headline_json(expected_headline(before))
    current = within(ROWS, D(2026, 3, 1), D(2026, 3, 10))
    assert {key: value for key, value in body["headline"].items() if key != "previous"} == headline_json(
        expected_headline(current)
    )
    for name, key, value in (
        ("items_by_turnover", "itemid", turnover),
        ("items_by_total_qty", "itemid", total_qty),
        ("states_by_turnover", "state", turnover),
    ):
        then = places(before, key, value)
        assert [(entry["key"], entry["previous_rank"]) for entry in body["rankings"][name]] == [
            (entry["key"], then.get(entry["key"])) for entry in body["rankings"][name]
        ], name
    by_item = {entry["key"]: entry["previous_rank"] for entry in body["rankings"]["items_by_turnover"]}
    assert by_item == {1: 2, 2: 1, 4: None}  # 1 and 3 tied before: 1 ranked first by id


def test_a_state_is_compared_within_that_state(user_client):
    insert_orders(ROWS)
    body = user_client.get(URL, {**CURRENT, "state": "TX"}).json()
    before = within(ROWS, D(2026, 2, 19), D(2026, 2, 28), "TX")
    assert body["headline"]["previous"] == headline_json(expected_headline(before))
    assert body["headline"]["orders"] == 0 and body["rankings"]["items_by_turnover"] == []


def test_all_time_and_open_ranges_have_no_comparison(user_client):
    insert_orders(ROWS)
    for query in ({}, {"start": "2026-03-01"}, {"end": "2026-03-10"}):
        body = user_client.get(URL, query).json()
        assert body["headline"]["previous"] is None, query
        assert {entry["previous_rank"] for entries in body["rankings"].values() for entry in entries} == {
            None
        }


def test_a_range_with_nothing_before_it(user_client):
    insert_orders(ROWS)
    body = user_client.get(URL, {"start": "2026-02-01", "end": "2026-02-10"}).json()  # Jan 22-31: empty
    assert body["headline"]["previous"] == {
        "turnover": "0.00",
        "orders": 0,
        "lines": 0,
        "average_order_value": None,
    }
    assert {entry["previous_rank"] for entries in body["rankings"].values() for entry in entries} <= {None}
