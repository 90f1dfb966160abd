"""The capture's bulk fold (dashboard/orders/bulk_fold.py): a big insert-only transaction at
the shop is summed in numpy, and everything it cannot sum exactly goes the set-based way.
Either way the OLAP side equals a row-by-row computation over the shop's own table; each
test also says which way its fold went, through the real publication and subscription."""

import datetime
import random
import threading
from decimal import Decimal

import pytest
from django.db import connections

from dashboard.orders import bulk_fold, capture
from tests.support.capture import applied, assert_olap_matches, shop_client, shop_insert, shop_orders, synced
from tests.support.orders import another_client

pytestmark = [
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
    pytest.mark.usefixtures("empty_shop"),
]

STATES = ["CA", "TX", "NY", "WA", "ca", "PR"]


def bulk_import(rng, first_order, orders, **replace):
    """About 2.5 lines per order over 40 days, 60 items and the STATES, every value set;
    `replace` gives some lines other values: {row number: {column number: value}}."""
    days = [datetime.date(2026, 4, 1) + datetime.timedelta(days=n) for n in range(40)]
    rows = []
    for orderid in range(first_order, first_order + orders):
        day, state = rng.choice(days), rng.choice(STATES)
        for itemid in rng.sample(range(1, 60), rng.randint(1, 4)):
            price = Decimal(rng.randint(0, 50_000)).scaleb(-2)
            rows.append([orderid, itemid, rng.randint(0, 9), price, day, state])
    for number, columns in replace.get("lines", {}).items():
        for column, value in columns.items():
            rows[number][column] = value
    return [tuple(row) for row in rows]


def fold_now():
    applied()
    return capture.fold(connections["olap"])


def test_a_bulk_import_is_summed_in_numpy_exactly():
    rng = random.Random(3)
    synced()
    shop_insert(bulk_import(rng, 1, 4_000))
    done = fold_now()
    assert done.in_bulk and done.changes >= capture.BIG_FOLD
    assert_olap_matches(shop_orders())
    # More new orders, then the same again after a small set-based fold in between.
    shop_insert(bulk_import(rng, 50_000, 10))
    assert not fold_now().in_bulk
    shop_insert(bulk_import(rng, 10_000, 3_000))
    assert fold_now().in_bulk
    assert_olap_matches(shop_orders())


def test_lines_out_of_order_and_orders_across_batches(monkeypatch):
    """Lines applied in no order of their order ids, whose orders are split by the batches
    the sums are taken in (each batch ends after a whole order)."""
    monkeypatch.setattr(bulk_fold, "BATCH_LINES", 997)
    rows = bulk_import(random.Random(8), 1, 4_000)
    random.Random(9).shuffle(rows)
    shop_insert(rows)
    assert fold_now().in_bulk
    assert_olap_matches(shop_orders())


@pytest.mark.parametrize(
    "lines",
    [
        {5: {5: None}},  # a line without a state
        {5: {2: None}},  # without a quantity
        {5: {3: None}},  # without a price
        {5: {4: None}},  # without a day
        {5: {3: Decimal("1000000000000000.00")}},  # a price past what the sums hold exactly
        {5: {5: "É"}},  # a state of two bytes that are not two ASCII characters
        {5: {5: "C"}},  # a state of one character
        {5: {2: -1}},  # a negative quantity (a return written as a line)
        {5: {4: datetime.date(1900, 1, 1)}},  # a day outside the loader's range
    ],
    ids=["no state", "no qty", "no price", "no day", "huge price", "non-ASCII state", "short state",
         "negative qty", "far day"],
)  # fmt: skip
def test_lines_the_sums_cannot_take_exactly_are_folded_set_based(lines):
    shop_insert(bulk_import(random.Random(4), 1, 3_000, lines=lines))
    assert not fold_now().in_bulk
    assert_olap_matches(shop_orders())


def mid_order(rows, at):
    """The first line from `at` on that is not the first line of its order."""
    return next(number for number in range(at, len(rows)) if rows[number][0] == rows[number - 1][0])


@pytest.mark.parametrize("cells_per_line", [bulk_fold.DENSE_CELLS_PER_LINE, 0], ids=["dense", "sparse"])
def test_orders_that_straddle_two_commits_count_once_in_each_state_and_day(monkeypatch, cells_per_line):
    """A shop's import that commits every few thousand lines cuts orders in two: the fold of
    the second part finds their first lines folded already, and counts such an order in a
    (state, day) only where those lines did not. One order's second part also moves to
    another day and state (its first lines count it in theirs, these in their own). Summed
    in dense cells, and in sparse sums."""
    monkeypatch.setattr(bulk_fold, "DENSE_CELLS_PER_LINE", cells_per_line)
    rows = bulk_import(random.Random(5), 1, 7_000)
    first_cut = mid_order(rows, capture.BIG_FOLD + 100)
    second_cut = mid_order(rows, first_cut + capture.BIG_FOLD + 100)
    moved = rows[second_cut][0]
    rows = [
        (orderid, itemid, qty, price, datetime.date(2026, 6, 1), "WA")
        if number >= second_cut and orderid == moved
        else (orderid, itemid, qty, price, day, state)
        for number, (orderid, itemid, qty, price, day, state) in enumerate(rows)
    ]
    for part in (rows[:first_cut], rows[first_cut:second_cut], rows[second_cut:]):
        assert len(part) >= capture.BIG_FOLD
        shop_insert(part)
        assert fold_now().in_bulk
    assert_olap_matches(shop_orders())


@pytest.mark.parametrize("state", [True, False], ids=["with its state", "without a state"])
def test_an_order_whose_first_line_came_before_is_summed_in_bulk(state):
    """An order already counted in its state and day gains lines in the import: counting
    orders from the import alone would count it twice. A first line without a state counts
    the order nowhere, so the import's lines count it in theirs."""
    rows = bulk_import(random.Random(5), 1, 3_000)
    shop_insert([rows[0] if state else (*rows[0][:5], None)])
    synced()
    shop_insert(rows[1:])
    assert fold_now().in_bulk
    assert_olap_matches(shop_orders())


def test_other_orders_within_the_import_s_order_ids_are_left_as_they_are():
    rows = bulk_import(random.Random(13), 1, 6_000)
    shop_insert([row for row in rows if row[0] % 2])
    synced()
    shop_insert([row for row in rows if not row[0] % 2])
    assert fold_now().in_bulk
    assert_olap_matches(shop_orders())


def test_more_earlier_lines_than_the_fold_reads_are_left_to_the_set_based_fold(monkeypatch):
    monkeypatch.setattr(bulk_fold, "MAX_EARLIER", 10)
    rows = bulk_import(random.Random(13), 1, 6_000)
    shop_insert([row for row in rows if row[0] % 2])
    synced()
    shop_insert([row for row in rows if not row[0] % 2])
    assert not fold_now().in_bulk
    assert_olap_matches(shop_orders())


def test_an_import_with_updates_waiting_is_folded_set_based():
    rng = random.Random(6)
    shop_insert(bulk_import(rng, 1, 100))
    synced()
    with shop_client() as cursor:
        cursor.execute("UPDATE orders SET qty = qty + 1 WHERE orderid = 1")
    shop_insert(bulk_import(rng, 1_000, 3_000))
    assert not fold_now().in_bulk
    assert_olap_matches(shop_orders())


def test_an_import_past_the_most_lines_held_in_memory_is_folded_set_based(monkeypatch):
    monkeypatch.setattr(bulk_fold, "MAX_LINES", capture.BIG_FOLD)
    shop_insert(bulk_import(random.Random(7), 1, 3_000))
    assert not fold_now().in_bulk
    assert_olap_matches(shop_orders())


def test_a_writer_of_the_rollups_meanwhile_makes_the_fold_start_again(monkeypatch):
    """Under REPEATABLE READ, a rollup row written by another transaction since the fold's
    snapshot cannot be updated: the fold writes nothing, and the next one folds it all."""
    shop_insert(bulk_import(random.Random(10), 1, 100))
    synced()
    shop_insert(bulk_import(random.Random(11), 1_000, 3_000))
    applied()
    add_to_rollups = bulk_fold.add_to_rollups
    tried = threading.Event()

    def after_a_concurrent_write(connection, cursor, summable):
        with another_client() as other:  # committed on exit, after the fold's snapshot
            other.execute("UPDATE orders_state_total SET lines = lines")
        tried.set()
        add_to_rollups(connection, cursor, summable)

    monkeypatch.setattr(bulk_fold, "add_to_rollups", after_a_concurrent_write)
    assert capture.fold(connections["olap"]) is None and tried.is_set()
    assert capture.pending_changes(connections["olap"]) >= capture.BIG_FOLD  # nothing was folded
    monkeypatch.setattr(bulk_fold, "add_to_rollups", add_to_rollups)
    assert capture.fold(connections["olap"]).in_bulk
    assert_olap_matches(shop_orders())
