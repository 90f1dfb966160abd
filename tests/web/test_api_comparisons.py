"""The comparison with the period just before, in /api/rankings/: headline.previous and each
entry's previous_rank, against a row-by-row computation over the orders."""

import datetime

import pytest
from django.urls import reverse

from tests.support.orders import insert_orders
from tests.support.periods import CURRENT, ROWS
from tests.support.reference import expected_headline, places, total_qty, turnover

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = reverse("dashboard:api-rankings")
D = datetime.date


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
    current = within(ROWS, D(2026, 3, 1), D(2026, 3, 10), "TX")
    assert {key: value for key, value in body["headline"].items() if key != "previous"} == headline_json(
        expected_headline(current)
    )
    # In Texas before: items 1 and 3 tied at 10.00, so item 1 was first.
    assert [(entry["key"], entry["previous_rank"]) for entry in body["rankings"]["items_by_turnover"]] == [
        (1, 1)
    ]


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
