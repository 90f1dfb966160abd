"""The four rankings against an independent computation in Python over the same rows."""

import datetime
import random
from decimal import Decimal

import pytest

from dashboard.catalog.models import Item
from dashboard.web.rankings import all_rankings
from tests.support.orders import insert_orders
from tests.support.reference import avg_qty, expected, total_qty, turnover

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

DAY = datetime.date(2026, 3, 1)
STATES = ["CA", "TX", "NY", "FL", "WA", "OR", "NV"]


def by_name(rankings):
    return {ranking.name: ranking.entries for ranking in rankings}


def keys_and_values(entries):
    return [(entry.key, entry.value) for entry in entries]


def random_rows(seed, count):
    rng = random.Random(seed)
    rows, orderid = [], 0
    while len(rows) < count:
        orderid += 1
        state = rng.choice([*STATES, None])
        for itemid in rng.sample(range(1, 15), rng.randint(1, 5)):
            qty = rng.choice([None, *range(1, 12)])
            price = rng.choice([None, Decimal(rng.randint(1, 99_999)) / 100])
            rows.append((orderid, itemid, qty, price, DAY, state))
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_all_four_rankings_match_a_row_by_row_computation(seed):
    rows = random_rows(seed, 400)
    insert_orders(rows)
    rankings = by_name(all_rankings())

    assert keys_and_values(rankings["states_by_turnover"]) == expected(rows, "state", turnover)
    assert keys_and_values(rankings["items_by_total_qty"]) == expected(rows, "itemid", total_qty)
    assert keys_and_values(rankings["items_by_turnover"]) == expected(rows, "itemid", turnover)
    want_avg = expected(rows, "itemid", avg_qty)
    got_avg = keys_and_values(rankings["items_by_avg_qty"])
    assert [key for key, _ in got_avg] == [key for key, _ in want_avg]
    for (_, got), (_, want) in zip(got_avg, want_avg, strict=True):
        assert got == pytest.approx(float(want), rel=1e-12)


def test_ties_are_broken_by_key_ascending():
    # TX, CA and NY all turn over 20.00; WA 30.00 leads; OR and FL share 5.00.
    rows = [
        (1, 1, 2, Decimal("10.00"), DAY, "TX"),
        (2, 1, 1, Decimal("20.00"), DAY, "CA"),
        (3, 2, 4, Decimal("5.00"), DAY, "NY"),
        (4, 3, 3, Decimal("10.00"), DAY, "WA"),
        (5, 4, 1, Decimal("5.00"), DAY, "OR"),
        (6, 5, 1, Decimal("5.00"), DAY, "FL"),
    ]
    insert_orders(rows)
    states = by_name(all_rankings())["states_by_turnover"]
    assert [entry.key for entry in states] == ["WA", "CA", "NY", "TX", "FL"]
    assert [entry.value for entry in states] == [
        Decimal(v) for v in ("30.00", "20.00", "20.00", "20.00", "5.00")
    ]


def test_average_ties_are_broken_by_item_id():
    # Items 7 and 3 both average 2 units per line; item 5 averages 2.5.
    rows = [
        (1, 7, 1, Decimal(1), DAY, "CA"),
        (2, 7, 3, Decimal(1), DAY, "CA"),
        (3, 3, 2, Decimal(1), DAY, "CA"),
        (4, 5, 2, Decimal(1), DAY, "CA"),
        (5, 5, 3, Decimal(1), DAY, "CA"),
    ]
    insert_orders(rows)
    average = by_name(all_rankings())["items_by_avg_qty"]
    assert [(entry.key, entry.value) for entry in average] == [(5, 2.5), (3, 2.0), (7, 2.0)]


def test_rows_with_a_null_key_are_left_out():
    rows = [
        (1, 1, 100, Decimal("100.00"), DAY, None),
        (2, 1, 1, Decimal("1.00"), DAY, "CA"),
    ]
    insert_orders(rows)
    states = by_name(all_rankings())["states_by_turnover"]
    assert [(entry.key, entry.value) for entry in states] == [("CA", Decimal("1.00"))]


def test_groups_with_no_known_value_are_left_out():
    rows = [
        (1, 1, None, None, DAY, "TX"),
        (2, 2, 3, Decimal("2.50"), DAY, "CA"),
    ]
    insert_orders(rows)
    rankings = by_name(all_rankings())
    assert [entry.key for entry in rankings["states_by_turnover"]] == ["CA"]
    assert [entry.key for entry in rankings["items_by_total_qty"]] == [2]
    assert [entry.key for entry in rankings["items_by_avg_qty"]] == [2]


def test_money_stays_exact_where_floats_lose_cents():
    price = Decimal("45035996273704.97")  # about 2**52 cents: a float cannot hold the cents
    rows = [(1, 1, 3, price, DAY, "CA"), (2, 1, 1, Decimal("0.01"), DAY, "CA")]
    insert_orders(rows)
    exact = price * 3 + Decimal("0.01")
    assert Decimal(float(price) * 3 + 0.01) != exact  # the trap this test guards against

    rankings = by_name(all_rankings())
    assert rankings["states_by_turnover"][0].value == exact
    assert rankings["items_by_turnover"][0].value == exact


def test_only_the_top_five_are_returned():
    insert_orders([(n, n, n, Decimal(n), DAY, STATES[n % len(STATES)]) for n in range(1, 12)])
    for ranking in all_rankings():
        assert len(ranking.entries) == 5


def test_items_are_labelled_from_the_catalog_or_by_id():
    Item.objects.create(itemid=1, name="Teal Oak Mug")
    insert_orders([(1, 1, 5, Decimal("2.00"), DAY, "TX"), (1, 2, 1, Decimal("3.00"), DAY, "TX")])
    rankings = by_name(all_rankings())
    assert [(entry.key, entry.label) for entry in rankings["items_by_total_qty"]] == [
        (1, "Teal Oak Mug"),
        (2, "Item 2"),
    ]
    assert [(entry.key, entry.label) for entry in rankings["states_by_turnover"]] == [("TX", "Texas")]


def test_no_orders_give_empty_rankings():
    assert [ranking.entries for ranking in all_rankings()] == [[], [], [], []]
