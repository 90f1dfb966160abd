"""Change data capture on the PostgreSQL stand-in (ORDERS_SOURCE=cdc): what the shop writes
into its own database, by a plain client, in transactions of any size, reaches the OLAP
orders, rollups, rankings and headline exactly (checked against a row-by-row computation
over the shop's own table), through a real publication and subscription between the two
clusters."""

import datetime
import io
import random
import threading
import time
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connections
from django.test import override_settings
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from dashboard.orders import capture
from tests.support.capture import assert_olap_matches, shop_client, shop_insert, shop_orders, synced
from tests.support.http import free_port
from tests.support.orders import another_client
from tests.support.rollups import ROWS

pytestmark = [
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
    pytest.mark.usefixtures("empty_shop"),
]


def test_inserts_updates_and_deletes_by_a_plain_client_arrive_exactly():
    shop_insert(ROWS)  # NULL qty, price, date and state among them, and a price past float's cents
    with shop_client() as cursor:
        cursor.execute(
            "UPDATE orders SET price = 11.00 WHERE orderid = 1 AND itemid = 1"
        )  # a price correction
        cursor.execute("UPDATE orders SET state = 'CA' WHERE orderid = 5")
        cursor.execute("DELETE FROM orders WHERE orderid = 1 AND itemid = 2")
        cursor.execute("UPDATE orders SET dt = '2026-04-03' WHERE orderid = 2")
        cursor.execute("UPDATE orders SET itemid = 9 WHERE orderid = 6")
    synced()
    rows = shop_orders()
    assert (1, 2, 1, Decimal("3.25"), datetime.date(2026, 4, 1), "CA") not in rows
    assert_olap_matches(rows)


def random_rows(rng, first_order, orders):
    days = [datetime.date(2026, 4, 1) + datetime.timedelta(days=n) for n in range(40)]
    rows = []
    for orderid in range(first_order, first_order + orders):
        day, state = rng.choice(days), rng.choice(["CA", "TX", "NY", None])
        for itemid in rng.sample(range(1, 60), rng.randint(1, 4)):
            price = Decimal(rng.randint(1, 50_000)).scaleb(-2)
            rows.append((orderid, itemid, rng.choice([1, 2, 3, None]), price, day, state))
    return rows


def test_a_big_transaction_many_small_ones_and_a_bulk_delete_add_up():
    rng = random.Random(13)
    big = random_rows(rng, 1, 8_000)  # about 20,000 lines in one transaction
    shop_insert(big)
    for start in range(100_000, 100_200, 2):  # 100 small transactions
        shop_insert(random_rows(rng, start, 2))
    with shop_client() as cursor:
        cursor.execute("DELETE FROM orders WHERE orderid % 7 = 0")
        cursor.execute("UPDATE orders SET qty = qty + 1 WHERE orderid % 5 = 0")
    synced()
    assert_olap_matches(shop_orders())


def test_a_truncate_at_the_shop_empties_the_olap_side():
    shop_insert(ROWS)
    synced()
    with shop_client() as cursor:
        cursor.execute("TRUNCATE orders")
        cursor.execute("INSERT INTO orders VALUES (9, 1, 2, 5.00, '2026-04-01', 'TX')")
    synced()
    assert_olap_matches(shop_orders())
    assert capture.pending_changes(connections["olap"]) == 0


def test_running_setup_again_changes_nothing():
    shop_insert(ROWS)
    synced()
    call_command("setup_olap", verbosity=0)
    shop_insert([(20, 1, 1, Decimal("1.00"), datetime.date(2026, 4, 1), "WA")])
    synced()
    assert_olap_matches(shop_orders())
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_subscription WHERE subdbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert cursor.fetchone() == (1,)


def subscription_options():
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT subname, subbinary, substream::text FROM pg_subscription WHERE subdbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()


def test_big_transactions_are_taken_at_their_commit_and_an_older_subscription_is_changed_so():
    name, binary, streaming = subscription_options()
    assert (binary, streaming) == (True, "false")
    # As an earlier version subscribed: streamed to the subscriber, applied from its spool.
    with connections["olap"].cursor() as cursor:
        cursor.execute(sql.SQL("ALTER SUBSCRIPTION {} SET (streaming = on)").format(sql.Identifier(name)))
    out = io.StringIO()
    call_command("setup_olap", stdout=out)
    assert subscription_options() == (name, True, "false")
    assert "now takes a big transaction at its commit" in out.getvalue()
    shop_insert(ROWS)
    synced()
    assert_olap_matches(shop_orders())


def subscription_conninfo():
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT subconninfo FROM pg_subscription WHERE subname = %s", [subscription_options()[0]]
        )
        return cursor.fetchone()[0]


def slot_decoding():
    """(bytes spilled to disk, transactions decoded) for this database's slot, as the shop's
    server counts them, and the WAL sender serving it (None while none does)."""
    with shop_client() as cursor:
        cursor.execute(
            "SELECT s.spill_bytes, s.total_txns, r.active_pid FROM pg_stat_replication_slots s "
            "JOIN pg_replication_slots r USING (slot_name) WHERE slot_name = %s",
            [subscription_options()[0]],
        )
        return cursor.fetchone()


def set_up_with_decoding_memory(megabytes):
    """setup_olap with CDC_DECODING_MEMORY_MB; its report, once a new WAL sender serves the
    slot (until then the one from before may still decode with the memory it had)."""
    *_, sender = slot_decoding()
    out = io.StringIO()
    with override_settings(CDC_DECODING_MEMORY_MB=megabytes):
        call_command("setup_olap", stdout=out)
    deadline = time.monotonic() + 30
    while slot_decoding()[2] in (None, sender):
        assert time.monotonic() < deadline, "the subscription did not reconnect"
        time.sleep(0.05)
    return out.getvalue()


def test_setup_follows_the_shop_s_server_to_a_new_address():
    # As an install whose clusters were on other ports subscribed: the shop's server, and the
    # slot in it, are now reached at the address the settings give.
    name = subscription_options()[0]
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            sql.SQL("ALTER SUBSCRIPTION {} CONNECTION %s").format(sql.Identifier(name)),
            [replace(capture.Source.from_settings(), port=free_port()).conninfo()],
        )
    shop_insert([(900_001, 3, 2, Decimal("4.50"), datetime.date(2026, 4, 2), "TX")])
    out = io.StringIO()
    call_command("setup_olap", stdout=out)
    source = capture.Source.from_settings()
    assert (
        f"the subscription {name} now reaches the shop's server at {source.host}:{source.port}"
        in out.getvalue()
    )
    assert parse_dsn(subscription_conninfo()) == parse_dsn(source.conninfo())
    synced()  # the write made while it could not reach the shop arrives, from its slot
    assert_olap_matches(shop_orders())


def one_transaction_of(lines, first_order):
    """`lines` new lines in one transaction at the shop, about 200 bytes each to decode."""
    with shop_client() as cursor:
        cursor.execute(
            "INSERT INTO orders (orderid, itemid, qty, price, dt, state) SELECT g, 1 + g %% 7, 1 + g %% 5, "
            "(g %% 10000) / 100.0, DATE '2026-04-01' + g %% 30, 'CA' FROM generate_series(%s, %s) g",
            [first_order, first_order + lines - 1],
        )


def test_the_shop_s_server_decodes_a_big_transaction_in_the_memory_set_for_the_capture():
    # As an earlier version subscribed: with the shop's server's own decoding memory.
    name = subscription_options()[0]
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            sql.SQL("ALTER SUBSCRIPTION {} CONNECTION %s").format(sql.Identifier(name)),
            [replace(capture.Source.from_settings(), decoding_memory_mb=0).conninfo()],
        )
    assert "logical_decoding_work_mem" not in subscription_conninfo()
    report = set_up_with_decoding_memory(1)
    assert f"the subscription {name} now has the shop's server decode a transaction in 1 MB" in report
    assert "options='-c logical_decoding_work_mem=1MB'" in subscription_conninfo()
    # 20,000 lines (about 4 MB) do not fit in 1 MB: the shop's server spills them to its disk.
    spilled, decoded, _ = slot_decoding()
    one_transaction_of(20_000, first_order=1)
    synced()
    after = slot_decoding()
    assert after[1] > decoded
    assert after[0] > spilled
    # The default, 256 MB: the same again is decoded in memory, nothing spilled.
    assert "decode a transaction in 256 MB before spilling" in set_up_with_decoding_memory(256)
    spilled, decoded, _ = slot_decoding()
    one_transaction_of(20_000, first_order=20_001)
    synced()
    after = slot_decoding()
    assert after[1] > decoded  # counted, so its spill would have been
    assert after[0] == spilled
    assert_olap_matches(shop_orders())
    out = io.StringIO()
    call_command("setup_olap", stdout=out)
    assert "decode a transaction" not in out.getvalue()  # as the settings say: nothing to change
    assert parse_dsn(subscription_conninfo()) == parse_dsn(capture.Source.from_settings().conninfo())


def test_rows_written_and_rewritten_between_two_folds_count_once():
    """The fold adds the rows applied since its last snapshot and takes off the logged old
    rows only where a fold had added them: rows inserted and changed (or gone) before the
    next fold, and folded rows changed several times, each in a transaction of its own."""
    day = datetime.date(2026, 4, 1)
    shop_insert([(1, 1, 1, Decimal("2.00"), day, "CA"), (2, 1, 2, Decimal("3.00"), day, "TX")])
    synced()
    steps = [
        "INSERT INTO orders VALUES (10, 1, 1, 1.00, '2026-04-01', 'CA')",  # new, changed, gone
        "UPDATE orders SET qty = 5 WHERE orderid = 10",
        "DELETE FROM orders WHERE orderid = 10",
        "INSERT INTO orders VALUES (11, 1, 1, 1.00, '2026-04-02', 'NY')",  # new, changed twice
        "UPDATE orders SET qty = 4 WHERE orderid = 11",
        "UPDATE orders SET state = 'WA' WHERE orderid = 11",
        "UPDATE orders SET qty = 7 WHERE orderid = 1",  # folded, changed twice
        "UPDATE orders SET price = 9.50, dt = '2026-04-05' WHERE orderid = 1",
        "UPDATE orders SET qty = 3 WHERE orderid = 2",  # folded, changed, gone
        "DELETE FROM orders WHERE orderid = 2",
    ]
    for statement in steps:
        with shop_client() as cursor:
            cursor.execute(statement)
    synced()
    assert_olap_matches(shop_orders())
    with shop_client() as cursor:
        cursor.execute("UPDATE orders SET qty = qty + 1")  # every row once more, after a fold
    synced()
    assert_olap_matches(shop_orders())
    assert capture.pending_changes(connections["olap"]) == 0


def test_rows_written_beside_the_capture_count_once_and_applied_rows_are_stamped():
    """The subscription's rows take the applying transaction as their stamp, which the folds
    read; a writer beside it (a session not in replica mode, on the OLAP side) leaves the
    stamp NULL, since the statement triggers count its rows at once and a fold must not count
    them again. So both end up in the figures exactly once."""
    day = datetime.date(2026, 4, 1)
    shop_insert([(1, 1, 2, Decimal("2.00"), day, "CA"), (1, 2, 1, Decimal("5.00"), day, "CA")])
    synced()
    beside = [(500, 3, 4, Decimal("1.25"), day, "TX"), (501, 1, 1, Decimal("7.00"), day, "CA")]
    with connections["olap"].cursor() as cursor:
        cursor.executemany(
            "INSERT INTO orders (orderid, itemid, qty, price, dt, state) VALUES (%s, %s, %s, %s, %s, %s)",
            beside,
        )
        cursor.execute("SELECT orderid, captured_xid IS NULL FROM orders ORDER BY orderid, itemid")
        assert cursor.fetchall() == [(1, False), (1, False), (500, True), (501, True)]
    shop_insert([(2, 1, 3, Decimal("4.00"), day, "NY")])  # and a fold after them
    synced()
    assert_olap_matches(shop_orders() + beside)


def stamp_default_and_functions():
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
            "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            "WHERE d.adrelid = 'orders'::regclass AND a.attname = 'captured_xid'"
        )
        default = cursor.fetchone()
        cursor.execute("SELECT proname FROM pg_proc WHERE proname LIKE 'orders_%%stamp%%' ORDER BY 1")
        return default, [name for (name,) in cursor.fetchall()]


def test_setup_replaces_an_earlier_versions_stamp_function():
    """Earlier versions stamped through a PL/pgSQL default, which cost the apply a second per
    million rows: setup_olap puts the builtin in its place and drops the function."""
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION orders_capture_stamp() RETURNS XID8 LANGUAGE plpgsql VOLATILE AS $$ BEGIN "
            "IF current_setting('session_replication_role') = 'replica' THEN RETURN pg_current_xact_id(); "
            "END IF; RETURN NULL; END $$"
        )
        cursor.execute("DROP TRIGGER orders_unstamp_direct ON orders")
        cursor.execute("ALTER TABLE orders ALTER COLUMN captured_xid SET DEFAULT orders_capture_stamp()")
    assert stamp_default_and_functions() == (
        ("orders_capture_stamp()",),
        ["orders_capture_stamp", "orders_unstamp_direct"],
    )
    call_command("setup_olap", verbosity=0)
    assert stamp_default_and_functions() == (("pg_current_xact_id()",), ["orders_unstamp_direct"])
    shop_insert([(1, 1, 2, Decimal("2.00"), datetime.date(2026, 4, 1), "CA")])
    synced()
    assert_olap_matches(shop_orders())


def olap_row_estimate():
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'orders'::regclass")
        return cursor.fetchone()[0]


def test_a_big_fold_plans_with_fresh_statistics_not_those_taken_while_the_table_was_empty():
    """Statistics taken while `orders` was empty (as autovacuum may take them during a big
    transaction's apply) had a 1M-line fold look each row up by scanning every change once
    per row: minutes. A fold of capture.BIG_FOLD changes or more analyses what it reads
    first; a small one leaves the statistics as they are."""
    with connections["olap"].cursor() as cursor:
        cursor.execute("ANALYZE orders")
    assert olap_row_estimate() == 0
    rng = random.Random(21)
    shop_insert(random_rows(rng, 1, 2))
    synced()
    assert olap_row_estimate() == 0
    shop_insert(random_rows(rng, 10, capture.BIG_FOLD // 2))  # about 1.25 lines per BIG_FOLD
    synced()
    rows = shop_orders()
    assert len(rows) >= capture.BIG_FOLD
    assert olap_row_estimate() == len(rows)
    assert_olap_matches(rows)


def test_a_fold_waits_for_a_replicated_truncate_instead_of_deadlocking():
    """A TRUNCATE applied from the shop holds `orders` and then its trigger empties the
    rollups and the change log. Here another client takes the same locks in the same order,
    with a fold started in between: a fold that read the log before `orders` deadlocked with
    it; it takes `orders` first and waits."""
    shop_insert(ROWS)
    synced()
    outcome = {}

    def fold():
        try:
            outcome["fold"] = capture.fold(connections["olap"])
        except DatabaseError as error:
            outcome["error"] = error
        finally:
            connections.close_all()  # this thread's

    with another_client() as truncating:
        truncating.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        folder = threading.Thread(target=fold)
        folder.start()
        waiting_for_lock(folder)
        truncating.execute("LOCK TABLE orders_changes IN ACCESS EXCLUSIVE MODE")  # the trigger's
    folder.join(60)
    assert "error" not in outcome and outcome["fold"] is not None, outcome
    assert_olap_matches(shop_orders())


def waiting_for_lock(folder, timeout=30):
    """Until a backend other than ours waits for a lock (the fold, blocked)."""
    deadline = time.monotonic() + timeout
    while True:
        with connections["olap"].cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
        assert folder.is_alive() and time.monotonic() < deadline, "the fold never waited for a lock"
        time.sleep(0.02)
