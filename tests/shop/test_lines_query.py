"""The lines' query of a mapped shop (dashboard.orders.derivation.lines_query) in both of its
forms over one set of hostile addresses: RisingWave's view, which looks each order's state up
in the order's row, and PostgreSQL's recomputation, which looks each way of writing a state
up once and joins it back. Both are checked against places.normalise, the Python reference,
with and without a country column in the mapping, on the OLAP database (PostgreSQL runs
both forms: they are plain SQL)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connections
from psycopg2 import sql

from dashboard.orders.derivation import (
    CREATE_STATE_NAMES,
    FILL_STATE_NAMES,
    lines_query,
    read_columns,
    state_name_rows,
)
from dashboard.shop.mapping import parse
from dashboard.shop.places import normalise

pytestmark = pytest.mark.django_db(databases=["olap"])

SCHEMA = "lines_query_shop"
# (state, country) as a shop's customers and code leave them, NULLs included.
ADDRESSES = [
    ("ca", "US"),
    (None, "PR"),
    ("", "PR"),
    (None, "US"),
    ("", "US"),
    ("Texas ", None),
    ("tx", None),
    (None, None),
    ("California", "GB"),
    ("Puerto Rico", "us"),
    ("  new\tyork ", "United States"),
    ("CA", "gb"),
    ("Guam", "US"),
    ("ca", "US"),  # the same spelling twice: one lookup, two orders
]
MAPPING = f"""
[order]
table = "{SCHEMA}.orders"
key = "id"
placed = "placed"
shipping_address = "address_id"

[line]
table = "{SCHEMA}.lines"
key = "id"
order = "order_id"
item = "item"
quantity = "quantity"
amount = "amount"

[shipping_address]
table = "{SCHEMA}.addresses"
key = "id"
state = "state"
"""
WITH_COUNTRY = MAPPING + 'country = "country"\n'


@pytest.fixture
def shop_tables():
    """A shop's tables in a schema of their own on the OLAP database, each address with two
    orders (one of them without an address), and the state names setup writes; rolled back
    with the test."""
    olap = connections["olap"]
    with olap.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        cursor.execute(
            f"CREATE TABLE {SCHEMA}.addresses (id int PRIMARY KEY, state varchar, country varchar)"
        )
        cursor.execute(f"CREATE TABLE {SCHEMA}.orders (id int PRIMARY KEY, placed date, address_id int)")
        cursor.execute(
            f"CREATE TABLE {SCHEMA}.lines (id int PRIMARY KEY, order_id int, item int, quantity int, "
            "amount numeric)"
        )
        cursor.executemany(
            f"INSERT INTO {SCHEMA}.addresses VALUES (%s, %s, %s)",
            [(n, state, country) for n, (state, country) in enumerate(ADDRESSES, start=1)],
        )
        orders = [(n, n) for n in range(1, len(ADDRESSES) + 1)] + [(len(ADDRESSES) + 1, None)]
        cursor.executemany(
            f"INSERT INTO {SCHEMA}.orders VALUES (%s, %s, %s)",
            [(order, datetime.date(2026, 3, 1), address) for order, address in orders],
        )
        cursor.executemany(
            f"INSERT INTO {SCHEMA}.lines VALUES (%s, %s, 7, 1, %s)",
            [(order, order, Decimal("1.50")) for order, _ in orders],
        )
        # The query names the state names table as setup makes it, unqualified: here, this schema's.
        cursor.execute(f"SET LOCAL search_path = {SCHEMA}, public")
        cursor.execute(CREATE_STATE_NAMES)
        cursor.executemany(FILL_STATE_NAMES, state_name_rows())
        cursor.execute("CREATE TEMP TABLE lines_query_touched (orderid BIGINT) ON COMMIT DROP")
        cursor.execute(f"INSERT INTO lines_query_touched SELECT id FROM {SCHEMA}.orders")
    return {order: ADDRESSES[address - 1] if address else None for order, address in orders}


def states_of(mapping, *, touched):
    """{order id: its state} as the lines' query computes them."""
    olap = connections["olap"]
    schema = parse(mapping, "shop.toml")
    query = lines_query(schema, read_columns(olap, schema), touched=touched)
    with olap.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection))
        return {order: state for order, _, _, _, _, state, _ in cursor.fetchall()}


@pytest.mark.parametrize(
    ("mapping", "with_country"),
    [(MAPPING, False), (WITH_COUNTRY, True)],
    ids=["state only", "state and country"],
)
def test_both_forms_give_every_order_the_state_python_gives(shop_tables, mapping, with_country):
    # Without a country column every address counts as the United States'.
    expected = {
        order: None if address is None else normalise(address[0], address[1] if with_country else "US")
        for order, address in shop_tables.items()
    }
    assert any(state is not None for state in expected.values())
    assert states_of(mapping, touched=None) == expected  # RisingWave's view
    assert states_of(mapping, touched=sql.SQL("pg_temp.lines_query_touched")) == expected  # the recomputation
