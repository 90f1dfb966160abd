"""A shop on a schema of its own, through a mapping file (tests/shop/saleor.toml): UUID order
and line ids, the dashboard's order id is the order's integer number, lines point to a
variant, money has three decimals. Written by a plain client of the shop's own database and
captured through a real publication and subscription, the dashboard equals a plain
computation over the shop's tables at every step: hostile states, two lines of one variant,
cancelled and draft orders, address edits, a variant deleted, an order deleted with its lines.
"""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connections

from dashboard.orders.selectors import OrderFilters, headline
from dashboard.web.rankings import all_rankings
from tests.shop.figures import assert_dashboard_equals
from tests.support import ROOT
from tests.support.shop import drop_database, recreate_database, shop_cursor, synced, wired

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]

NAME = "test_dashboard_saleor_shop"
MAPPING = str(ROOT / "tests" / "shop" / "saleor.toml")
CANCELLED = ("canceled", "draft")

SCHEMA = """
CREATE TABLE account_address (
    id serial PRIMARY KEY, country varchar(2) NOT NULL, country_area varchar(128) NOT NULL);
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
}


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    recreate_database(NAME)
    with shop_cursor(NAME) as cursor:
        cursor.execute(SCHEMA)
        cursor.executemany(
            "INSERT INTO product_productvariant (name) VALUES (%s)", [(f"Variant {n}",) for n in range(1, 7)]
        )
    try:
        with django_db_blocker.unblock(), wired(NAME, MAPPING):
            yield
    finally:
        drop_database(NAME)


def address(cursor, state, country):
    cursor.execute(
        "INSERT INTO account_address (country, country_area) VALUES (%s, %s) RETURNING id", [country, state]
    )
    return cursor.fetchone()[0]


def place(cursor, number, lines, *, state=None, country="US", status="unfulfilled", when=None):
    """An order with its address and lines, in the shop's own transaction; its UUID."""
    address_id = address(cursor, state, country) if state is not None else None
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
    from tests.support.shop import expected_lines

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


def check():
    synced(NAME, MAPPING)
    assert_dashboard_equals(expected_from_shop())


def test_hostile_addresses_duplicate_variants_and_cancelled_orders(shop):
    with shop_cursor(NAME) as cursor:
        for number, (state, country) in enumerate(STATES, start=1001):
            place(
                cursor,
                number,
                [(number % 6 + 1, 2, "10.125"), ((number + 1) % 6 + 1, 1, "3.333")],
                state=state,
                country=country,
            )
        place(cursor, 2001, [(1, 1, "1.001"), (1, 3, "2.002")], state="California")  # one variant twice
        place(cursor, 2002, [(2, 5, "50.000")])  # no shipping address: no state
        place(cursor, 2003, [(3, 1, "99.999")], state="TX", status="canceled")
        place(cursor, 2004, [(3, 1, "77.777")], state="TX", status="draft")
        # Late in the evening in UTC is still that day: the day is created_at in TIME_ZONE.
        place(
            cursor,
            2005,
            [(4, 1, "5.000")],
            state="NY",
            when=datetime.datetime(2026, 4, 3, 0, 0, tzinfo=datetime.UTC),
        )
    check()
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT itemid, qty, amount FROM orders WHERE orderid = 2001")
        assert cursor.fetchall() == [(1, 4, Decimal("3.003"))]  # two lines of one variant: one line


def test_edits_cancellations_deletions_move_the_figures(shop):
    with shop_cursor(NAME) as cursor:
        cursor.execute("SELECT id FROM order_order WHERE number = 1001")
        (first,) = cursor.fetchone()
        # An address edit moves every line of its order to the new state.
        cursor.execute(
            "UPDATE account_address SET country_area = 'washington' "
            "WHERE id = (SELECT shipping_address_id FROM order_order WHERE id = %s)",
            [first],
        )
        cursor.execute("UPDATE order_order SET status = 'canceled' WHERE number = 1002")
        cursor.execute("UPDATE order_order SET status = 'unfulfilled' WHERE number = 2003")  # brought back
        cursor.execute("UPDATE order_orderline SET quantity = quantity + 4 WHERE order_id = %s", [first])
        cursor.execute("DELETE FROM product_productvariant WHERE id = 2")  # its lines stay, with no item
        cursor.execute("DELETE FROM order_order WHERE number = 1003")  # its lines go with it
    check()
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders WHERE itemid IS NULL")
        assert cursor.fetchone()[0] > 0


def test_renamed_variants_label_the_items_and_product_less_lines_rank_nowhere(shop):
    with shop_cursor(NAME) as cursor:
        cursor.execute("UPDATE product_productvariant SET name = 'Teal Oak Mug' WHERE id = 1")
    synced(NAME, MAPPING)
    rankings = {ranking.name: ranking for ranking in all_rankings(OrderFilters())}
    labels = {entry.key: entry.label for entry in rankings["items_by_turnover"].entries}
    assert labels.get(1) == "Teal Oak Mug"
    assert None not in labels
    # Lines with no item still count in the headline (over the lines with a state).
    assert headline(OrderFilters()).lines == sum(1 for line in expected_from_shop() if line[5] is not None)
