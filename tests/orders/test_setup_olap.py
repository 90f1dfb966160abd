import re

import pytest
from django.core.management import call_command
from django.db import connections

from dashboard.orders.schema import CREATE_ORDERS, ROLLUPS, aggregate_orders, risingwave_statements
from tests.support.orders import insert_orders
from tests.support.rollups import ROWS, assert_rollups_match_orders, stored_rollup

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])


def run_sql(*statements):
    with connections["olap"].cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def columns(table):
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return cursor.fetchall()


def test_running_twice_keeps_the_tables_and_their_rows(capsys):
    insert_orders(ROWS)
    call_command("setup_olap")
    call_command("setup_olap")
    assert capsys.readouterr().out.count("OLAP database 'olap' (postgresql) is ready.") == 2
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders")
        assert cursor.fetchone() == (len(ROWS),)
    assert_rollups_match_orders()


def test_orders_table_has_the_original_columns_then_the_amount_and_the_capture_s_stamp():
    # The six columns stay where they were; `amount` (a shop's line total, NULL where the
    # price says it) and `captured_xid` (which transaction of the capture applied the row,
    # NULL for direct writes) come last, so writers that name the six columns are unaffected.
    assert columns("orders") == [
        ("orderid", "bigint"),
        ("itemid", "integer"),
        ("qty", "integer"),
        ("price", "numeric"),
        ("dt", "date"),
        ("state", "character varying"),
        ("amount", "numeric"),
        ("captured_xid", "xid8"),
    ]


def test_rollups_are_created_from_orders_that_already_exist(capsys):
    # A database prepared before rollups existed: orders, and nothing else.
    run_sql(
        "DROP FUNCTION orders_rollups_after_insert, orders_rollups_after_delete, "
        "orders_rollups_after_update, orders_rollups_after_truncate CASCADE",
        "DROP TABLE " + ", ".join(rollup.name for rollup in ROLLUPS),
    )
    insert_orders(ROWS)
    call_command("setup_olap")
    assert "created orders_item_day, filled from orders" in capsys.readouterr().out
    assert_rollups_match_orders()


def test_rebuild_recomputes_rollups_that_drifted(capsys):
    insert_orders(ROWS)
    run_sql("UPDATE orders_state_total SET turnover = 0", "DELETE FROM orders_item_day")
    call_command("setup_olap", rebuild_rollups=True)
    assert "rebuilt orders_state_total from orders" in capsys.readouterr().out
    assert_rollups_match_orders()


def test_a_rollup_added_by_an_upgrade_is_filled_and_the_others_rebuilt_with_it(capsys):
    # The release before had no per-day rollup. Filling it empties the capture's change log,
    # whose changes the others have yet to fold (stood in for here by a drifted rollup): they
    # are rebuilt from orders too, so none is left behind.
    insert_orders(ROWS)
    run_sql("DROP TABLE orders_day", "UPDATE orders_state_total SET turnover = 0")
    call_command("setup_olap")
    out = capsys.readouterr().out
    assert "created orders_day, filled from orders" in out
    assert "rebuilt the other rollups from orders with it" in out
    assert_rollups_match_orders()


def test_risingwave_ddl_avoids_what_risingwave_rejects():
    ddl = " ".join(risingwave_statements()).upper()
    assert not re.search(r"NUMERIC\s*\(", ddl)
    assert not re.search(r"VARCHAR\s*\(", ddl)
    for unsupported in (
        "SERIAL",
        "IDENTITY",
        "UNIQUE",
        "FOREIGN KEY",
        "REFERENCES",
        "CHECK",
        "TRIGGER",
        "ORDER BY",
    ):
        assert unsupported not in ddl
    assert "PRIMARY KEY (ORDERID, ITEMID)" in CREATE_ORDERS.upper()
    assert all("IF NOT EXISTS" in statement.upper() for statement in risingwave_statements())


def test_risingwave_materialized_views_compute_what_the_postgresql_tables_hold():
    # The view bodies are plain SQL: run each one here and compare with the maintained table.
    insert_orders(ROWS)
    with connections["olap"].cursor() as cursor:
        for rollup in ROLLUPS:
            keys = ", ".join(rollup.keys)
            measures = ", ".join(f"COALESCE({measure}, 0)" for measure in rollup.measures)
            cursor.execute(f"SELECT {keys}, {measures} FROM ({aggregate_orders(rollup)}) AS view")
            from_view = {row[: len(rollup.keys)]: row[len(rollup.keys) :] for row in cursor.fetchall()}
            assert stored_rollup(rollup) == from_view, rollup.name
