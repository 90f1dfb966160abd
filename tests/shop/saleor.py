"""The tests' saleor-like shop (tests/shop/saleor.toml): its schema, written by a plain client
of its own database, what its test addresses mean, and the dashboard's lines computed from
its tables in plain Python. Shared by the mapping file's tests and the fault tests."""

import datetime
import uuid
from contextlib import contextmanager
from decimal import Decimal

from tests.support import ROOT
from tests.support.shop import drop_database, expected_lines, recreate_database, shop_cursor, wired

NAME = "test_dashboard_saleor_shop"
MAPPING = str(ROOT / "tests" / "shop" / "saleor.toml")
CANCELLED = ("canceled", "draft")

SCHEMA = """
CREATE TABLE account_address (
    id serial PRIMARY KEY, country varchar(2) NOT NULL, country_area varchar(128));
CREATE TABLE product_productvariant (id serial PRIMARY KEY, name varchar(255) NOT NULL);
CREATE TABLE order_order (
    id uuid PRIMARY KEY, number integer UNIQUE NOT NULL, status varchar(32) NOT NULL,
    created_at timestamptz NOT NULL,
    shipping_address_id integer REFERENCES account_address ON DELETE SET NULL);
CREATE TABLE order_orderline (
    id uuid PRIMARY KEY, order_id uuid NOT NULL REFERENCES order_order ON DELETE CASCADE,
    variant_id integer REFERENCES product_productvariant ON DELETE SET NULL,
    quantity integer NOT NULL, total_price_net_amount numeric(20, 3) NOT NULL);
"""

# What each (state text, country) of the test data means: the test's own table, written out.
STATES = {
    ("CA", "US"): "CA",
    (" ca ", "US"): "CA",
    ("California", "US"): "CA",
    ("new   YORK", "US"): "NY",
    ("District of Columbia", "US"): "DC",
    ("Puerto Rico", "US"): "PR",
    ("", "PR"): "PR",
    ("Guam", "GU"): "GU",
    ("CA", "GB"): None,  # a British county that reads CA is not California
    ("", "US"): None,
    ("Atlantis", "US"): None,
    ("Texas", "us"): "TX",
    ("NY", "US"): "NY",
    ("washington", "US"): "WA",
    ("tx", "US"): "TX",
    (" New York ", "US"): "NY",
    ("Texas", "US"): "TX",
    ("ca", "US"): "CA",
    ("Texas", "PR"): "PR",  # Puerto Rico as the country counts as Puerto Rico, whatever the state says
    ("Texas", "GB"): None,
    ("TX", "US"): "TX",
    # A shop that leaves the state NULL (this one's column may be): a territory as the country
    # still counts, the United States alone is no state.
    (None, "PR"): "PR",
    (None, "US"): None,
}


@contextmanager
def saleor_shop(variants):
    """The shop's database with `variants` product variants, captured as the mapping file
    says; dropped afterwards."""
    recreate_database(NAME)
    with shop_cursor(NAME) as cursor:
        cursor.execute(SCHEMA)
        cursor.executemany(
            "INSERT INTO product_productvariant (name) VALUES (%s)",
            [(f"Variant {n}",) for n in range(1, variants + 1)],
        )
    try:
        with wired(NAME, MAPPING):
            yield
    finally:
        drop_database(NAME)


def address(cursor, state, country):
    cursor.execute(
        "INSERT INTO account_address (country, country_area) VALUES (%s, %s) RETURNING id", [country, state]
    )
    return cursor.fetchone()[0]


def place(cursor, number, lines, *, state="", country="US", shipped=True, status="unfulfilled", when=None):
    """An order with its lines and, if `shipped`, its shipping address, in the shop's own
    transaction; its UUID."""
    address_id = address(cursor, state, country) if shipped else None
    order_id = uuid.uuid4()
    placed = when or datetime.datetime(2026, 4, 2, 23, 30, tzinfo=datetime.UTC)
    cursor.execute(
        "INSERT INTO order_order VALUES (%s, %s, %s, %s, %s)",
        [str(order_id), number, status, placed, address_id],
    )
    for variant, quantity, amount in lines:
        cursor.execute(
            "INSERT INTO order_orderline VALUES (%s, %s, %s, %s, %s)",
            [str(uuid.uuid4()), str(order_id), variant, quantity, Decimal(amount)],
        )
    return order_id


def expected_from_shop():
    with shop_cursor(NAME) as cursor:
        cursor.execute("SELECT id, number, created_at, status, shipping_address_id FROM order_order")
        orders = {
            str(key): (number, placed, status, address) for key, number, placed, status, address in cursor
        }
        cursor.execute(
            "SELECT order_id, variant_id, quantity, total_price_net_amount, NULL FROM order_orderline"
        )
        lines = [(str(order), item, qty, amount, status) for order, item, qty, amount, status in cursor]
        cursor.execute("SELECT id, country_area, country FROM account_address")
        addresses = {key: (state, country) for key, state, country in cursor}
    return expected_lines(orders, lines, addresses, STATES, CANCELLED)
