"""A shop on a schema of its own, through a mapping file (tests/shop/saleor.toml): UUID order
and line ids, the dashboard's order id is the order's integer number, lines point to a
variant, money has three decimals. Written by a plain client of the shop's own database and
captured through a real publication and subscription, the dashboard equals a plain
computation over the shop's tables at every step: hostile states, two lines of one variant,
cancelled and draft orders, address edits, a variant deleted, an order deleted with its lines.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connections

from dashboard.orders.selectors import OrderFilters, headline
from dashboard.web.rankings import all_rankings
from tests.shop.figures import assert_dashboard_equals
from tests.shop.saleor import MAPPING, NAME, STATES, expected_from_shop, place, saleor_shop
from tests.support.shop import shop_cursor, synced

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), saleor_shop(variants=6):
        yield


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
        place(cursor, 2002, [(2, 5, "50.000")], shipped=False)  # no shipping address: no state
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
