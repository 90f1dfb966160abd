"""The exact DDL a mapped shop (the oscar preset) gets on each engine, checked in as SQL a
reviewer can read (tests/shop/golden/), as tests/orders/test_ddl_golden.py does for the
sample table. The column types are oscar 4.2's with Django's BigAutoField, as its migrations
create them; the RisingWave file is checked for what RisingWave refuses, and every statement
PostgreSQL also speaks is run on the stand-in.

After an intended change: UPDATE_GOLDEN=1 scripts/test.sh tests/shop/test_ddl_golden.py
"""

import os
import re

import pytest
from django.db import connections

from dashboard.orders import derivation
from dashboard.orders.schema import FRESHNESS_MAPPED_RISINGWAVE, risingwave_view_statements
from dashboard.shop.mapping import load
from tests.support import ROOT

GOLDEN = ROOT / "tests" / "shop" / "golden"
HEADER = (
    "-- The DDL `manage.py setup_olap` gives a new {engine} database for SHOP_SCHEMA=oscar, in order\n"
    "-- (after the source, on RisingWave). Generated from dashboard/orders/derivation.py;\n"
    "-- tests/shop/test_ddl_golden.py checks it.\n\n"
)

OSCAR_TYPES = {
    "public.order_order": {
        "id": "bigint",
        "date_placed": "timestamp with time zone",
        "status": "character varying(100)",
        "shipping_address_id": "bigint",
    },
    "public.order_line": {
        "id": "bigint",
        "order_id": "bigint",
        "product_id": "bigint",
        "quantity": "integer",
        "line_price_excl_tax": "numeric(12,2)",
        "status": "character varying(255)",
    },
    "public.order_shippingaddress": {
        "id": "bigint",
        "state": "character varying(255)",
        "country_id": "character varying(2)",
    },
    "public.catalogue_product": {"id": "bigint", "title": "character varying(255)"},
}


def as_sql_file(engine, statements):
    return (
        HEADER.format(engine=engine)
        + "".join(f"{statement};\n\n" for statement in statements).rstrip()
        + "\n"
    )


def generated(engine):
    olap = connections["olap"]
    olap.ensure_connection()
    schema, columns = load("oscar"), derivation.Columns(OSCAR_TYPES)
    if engine == "risingwave":
        return [*derivation.risingwave_statements(schema, columns, olap), *risingwave_view_statements()]
    return [
        *derivation.postgresql_statements(schema, columns, olap),
        *derivation.recompute_statements(schema, columns, olap),
    ]


@pytest.mark.django_db(databases=["olap"])
@pytest.mark.parametrize(("engine", "title"), [("postgresql", "PostgreSQL"), ("risingwave", "RisingWave")])
def test_generated_ddl_equals_the_golden_file(engine, title):
    path = GOLDEN / f"{engine}_oscar.sql"
    text = as_sql_file(title, generated(engine))
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{path} differs: run UPDATE_GOLDEN=1 and review the diff"


@pytest.mark.django_db(databases=["olap"])
def test_the_risingwave_file_has_only_what_risingwave_accepts():
    text = "\n".join(generated("risingwave"))
    # No NUMERIC(p, s) or VARCHAR(n), no triggers or functions, no UNIQUE, no COPY, no UUID.
    assert not re.search(r"NUMERIC\s*\(|VARCHAR\s*\(|TRIGGER|FUNCTION|UNIQUE|COPY|UUID", text)
    # Every captured table comes FROM the one shared source, by its upstream name.
    assert text.count("FROM shop_orders_cdc TABLE") == 5
    # The lines view is a streaming join over the CDC tables: each order once (a plain CTE:
    # RisingWave's WITH has no MATERIALIZED), joined to its lines grouped by ordinal per item.
    view = next(
        s for s in generated("risingwave") if s.startswith("CREATE MATERIALIZED VIEW IF NOT EXISTS orders")
    )
    assert "\nWITH o AS (\n" in view and "MATERIALIZED (" not in view
    assert 'FROM "public"."order_line" AS l' in view and "GROUP BY 1, 2\n" in view


@pytest.mark.django_db(databases=["olap"])
def test_postgresql_runs_the_lines_view_s_query_as_risingwave_would_get_it():
    """The RisingWave lines view's query, run on PostgreSQL over empty copies: valid SQL of
    the shape both speak, with the state names in place."""
    olap = connections["olap"]
    schema, columns = load("oscar"), derivation.Columns(OSCAR_TYPES)
    with olap.cursor() as cursor:  # inside the test's transaction: rolled back
        for statement in derivation.postgresql_statements(schema, columns, olap):
            cursor.execute(statement)
        cursor.executemany(derivation.FILL_STATE_NAMES, derivation.state_name_rows())
        cursor.execute(derivation.lines_query(schema, columns).as_string(olap.connection))
        assert cursor.fetchall() == []
        assert [column.name for column in cursor.description] == [
            "orderid",
            "itemid",
            "qty",
            "price",
            "dt",
            "state",
            "amount",
        ]


@pytest.mark.django_db(databases=["olap"])
def test_risingwave_s_freshness_reads_a_mapped_shop_s_captured_heartbeat():
    """On RisingWave the figures are as fresh as the captured heartbeat, which a mapped shop
    keeps in the dashboard's own schema; the query runs on PostgreSQL over such a table."""
    assert "FROM dashboard_capture.cdc_heartbeat" in FRESHNESS_MAPPED_RISINGWAVE
    with connections["olap"].cursor() as cursor:  # inside the test's transaction: rolled back
        cursor.execute("CREATE SCHEMA IF NOT EXISTS dashboard_capture")
        cursor.execute(derivation.CREATE_HEARTBEAT_COPY)
        cursor.execute("INSERT INTO dashboard_capture.cdc_heartbeat VALUES (1, now() - interval '3 seconds')")
        cursor.execute(FRESHNESS_MAPPED_RISINGWAVE)
        version, behind = cursor.fetchone()
    assert version is None and 3 <= behind < 60
