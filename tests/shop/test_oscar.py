"""A real django-oscar shop (tests/oscar_shop/, oscar 4.2 from the package index) connected
with SHOP_SCHEMA=oscar: orders placed through oscar's own code (basket, OrderCreator, its
status pipeline, its address model), then the dashboard compared with a plain computation over
oscar's tables, read with SQL, after every step. Each rule of the oscar preset has its step:
a line per (order, product), line_price_excl_tax as turnover, the day in TIME_ZONE, the state
from any spelling (other countries and territories as countries included), cancellations
(order or line) out and back in, deleted products, renames, address edits, quantity edits,
deleted orders, the shop's history when the capture starts, and a bulk import."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connections

from dashboard.orders import capture
from dashboard.orders.selectors import OrderFilters, headline
from dashboard.web.rankings import all_rankings
from tests.shop.figures import assert_dashboard_equals
from tests.support.oscar_shop import OscarShop, create_shop_database, drop_shop_database
from tests.support.shop import shop_cursor, synced, wired

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]

NAME = "test_oscar_shop"
CANCELLED = ("Cancelled",)

# What each (state, country) of the test's addresses means: the test's own table, written out.
STATES = {
    ("CA", "US"): "CA",
    (" ca ", "US"): "CA",
    ("California", "US"): "CA",
    ("district of columbia", "US"): "DC",
    ("New  York", "US"): "NY",
    ("Puerto Rico", "US"): "PR",
    ("", "PR"): "PR",
    ("", "GU"): "GU",
    ("CA", "GB"): None,
    ("", "US"): None,
    ("Narnia", "US"): None,
    ("Texas", "US"): "TX",
    ("tx", "US"): "TX",
    ("CA\r\n", "US"): "CA",
    ("New\u00a0Jersey", "US"): "NJ",
}


@pytest.fixture(scope="module")
def oscar(django_db_setup, django_db_blocker, tmp_path_factory, migrated_oscar):
    """The oscar shop, migrated, with products and a history of orders placed before the
    capture starts (they arrive with its initial copy); then wired with SHOP_SCHEMA=oscar."""
    url = create_shop_database(NAME, template=migrated_oscar)
    shop = OscarShop(url, log_path=tmp_path_factory.mktemp("oscar") / "oscar_shop.log")
    try:
        shop.products = shop.create_products([f"Product {n}" for n in range(1, 9)], price="12.34")
        shop.place_order(
            [[shop.products[0], 2], [shop.products[1], 1]], address={"state": "CA", "country": "US"}
        )
        shop.place_order([[shop.products[2], 3]], address={"state": "tx", "country": "US"})
        with django_db_blocker.unblock(), wired(NAME, "oscar"):
            yield shop
    finally:
        shop.close()
        drop_shop_database(NAME)


def expected_from_oscar(shop):
    """The dashboard's lines computed from oscar's tables: one per (order, product) of an
    order and a line that are not cancelled, quantities and line_price_excl_tax summed, the
    day date_placed in UTC, the state by the test's table."""
    rows = shop.sql(
        "SELECT o.id, o.date_placed, o.status, a.state, a.country_id, l.product_id, l.quantity, "
        "l.line_price_excl_tax, l.status FROM order_line AS l JOIN order_order AS o ON o.id = l.order_id "
        "LEFT JOIN order_shippingaddress AS a ON a.id = o.shipping_address_id"
    )
    grouped = defaultdict(lambda: [0, Decimal(0)])
    meta = {}
    for order, placed, status, state, country, product, quantity, amount, line_status in rows:
        if status in CANCELLED or line_status in CANCELLED:
            continue
        key = (order, product)
        grouped[key][0] += quantity
        grouped[key][1] += Decimal(amount)
        day = datetime.datetime.fromisoformat(placed).astimezone(datetime.UTC).date()
        meta[key] = (day, STATES[(state, country)] if country is not None else None)
    return [
        (order, product, qty, None, *meta[(order, product)], amount)
        for (order, product), (qty, amount) in grouped.items()
    ]


def check(shop, days=None):
    synced(NAME, "oscar")
    assert_dashboard_equals(expected_from_oscar(shop), some_days=days or (datetime.date.today(),) * 2)


def test_the_shops_history_arrives_with_the_capture(oscar):
    check(oscar)
    assert headline(OrderFilters()).orders == 2
    # Switched on after the initial copy: the stamps' indexes, built then (not kept up during it).
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname = tablename || '_captured_shop' "
            "AND tablename IN ('order_order', 'order_line', 'order_shippingaddress') ORDER BY 1"
        )
        indexed = [name for (name,) in cursor.fetchall()]
    assert indexed == ["order_line", "order_order", "order_shippingaddress"]


def test_orders_placed_through_oscar_with_hostile_addresses(oscar):
    p = oscar.products
    for n, (state, country) in enumerate(STATES):
        oscar.place_order(
            [[p[n % 8], 1 + n % 3], [p[(n + 3) % 8], 2]], address={"state": state, "country": country}
        )
    oscar.place_order([[p[4], 1]], address=None)  # no shipping address: no state, still an item sale
    # One product in two oscar lines of one order: one dashboard line, quantities and amounts summed.
    twice = oscar.place_order(
        [[p[5], 2], [p[5], 3]], address={"state": "California", "country": "US"}, separate_lines=True
    )
    check(oscar)
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT qty, amount FROM orders WHERE orderid = %s", [twice["order_id"]])
        assert cursor.fetchall() == [(5, Decimal("61.70"))]


def test_the_day_is_date_placed_in_the_time_zone(oscar):
    late = datetime.datetime(2026, 4, 1, 23, 59, 30, tzinfo=datetime.UTC)
    early = datetime.datetime(2026, 4, 2, 0, 0, 10, tzinfo=datetime.UTC)
    first = oscar.place_order(
        [[oscar.products[0], 1]], address={"state": "CA", "country": "US"}, date_placed=late.isoformat()
    )
    second = oscar.place_order(
        [[oscar.products[0], 1]], address={"state": "CA", "country": "US"}, date_placed=early.isoformat()
    )
    check(oscar, days=(datetime.date(2026, 4, 1), datetime.date(2026, 4, 1)))
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT orderid, dt FROM orders WHERE orderid IN (%s, %s) ORDER BY orderid",
            [first["order_id"], second["order_id"]],
        )
        assert cursor.fetchall() == [
            (first["order_id"], datetime.date(2026, 4, 1)),
            (second["order_id"], datetime.date(2026, 4, 2)),
        ]


def test_cancelling_an_order_or_a_line_takes_it_out_and_undoing_it_brings_it_back(oscar):
    p = oscar.products
    order = oscar.place_order([[p[6], 4], [p[7], 1]], address={"state": "Texas", "country": "US"})
    other = oscar.place_order([[p[6], 1], [p[7], 5]], address={"state": "Texas", "country": "US"})
    check(oscar)
    oscar.set_status(order["order_id"], "Cancelled")  # cascades to its lines
    oscar.set_line_status(other["line_ids"][1], "Cancelled")  # one line of another order
    check(oscar)
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders WHERE orderid = %s", [order["order_id"]])
        assert cursor.fetchone() == (0,)
    oscar.set_status(order["order_id"], "Pending")  # the pipeline allows it back
    check(oscar)
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders WHERE orderid = %s", [order["order_id"]])
        assert cursor.fetchone() == (2,)


def test_edits_move_the_figures(oscar):
    p = oscar.products
    order = oscar.place_order([[p[0], 1], [p[1], 2]], address={"state": "CA", "country": "US"})
    gone = oscar.place_order([[p[2], 7]], address={"state": "New  York", "country": "US"})
    check(oscar)
    oscar.edit_address(order["order_id"], state="district of columbia")  # only order_shippingaddress changes
    oscar.set_line_quantity(order["line_ids"][0], 6)
    oscar.delete_order(gone["order_id"])  # its lines go with it
    check(oscar)
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT DISTINCT state FROM orders WHERE orderid = %s", [order["order_id"]])
        assert cursor.fetchall() == [("DC",)]


def test_an_order_entering_a_day_as_another_leaves_its_item_is_counted_in_one_fold(oscar):
    """One fold where the lines of an item in a (state, day) cancel out (one order adds the
    same quantity of it that another takes out) while the day gains an order: the order
    counts come from each order's lines before and after, not from the items' sums."""
    p = oscar.products
    kept = oscar.place_order([[p[4], 2], [p[5], 1]], address={"state": "Texas", "country": "US"})
    check(oscar)
    before = headline(OrderFilters(state="TX")).orders
    oscar.place_order([[p[4], 2]], address={"state": "tx", "country": "US"})
    oscar.set_line_status(kept["line_ids"][0], "Cancelled")
    check(oscar)
    assert headline(OrderFilters(state="TX")).orders == before + 1


def test_a_deleted_product_stays_a_sale_and_a_rename_relabels_at_once(oscar):
    p = oscar.products
    oscar.place_order([[p[3], 9]], address={"state": "CA", "country": "US"})
    oscar.rename_product(p[0], "Teal Oak Mug")
    oscar.delete_product(p[3])  # oscar sets order_line.product_id NULL
    check(oscar)
    rankings = {ranking.name: ranking for ranking in all_rankings(OrderFilters())}
    for name in ("items_by_turnover", "items_by_total_qty", "items_by_avg_qty"):
        keys = [entry.key for entry in rankings[name].entries]
        assert p[3] not in keys and None not in keys
    labels = {entry.key: entry.label for entry in rankings["items_by_turnover"].entries}
    assert labels.get(p[0]) == "Teal Oak Mug"
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders WHERE itemid IS NULL")
        assert cursor.fetchone()[0] >= 1


def test_a_bulk_import_in_one_transaction(oscar):
    """Big enough that its fold first analyses the copies and the dashboard's lines (planned
    from their statistics before the import, it could loop over them once per order)."""
    products = oscar.create_products([f"Imported {n}" for n in range(5)], price="3.10")
    imported = oscar.bulk_import(
        orders=capture.BIG_FOLD,
        lines_per_order=3,
        first_product=products[0],
        products=5,
        state=" ca ",
        country="US",
        method="copy",
    )
    assert imported["lines"] == 3 * capture.BIG_FOLD
    check(oscar)
    with connections["olap"].cursor() as cursor:  # the copy of order_line, analysed with the import
        cursor.execute(
            "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'public.order_line'::regclass), count(*) "
            "FROM public.order_line"
        )
        estimate, lines = cursor.fetchone()
    assert estimate == lines


def test_the_page_labels_items_from_the_shop_and_offers_no_catalog_branch(oscar, user_client):
    oscar.rename_product(oscar.products[1], "Jute Rug from the shop")
    check(oscar)
    page = user_client.get("/")
    assert page.status_code == 200
    assert "Catalog branch" not in page.text
    api = user_client.get("/api/rankings/").json()
    labels = {entry["key"]: entry["label"] for entry in api["rankings"]["items_by_total_qty"]}
    assert labels and all(not label.startswith("Item ") for label in labels.values())
    titles = dict(oscar.sql("SELECT id, title FROM catalogue_product"))
    assert labels == {key: titles[key] for key in labels}


def test_a_truncated_table_takes_its_figures_with_it(oscar):
    """Last: it empties the shop. A TRUNCATE, which logical replication carries and no row
    trigger sees, leaves no figure behind; orders placed after it count as before."""
    with shop_cursor(NAME) as cursor:
        cursor.execute("TRUNCATE order_line CASCADE")  # the orders stay, without lines
    check(oscar)
    assert headline(OrderFilters()).orders == 0
    oscar.place_order([[oscar.products[0], 2]], address={"state": "Texas", "country": "US"})
    check(oscar)
    assert headline(OrderFilters()).orders == 1
    with shop_cursor(NAME) as cursor:
        cursor.execute("TRUNCATE order_order CASCADE")
    check(oscar)
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders")
        assert cursor.fetchone()[0] == 0
