"""A load that replaces everything has a second connection write the (state, day, item) delta
log into a new table, which its own transaction swaps in at the end
(dashboard/orders/delta_log_swap.py). The figures stay exact, the table comes out as
setup_olap makes it, a log the swap would change in other ways is written in place as before,
and a load that fails at either connection leaves the old log as it was, with no new table
left behind."""

import threading
import time

import pytest
from django.db import DatabaseError, connections, transaction
from django.test import override_settings

from dashboard.orders.loading import load_postgresql
from dashboard.orders.sample import seed_id_range
from dashboard.orders.schema import STATE_ITEM_DAY
from dashboard.orders.session import without_statement_timeout
from tests.orders.test_rollups import sample_batches
from tests.support.orders import (
    all_orders,
    another_client,
    backend_waiting_on_a_lock,
    insert_orders,
    lock_held_by_another_client,
)
from tests.support.rollups import D1, assert_rollups_match_orders, stored_rollup

pytestmark = pytest.mark.django_db(databases=["olap"], transaction=True)

SEED = 3
LOG = STATE_ITEM_DAY.name


def load(orders, seed=SEED):
    load_postgresql(connections["olap"], sample_batches(seed, orders, 4), replace=seed_id_range(seed))


def execute(sql):
    with connections["olap"].cursor() as cursor:
        cursor.execute(sql)


def catalog(sql):
    with connections["olap"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def log_oid():
    return catalog(f"SELECT '{LOG}'::regclass::oid")[0][0]


def next_table_left():
    return catalog(f"SELECT to_regclass('{LOG}_next')")[0][0]


def test_a_first_load_and_a_reload_swap_in_a_log_like_setup_olap_s(empty_orders):
    made_by_setup = catalog(f"SELECT indexdef FROM pg_indexes WHERE tablename = '{LOG}'")
    before = log_oid()
    load(300)
    assert log_oid() != before
    assert_rollups_match_orders()
    load(120)  # a reload of the only seed
    assert log_oid() != before
    assert_rollups_match_orders()
    assert len({orderid for orderid, *_ in all_orders()}) == 120
    assert catalog(f"SELECT indexdef FROM pg_indexes WHERE tablename = '{LOG}'") == made_by_setup
    assert catalog(
        f"SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE oid = '{LOG}'::regclass"
    ) == [(True,)]
    # Analyzed: how many of a state's rows a range holds decides that statement's plan.
    assert catalog(f"SELECT count(*) > 0 FROM pg_stats WHERE tablename = '{LOG}'") == [(True,)]
    assert next_table_left() is None
    # The insert trigger appends to the new log like any other writer.
    insert_orders([(1, 1, 2, None, D1, "WA")])
    assert_rollups_match_orders()


@pytest.mark.parametrize(
    ("attach", "detach"),
    [
        (f"GRANT SELECT ON {LOG} TO PUBLIC", f"REVOKE SELECT ON {LOG} FROM PUBLIC"),
        (f"CREATE VIEW log_lines AS SELECT sum(lines) AS lines FROM {LOG}", "DROP VIEW log_lines"),
        (
            f"ALTER TABLE {LOG} SET (autovacuum_vacuum_scale_factor = 0.05)",
            f"ALTER TABLE {LOG} RESET (autovacuum_vacuum_scale_factor)",
        ),
    ],
    ids=["a grant to another role", "a view", "a storage parameter"],
)
def test_a_log_that_a_swap_would_change_is_written_in_place(empty_orders, attach, detach):
    execute(attach)
    try:
        before = log_oid()
        load(300)
        assert log_oid() == before
        assert_rollups_match_orders()
        assert catalog(f"SELECT (SELECT sum(lines) FROM {LOG}) = count(*) FROM orders") == [(True,)]
    finally:
        execute(detach)


def storage_parameters(table):
    return catalog(f"SELECT reloptions FROM pg_class WHERE oid = to_regclass('{table}')")[0][0]


def test_the_new_log_is_out_of_autovacuum_s_reach_until_it_is_the_log(empty_orders):
    """Committed by the second connection, the new table would be one autovacuum wants (all
    rows new), and a worker that took it held the swap up until the deadlock check cancelled
    it, a second later (seen in a 10M-line load). While the swap waits, the committed table
    is excluded from autovacuum; once it is the log, it is autovacuumed like any table (and
    has no storage parameter, so the next load swaps it again)."""
    load(300)
    before = log_oid()
    locked, release, seen = threading.Event(), threading.Event(), []

    def hold():
        with another_client() as cursor:  # the swap's DROP waits for this lock
            cursor.execute(f"LOCK TABLE {LOG} IN SHARE MODE")
            locked.set()
            release.wait(60)

    def look():
        try:
            backend_waiting_on_a_lock(f"DROP TABLE {LOG}")
            with another_client() as cursor:
                cursor.execute(f"SELECT reloptions FROM pg_class WHERE oid = to_regclass('{LOG}_next')")
                seen.append(cursor.fetchone()[0])
        finally:
            release.set()

    holder, looker = threading.Thread(target=hold), threading.Thread(target=look)
    holder.start()
    try:
        assert locked.wait(10), "the other client did not lock the log"
        looker.start()
        load(120)
    finally:
        release.set()
        holder.join()
        if looker.ident is not None:  # started
            looker.join()
    assert seen == [["autovacuum_enabled=false"]]
    assert log_oid() != before
    assert storage_parameters(LOG) is None
    assert_rollups_match_orders()


def test_the_second_connection_has_no_statement_timeout_either(empty_orders):
    # gen_data lifts the site's statement timeout on its connection for the load; the second
    # connection, new, started with the site's, and on a busy machine the log's COPY of a
    # 10M-line load outlasted it (5 s), was cancelled, and the whole load began again. Here
    # its first statement waits five times the timeout for a lock, then the load goes on.
    failures = []

    def load_without_timeout():
        try:
            with without_statement_timeout(connections["olap"]):
                load(300)
        except BaseException as error:
            failures.append(error)
        finally:
            connections["olap"].close()

    before = log_oid()
    with override_settings(OLAP_STATEMENT_TIMEOUT_MS=100):
        with lock_held_by_another_client(LOG):
            loader = threading.Thread(target=load_without_timeout)
            loader.start()
            backend_waiting_on_a_lock(f"CREATE TABLE {LOG}_next")
            time.sleep(0.5)
        # The lock released; the load goes on.
        loader.join()
    assert failures == []
    assert log_oid() != before  # swapped in: the second connection wrote it
    assert_rollups_match_orders()


def test_a_load_inside_an_enclosing_transaction_writes_the_log_in_place(empty_orders):
    before = log_oid()
    with transaction.atomic(using="olap"):
        load(300)
    assert log_oid() == before
    assert next_table_left() is None
    assert_rollups_match_orders()


def terminated_when_waiting(statement_start, then=None):
    """A started thread that terminates the backend waiting in `statement_start`, then sets
    the event `then` if given; join it for the list of pids it terminated."""
    terminated = []

    def terminate():
        try:
            pid = backend_waiting_on_a_lock(statement_start)
            with another_client() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            terminated.append(pid)
        finally:
            if then is not None:
                then.set()

    thread = threading.Thread(target=terminate)
    thread.start()
    return thread, terminated


def assert_unchanged(log, orders, oid):
    connections["olap"].close()  # its server process may be the one terminated
    assert stored_rollup(STATE_ITEM_DAY) == log
    assert all_orders() == orders
    assert log_oid() == oid
    assert next_table_left() is None


def test_the_second_connection_cut_off_fails_the_load_and_leaves_the_old_log(empty_orders):
    load(300)
    log, orders, oid = stored_rollup(STATE_ITEM_DAY), all_orders(), log_oid()
    # The second connection waits to make its table like the log, and is cut off there.
    with lock_held_by_another_client(LOG):
        killer, terminated = terminated_when_waiting(f"CREATE TABLE {LOG}_next")
        try:
            with pytest.raises(DatabaseError):
                load(120)
        finally:
            killer.join()
    assert terminated
    assert_unchanged(log, orders, oid)


def test_a_load_failing_after_the_new_log_was_committed_drops_it_and_keeps_the_old(empty_orders):
    load(300)
    log, orders, oid = stored_rollup(STATE_ITEM_DAY), all_orders(), log_oid()
    reader_done, seen = threading.Event(), []

    def read():
        # Another client reading the log in a transaction it keeps open: the swap's DROP
        # waits for it (the new table committed by then), and the load is cut off there.
        with another_client() as cursor:
            cursor.execute(f"SELECT count(*) FROM {LOG}")
            seen.append(cursor.fetchone()[0])
            reading.set()
            reader_done.wait(60)

    reading = threading.Event()
    reader = threading.Thread(target=read)
    reader.start()
    assert reading.wait(10), "the reader did not read the log"
    killer, terminated = terminated_when_waiting(f"DROP TABLE {LOG}", then=reader_done)
    try:
        with pytest.raises(DatabaseError):
            load(120)
    finally:
        reader_done.set()
        killer.join()
        reader.join()
    assert terminated
    assert seen == [len(log)]  # the old log: one row per key after a first load
    assert_unchanged(log, orders, oid)
