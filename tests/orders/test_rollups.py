"""On PostgreSQL the rollups are tables kept current by triggers on `orders`: after any
write they must hold exactly what a from-scratch aggregation of the orders gives."""

from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import numpy as np
import pytest
from django.db import IntegrityError, connections, transaction

from dashboard.orders import loader_rollups
from dashboard.orders.loading import OrderLines, load_postgresql
from dashboard.orders.sample import generate, make_catalog, seed_id_range
from dashboard.orders.schema import ROLLUPS, STATE_DAY, STATE_TOTAL
from tests.support.orders import all_orders, another_client, insert_orders
from tests.support.rollups import D1, D2, D3, ROWS, assert_rollups_match_orders, stored_rollup

pytestmark = pytest.mark.django_db(databases=["olap"])


def execute(sql, params=None):
    with connections["olap"].cursor() as cursor:
        cursor.execute(sql, params)


def test_inserts_in_several_statements():
    insert_orders(ROWS[:3])
    assert_rollups_match_orders()
    insert_orders(ROWS[3:])
    assert_rollups_match_orders()


def test_updates_move_lines_between_groups():
    insert_orders(ROWS)
    execute("UPDATE orders SET state = 'NY', dt = %s WHERE orderid = 1", [D2])
    execute("UPDATE orders SET qty = qty + 1 WHERE itemid = 1")
    execute("UPDATE orders SET price = 4.20 WHERE orderid = 3")
    execute("UPDATE orders SET state = NULL, qty = NULL WHERE orderid = 6")
    assert_rollups_match_orders()


def test_deletes_take_lines_out():
    insert_orders(ROWS)
    execute("DELETE FROM orders WHERE orderid IN (1, 4)")
    assert_rollups_match_orders()
    execute("DELETE FROM orders")
    assert_rollups_match_orders()


def test_truncate_empties_every_rollup():
    insert_orders(ROWS)
    execute("TRUNCATE orders")
    for rollup in ROLLUPS:
        assert stored_rollup(rollup) == {}


def test_a_bulk_copy_is_rolled_up_too():
    insert_orders(ROWS)
    rng = np.random.default_rng(3)
    count = 5000
    lines = OrderLines(
        orderid=np.arange(100, 100 + count, dtype=np.int64),
        itemid=rng.integers(1, 30, size=count).astype(np.int32),
        qty=rng.integers(1, 9, size=count).astype(np.int32),
        price_cents=rng.integers(1, 10**7, size=count),
        dt=np.datetime64("2026-04-01") + rng.integers(0, 20, size=count).astype("timedelta64[D]"),
        state=rng.choice(np.array([b"CA", b"TX", b"WA"]), size=count),
    )
    load_postgresql(connections["olap"], [lines])
    assert_rollups_match_orders()


def test_orders_are_counted_once_per_state_and_day():
    # Order 10 has lines on two days in CA, added and removed over several statements.
    insert_orders([(10, 1, 1, Decimal("1.00"), D1, "CA")])
    insert_orders([(10, 2, 1, Decimal("1.00"), D1, "CA"), (10, 3, 1, Decimal("1.00"), D2, "CA")])
    assert stored_rollup(STATE_DAY)[(D1, "CA")][-1] == 1
    assert stored_rollup(STATE_TOTAL)[("CA",)][-1] == 2
    assert_rollups_match_orders()
    execute("DELETE FROM orders WHERE orderid = 10 AND itemid = 1")
    assert stored_rollup(STATE_DAY)[(D1, "CA")][-1] == 1
    execute("UPDATE orders SET dt = %s WHERE orderid = 10 AND itemid = 2", [D2])
    assert (D1, "CA") not in stored_rollup(STATE_DAY)
    assert stored_rollup(STATE_TOTAL)[("CA",)][-1] == 1
    assert_rollups_match_orders()


def sample_batches(seed, orders, chunks):
    """Generated order lines of `seed`, split into `chunks` batches at order boundaries."""
    batches = list(generate(seed, orders, make_catalog(40), D3, 5))
    lines = OrderLines(
        *(np.concatenate(column) for column in zip(*(vars(b).values() for b in batches), strict=True))
    )
    bounds = np.searchsorted(lines.orderid, np.linspace(lines.orderid[0], lines.orderid[-1] + 1, chunks + 1))
    return [OrderLines(*(column[a:b] for column in vars(lines).values())) for a, b in pairwise(bounds)]


def test_a_load_that_replaces_a_range_adds_its_own_sums_instead_of_the_triggers():
    insert_orders(ROWS)
    seed = 3
    load_postgresql(connections["olap"], sample_batches(seed, 300, 4), replace=seed_id_range(seed))
    assert_rollups_match_orders()
    # The same seed again, smaller: its old lines leave through the triggers, the new arrive.
    statements = []
    with connections["olap"].execute_wrapper(
        lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)
    ):
        load_postgresql(connections["olap"], sample_batches(seed, 120, 3), replace=seed_id_range(seed))
    assert_rollups_match_orders()
    assert any("set_config" in sql for sql in statements)
    # The triggers serve the next writer in the same transaction again.
    insert_orders([(7, 1, 1, Decimal("5.00"), D1, "WA")])
    assert_rollups_match_orders()


@pytest.mark.parametrize(
    ("batches", "message"),
    [
        (lambda lines: [lines[1], lines[0]], "ascending order ids"),
        (lambda lines: [lines[0], lines[0]], "ascending order ids"),
        (
            lambda lines: [*lines, replace(lines[0], orderid=lines[0].orderid - seed_id_range(3)[0])],
            "range",
        ),
    ],
    ids=["out of order", "an order in two batches", "outside the range"],
)
def test_a_load_summing_its_own_deltas_refuses_batches_it_could_miscount(batches, message):
    seed = 3
    # The refusal comes from the load's thread in the middle of the COPY, raised as it was.
    with pytest.raises(ValueError, match=message):
        load_postgresql(
            connections["olap"], batches(sample_batches(seed, 50, 2)), replace=seed_id_range(seed)
        )


def test_a_load_into_a_table_holding_only_its_range_builds_the_key_after_the_copy_and_keeps_it():
    seed = 3
    load_postgresql(connections["olap"], sample_batches(seed, 300, 4), replace=seed_id_range(seed))
    assert_rollups_match_orders()
    with pytest.raises(IntegrityError), transaction.atomic(using="olap"):
        insert_orders([all_orders()[0]])


def temporary_files_written():
    """How many temporary files the server reports for this database, this connection's
    own counts included: they are flushed when it next goes idle with a flush asked for."""
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT temp_files FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(databases=["olap"], transaction=True)
def test_a_load_that_writes_the_rollups_itself_keeps_no_copy_of_its_lines_for_the_insert_trigger(
    empty_orders,
):
    # Past work_mem (4MB: some 40,000 lines), the insert trigger's transition table would
    # spill every line the COPY inserts to a temporary file, though the trigger adds nothing.
    seed = 3
    before = temporary_files_written()
    load_postgresql(connections["olap"], sample_batches(seed, 20_000, 4), replace=seed_id_range(seed))
    assert temporary_files_written() == before
    # The trigger is back for every other writer (the sums' exactness: the tests above).
    lines_in_washington = stored_rollup(STATE_TOTAL)[("WA",)][0]
    insert_orders([(7, 1, 1, Decimal("5.00"), D1, "WA")])
    assert stored_rollup(STATE_TOTAL)[("WA",)][0] == lines_in_washington + 1


@pytest.mark.django_db(databases=["olap"], transaction=True)
def test_a_reload_of_a_table_holding_only_its_range_empties_it_at_once_and_readers_see_the_old_figures():
    seed = 3
    load_postgresql(connections["olap"], sample_batches(seed, 300, 4), replace=seed_id_range(seed))
    before = stored_rollup(STATE_TOTAL)
    seen = []

    def read_from_another_client(loaded):
        # Mid-COPY, the reload's transaction open: the rollups neither wait nor show it yet.
        if not seen:
            with another_client() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute(f"SELECT state, {', '.join(STATE_TOTAL.measures)} FROM orders_state_total")
                seen.append({(state,): tuple(measures) for state, *measures in cursor.fetchall()})

    statements = []
    with connections["olap"].execute_wrapper(
        lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)
    ):
        load_postgresql(
            connections["olap"],
            sample_batches(seed, 120, 3),
            replace=seed_id_range(seed),
            on_batch=read_from_another_client,
        )
    assert seen == [before]
    assert "TRUNCATE orders" in statements
    assert not any(sql.startswith("DELETE FROM orders WHERE") for sql in statements)
    assert_rollups_match_orders()
    assert len({orderid for orderid, *_ in all_orders()}) == 120
    # The truncate trigger serves the next TRUNCATE again.
    execute("TRUNCATE orders")
    assert all(not stored_rollup(rollup) for rollup in ROLLUPS)


def _cells(batch):
    """(state, day, item) cells spanned by a batch's states, day range and item range."""
    days = int((batch.dt.max() - batch.dt.min()).astype(int)) + 1
    return len(set(batch.state.tolist())), days, int(batch.itemid.max()) - int(batch.itemid.min()) + 1


@pytest.mark.parametrize("spill", [False, True], ids=["sorted sums throughout", "dense sums, then sorted"])
def test_a_load_too_wide_for_dense_sums_adds_the_same(monkeypatch, spill):
    seed = 3
    batches = sample_batches(seed, 600, 6)
    states, days, items = _cells(batches[0])
    # Room for the first batch's cells only: a later batch brings states, days or items more.
    dense_cells = states * days * items if spill else 0
    assert not spill or any(
        np.prod([max(a, b) for a, b in zip(_cells(batch), (states, days, items), strict=True)]) > dense_cells
        for batch in batches[1:]
    )
    monkeypatch.setattr(loader_rollups, "DENSE_CELLS", dense_cells)
    insert_orders(ROWS)  # lines outside the range: the key is kept, these stay summed by the triggers
    load_postgresql(connections["olap"], batches, replace=seed_id_range(seed))
    assert_rollups_match_orders()
