"""Mapping files (SHOP_SCHEMA): the oscar preset, what a file may say, and a clear refusal,
naming the key, of anything else; at start, the site refuses a bad one."""

import pytest
from django.db import connections
from psycopg2 import sql

from dashboard.orders.derivation import place_key_sql
from dashboard.shop.mapping import MappingError, load, parse
from dashboard.shop.places import normalise, place_key
from tests.support import ROOT
from tests.support.settings_process import boot

GOOD = """
[order]
table = "shop.orders"
key = "id"
placed = "placed_at"

[line]
table = "lines"
key = "id"
order = "order_id"
item = "sku_id"
quantity = "qty"
amount = "total"
"""


def test_the_oscar_preset_names_oscar_s_tables():
    schema = load("oscar")
    assert [table.qualified for table in schema.tables] == [
        "public.order_order",
        "public.order_line",
        "public.order_shippingaddress",
        "public.catalogue_product",
    ]
    assert schema.line.amount == "line_price_excl_tax"
    assert schema.order.number == "id"
    assert schema.cancelled == ("Cancelled",)
    assert load("oscar", ("Void", "Refused")).cancelled == ("Void", "Refused")


def test_a_minimal_file_defaults_what_it_may_leave_out():
    schema = parse(GOOD, "shop.toml")
    assert schema.order.qualified == "shop.orders"
    assert schema.line.qualified == "public.lines"
    assert schema.order.number == "id"  # the key, unless said otherwise
    assert schema.order.status is None and schema.shipping_address is None and schema.product is None
    assert schema.order.columns == ["id", "placed_at"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("amount = \"total\"", "amout = \"total\""), r"shop.toml: \[line\] amout: unknown key"),
        (("placed = \"placed_at\"", ""), r"shop.toml: \[order\] placed: missing"),
        (("item = \"sku_id\"", "item = \"sku id\""), r"\[line\] item: 'sku id' is not a plain column name"),
        (("table = \"lines\"", "table = \"a.b.c\""), r"\[line\] table: 'a.b.c' is not a table name"),
        (("quantity = \"qty\"", "quantity = 3"), r"\[line\] quantity: must be a non-empty string"),
        (("[order]", "[orders]"), r"\[orders\]: unknown section"),
        (("key = \"id\"\nplaced", "key = \"id\"\nshipping_address = \"address_id\"\nplaced"),
         r"\[order\] shipping_address: there is no \[shipping_address\] section"),
        (("table = \"lines\"", "table = \"orders_archive\""), r"public.orders_archive: a table named"),
        (("[line]", "cancelled = 'x'\n[line]"), r"\[order\] cancelled: unknown key"),
        (("key = \"id\"\nplaced", "key = \"id\nplaced"), r"shop.toml: not valid TOML"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_naming_the_key(change, message):
    old, new = change
    with pytest.raises(MappingError, match=message):
        parse(GOOD.replace(old, new, 1), "shop.toml")


def test_statuses_must_be_a_list_of_names():
    with pytest.raises(MappingError, match=r"\[statuses\] cancelled: must be a list"):
        parse(GOOD + "\n[statuses]\ncancelled = 'Cancelled'\n", "shop.toml")


def test_the_site_refuses_to_start_with_a_bad_mapping_file_and_names_the_key(tmp_path):
    bad = tmp_path / "shop.toml"
    bad.write_text(GOOD.replace('quantity = "qty"', 'quantity = "qty"\ncolour = "red"'))
    result = boot(SHOP_SCHEMA=str(bad))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"SHOP_SCHEMA: {bad}: [line] colour: unknown key" in result.stderr
    missing = boot(SHOP_SCHEMA=str(tmp_path / "nowhere.toml"))
    assert "neither a preset (sample, oscar) nor a mapping file that exists" in missing.stderr
    assert boot(SHOP_SCHEMA=str(ROOT / "tests" / "shop" / "saleor.toml")).returncode == 0


def test_the_cancelled_statuses_setting_must_name_one():
    result = boot(SHOP_SCHEMA="oscar", SHOP_CANCELLED_STATUSES=" , ")
    assert "SHOP_CANCELLED_STATUSES is set but names no status" in result.stderr


# Spellings a shop's customers type, and what they mean (written out here, not computed).
SPELLINGS = [
    ("CA", "US", "CA"),
    (" ca ", "US", "CA"),
    ("California", "US", "CA"),
    ("CALIFORNIA", "us", "CA"),
    ("new   york", "US", "NY"),
    ("District of Columbia", "US", "DC"),
    ("Washington, D.C.", "US", "DC"),
    ("Puerto Rico", "US", "PR"),
    ("", "PR", "PR"),
    ("San Juan", "PR", "PR"),
    ("", "GU", "GU"),
    ("", "VI", "VI"),
    ("", "AS", "AS"),
    ("", "MP", "MP"),
    ("Guam", "US", "GU"),
    ("U.S. Virgin Islands", "US", "VI"),
    ("CA", "GB", None),
    ("Ontario", "CA", None),
    ("", "US", None),
    ("Atlantis", "US", None),
    (None, "US", None),
    ("TX", None, None),
    ("Texas", "United States", "TX"),
    ("CA\r\n", "US", "CA"),
    ("New\u00a0Jersey", "US", "NJ"),
    ("\tnorth\ncarolina\f", "US\r", "NC"),
]


@pytest.mark.parametrize(("state", "country", "code"), SPELLINGS)
def test_states_in_any_spelling_count_for_their_code_and_other_countries_for_none(state, country, code):
    assert normalise(state, country) == code


@pytest.mark.django_db(databases=["olap"])
def test_the_database_reduces_a_spelling_to_the_same_key_as_python():
    texts = [state for state, _, _ in SPELLINGS if state is not None]
    texts += ["Café Ünïcode", "N.Y.", "a-b_c 9", "Washington,\tD.C.", "o'hare", "\vTX\u00a0\r\n"]
    olap = connections["olap"]
    olap.ensure_connection()
    key = place_key_sql(sql.SQL("%s")).as_string(olap.connection)
    with olap.cursor() as cursor:
        for text in texts:
            cursor.execute(f"SELECT {key}", [text])
            assert cursor.fetchone()[0] == place_key(text), text
