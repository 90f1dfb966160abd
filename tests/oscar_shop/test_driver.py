"""The shop driver places and changes orders through oscar's own code, and each of its commands
writes what a real oscar shop would write. The shop is started once for the module."""

import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.support.oscar_shop import OscarShop, OscarShopError, create_shop_database, drop_shop_database

pytestmark = pytest.mark.slow

CA = {"state": "CA", "country": "US"}
TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, migrated_oscar: str) -> Iterator[OscarShop]:
    url = create_shop_database(template=migrated_oscar)
    try:
        with OscarShop(url, log_path=tmp_path_factory.mktemp("oscar_shop") / "driver.log") as shop:
            started = time.monotonic()
            shop.migrate()
            TIMINGS["migrate"] = time.monotonic() - started
            yield shop
    finally:
        drop_shop_database()


@pytest.fixture(scope="module")
def products(shop: OscarShop) -> list[int]:
    return shop.create_products(["Apple", "Pear", "Plum"], price="2.50")


def lines_of(shop: OscarShop, order_id: int) -> list[list]:
    return shop.sql(
        "SELECT id, product_id, quantity, line_price_excl_tax, status FROM order_line"
        " WHERE order_id = %s ORDER BY id",
        [order_id],
    )


def test_migrate_is_idempotent_and_ships_to_the_tests_countries(shop: OscarShop) -> None:
    print(f"oscar's migrate took {TIMINGS['migrate']:.1f} s")
    shop.migrate()  # again: nothing to do, nothing duplicated
    countries = shop.sql(
        "SELECT iso_3166_1_a2 FROM address_country WHERE is_shipping_country ORDER BY iso_3166_1_a2"
    )
    assert [code for (code,) in countries] == sorted(["US", "GB", "CA", "PR", "GU", "VI", "AS", "MP"])
    assert shop.sql("SELECT count(*) FROM partner_partner") == [[1]]
    # The ids are bigint (DEFAULT_AUTO_FIELD), as in the shops the dashboard connects to.
    assert shop.sql(
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_name = 'order_order' AND column_name = 'id'"
    ) == [["bigint"]]


def test_an_order_with_an_address(shop: OscarShop, products: list[int]) -> None:
    apple, pear, _ = products
    placed = shop.place_order([[apple, 2], [pear, 1]], address=CA)
    assert (
        placed["number"]
        == shop.sql("SELECT number FROM order_order WHERE id = %s", [placed["order_id"]])[0][0]
    )
    assert [row[1:] for row in lines_of(shop, placed["order_id"])] == [
        [apple, 2, "5.00", "Pending"],
        [pear, 1, "2.50", "Pending"],
    ]
    assert shop.sql(
        "SELECT o.status, o.total_excl_tax, o.currency, a.state, a.country_id FROM order_order o"
        " JOIN order_shippingaddress a ON a.id = o.shipping_address_id WHERE o.id = %s",
        [placed["order_id"]],
    ) == [["Pending", "7.50", "USD", "CA", "US"]]


def test_an_order_without_an_address_and_with_a_status(shop: OscarShop, products: list[int]) -> None:
    placed = shop.place_order([[products[0], 1]], address=None, status="Being processed")
    assert shop.sql(
        "SELECT shipping_address_id, status FROM order_order WHERE id = %s", [placed["order_id"]]
    ) == [[None, "Being processed"]]
    # The lines start in the status the order's cascades to.
    assert [row[4] for row in lines_of(shop, placed["order_id"])] == ["Being processed"]


def test_one_product_twice_merges_or_stays_two_lines(shop: OscarShop, products: list[int]) -> None:
    apple = products[0]
    merged = shop.place_order([[apple, 1], [apple, 2]], address=CA)
    assert [row[1:3] for row in lines_of(shop, merged["order_id"])] == [[apple, 3]]

    separate = shop.place_order([[apple, 1], [apple, 2]], address=CA, separate_lines=True)
    assert [row[1:3] for row in lines_of(shop, separate["order_id"])] == [[apple, 1], [apple, 2]]
    assert len(separate["line_ids"]) == 2


def test_a_status_change_cascades_and_a_cancellation_can_be_undone(
    shop: OscarShop, products: list[int]
) -> None:
    placed = shop.place_order([[products[0], 1], [products[1], 1]], address=CA)
    order_id = placed["order_id"]
    assert shop.set_status(order_id, "Cancelled") == {
        "status": "Cancelled",
        "line_statuses": ["Cancelled"] * 2,
    }
    assert shop.set_status(order_id, "Pending") == {"status": "Pending", "line_statuses": ["Pending"] * 2}
    assert shop.set_status(order_id, "Being processed")["line_statuses"] == ["Being processed"] * 2
    assert shop.set_status(order_id, "Complete")["line_statuses"] == ["Complete"] * 2
    assert shop.sql(
        "SELECT new_status FROM order_orderstatuschange WHERE order_id = %s ORDER BY id", [order_id]
    ) == [
        ["Cancelled"],
        ["Pending"],
        ["Being processed"],
        ["Complete"],
    ]
    with pytest.raises(OscarShopError, match="InvalidOrderStatus"):
        shop.set_status(order_id, "Pending")  # Complete is final
    assert shop.sql("SELECT status FROM order_order WHERE id = %s", [order_id]) == [["Complete"]]


def test_a_line_status_and_quantity(shop: OscarShop, products: list[int]) -> None:
    placed = shop.place_order([[products[0], 1], [products[1], 2]], address=CA)
    first, second = placed["line_ids"]
    assert shop.set_line_status(first, "Cancelled") == "Cancelled"
    assert shop.set_line_quantity(second, 5) == {
        "line_price_excl_tax": "12.50",
        "line_price_incl_tax": "12.50",
    }
    assert [row[2:] for row in lines_of(shop, placed["order_id"])] == [
        [1, "2.50", "Cancelled"],
        [5, "12.50", "Pending"],
    ]
    with pytest.raises(OscarShopError, match="InvalidLineStatus"):
        shop.set_line_status(first, "Complete")


def test_an_address_edit_changes_only_the_address_row(shop: OscarShop, products: list[int]) -> None:
    placed = shop.place_order([[products[0], 1]], address=CA)
    before = shop.sql("SELECT * FROM order_order WHERE id = %s", [placed["order_id"]])
    address_id = shop.edit_address(placed["order_id"], state="PR", country="PR")
    assert shop.sql("SELECT * FROM order_order WHERE id = %s", [placed["order_id"]]) == before
    assert shop.sql(
        "SELECT id, state, country_id FROM order_shippingaddress WHERE id = %s", [address_id]
    ) == [[address_id, "PR", "PR"]]
    without = shop.place_order([[products[0], 1]], address=None)
    with pytest.raises(OscarShopError, match="has no shipping address"):
        shop.edit_address(without["order_id"], state="CA")


def test_renaming_and_deleting_a_product(shop: OscarShop) -> None:
    (quince,) = shop.create_products(["Quince"])
    placed = shop.place_order([[quince, 2]], address=CA)
    shop.rename_product(quince, "Golden quince")
    assert shop.sql("SELECT title FROM catalogue_product WHERE id = %s", [quince]) == [["Golden quince"]]
    # The order line keeps the title it was sold under.
    assert shop.sql("SELECT title FROM order_line WHERE order_id = %s", [placed["order_id"]]) == [["Quince"]]

    shop.delete_product(quince)
    assert shop.sql("SELECT count(*) FROM catalogue_product WHERE id = %s", [quince]) == [[0]]
    assert shop.sql(
        "SELECT product_id, stockrecord_id, quantity FROM order_line WHERE order_id = %s",
        [placed["order_id"]],
    ) == [[None, None, 2]]


def test_deleting_an_order_deletes_its_lines(shop: OscarShop, products: list[int]) -> None:
    placed = shop.place_order([[products[0], 1], [products[1], 1]], address=CA)
    shop.delete_order(placed["order_id"])
    assert shop.sql("SELECT count(*) FROM order_order WHERE id = %s", [placed["order_id"]]) == [[0]]
    assert shop.sql("SELECT count(*) FROM order_line WHERE order_id = %s", [placed["order_id"]]) == [[0]]


def test_a_failed_command_writes_nothing_and_the_driver_carries_on(
    shop: OscarShop, products: list[int]
) -> None:
    orders = shop.sql("SELECT count(*) FROM order_order")
    with pytest.raises(OscarShopError, match="DoesNotExist"):
        shop.place_order([[products[0], 1], [10**9, 1]], address=CA)
    assert shop.sql("SELECT count(*) FROM order_order") == orders
    with pytest.raises(OscarShopError, match="read-only"):
        shop.sql("DELETE FROM order_order")
    assert shop.ping() == "pong"


@pytest.mark.parametrize("method", ["bulk_create", "copy"])
def test_bulk_import(shop: OscarShop, method: str) -> None:
    first_product = shop.create_products([f"Bulk {method} {i}" for i in range(7)], price="2.50")[0]
    started = time.monotonic()
    imported = shop.bulk_import(
        orders=1000,
        lines_per_order=3,
        first_product=first_product,
        products=7,
        state="TX",
        date_placed="2026-01-02T03:04:05+00:00",
        method=method,
    )
    seconds = time.monotonic() - started
    print(f"bulk_import ({method}): 3000 lines in {seconds:.2f} s, {3000 / seconds:.0f} lines/s")
    assert imported["orders"] == 1000 and imported["lines"] == 3000
    span = [imported["first_order_id"], imported["last_order_id"]]
    assert shop.sql(
        "SELECT count(DISTINCT o.id), count(*), sum(l.quantity), sum(l.line_price_excl_tax),"
        " min(a.state), max(a.state), count(DISTINCT a.id), min(o.date_placed), count(DISTINCT o.number)"
        " FROM order_order o JOIN order_line l ON l.order_id = o.id"
        " JOIN order_shippingaddress a ON a.id = o.shipping_address_id WHERE o.id BETWEEN %s AND %s",
        span,
    ) == [[1000, 3000, 6000, "15000.00", "TX", "TX", 1000, "2026-01-02T03:04:05+00:00", 1000]]
    # Line j of order i is product first + (i * 3 + j) % 7, quantity 1, 2, 3 by the same index.
    assert shop.sql(
        "SELECT product_id, quantity FROM order_line WHERE order_id = %s ORDER BY id", [span[0] + 1]
    ) == [[first_product + 3, 1], [first_product + 4, 2], [first_product + 5, 3]]
    # Each order's total is its lines'.
    assert shop.sql(
        "SELECT count(*) FROM order_order o WHERE o.id BETWEEN %s AND %s AND o.total_excl_tax <>"
        " (SELECT sum(line_price_excl_tax) FROM order_line WHERE order_id = o.id)",
        span,
    ) == [[0]]


def test_the_driver_ignores_sigint_and_exits_on_quit(shop: OscarShop, tmp_path) -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a parent without a terminal may
    try:
        second = OscarShop(shop.database_url, log_path=tmp_path / "second.log")
    finally:
        signal.signal(signal.SIGINT, previous)
    with second:
        assert second.ping() == "pong"
        process = second._process
        assert process is not None
        os.kill(process.pid, signal.SIGINT)
        assert second.ping() == "pong"
        assert second.sql("SELECT 1") == [[1]]
    assert process.returncode == 0
    with pytest.raises(OscarShopError, match="closed"):
        second.ping()
