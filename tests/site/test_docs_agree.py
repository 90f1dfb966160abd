"""The documentation says what the product does (issue 20, point 8)."""

import re

from dashboard.orders.models import Order
from dashboard.us_states import STATES
from tests.support import ROOT

README = (ROOT / "README.md").read_text()
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
API = (ROOT / "docs" / "api.md").read_text()
OPERATIONS = (ROOT / "docs" / "operations.md").read_text()


def test_the_readme_lists_the_orders_columns_with_their_types():
    rows = re.findall(r"^\| `(\w+)` \| `([A-Z]+(?:\(\d+\))?)` \| (.+) \|$", README, re.MULTILINE)
    columns = {name: kind for name, kind, _ in rows}
    fields = [field.column for field in Order._meta.concrete_fields]
    assert fields == ["orderid", "itemid", "qty", "price", "dt", "state", "amount"]
    assert {name: columns.get(name) for name in fields} == {
        "orderid": "BIGINT",
        "itemid": "INT",
        "qty": "INT",
        "price": "NUMERIC",
        "dt": "DATE",
        "state": "VARCHAR(2)",
        "amount": "NUMERIC",
    }
    assert "The key is `(orderid, itemid)`" in README
    assert "unit price" in README


def test_freshness_is_one_measured_figure():
    said = r"(?:the open page moves|shows on an open dashboard)\s+within "
    said += r"(about [\d.]+ s|about a second|the time)"
    figures = re.findall(said, README + ARCHITECTURE)
    assert figures == ["about 1.2 s", "the time"], figures  # the README says it; the other points to it
    # The README's measured figure is the benchmark's, not a number of its own.
    measured = re.search(r"measured: (\d+ ms) from the shop's commit to the API", README)
    assert measured, "the README names the measured commit-to-API figure"
    assert f"p95 {measured[1]}" in (ROOT / "docs" / "benchmarks.md").read_text()


def test_state_place_of_counts_the_sample_states_as_the_page_does():
    counts = {
        int(of)
        for of in re.findall(
            r'"state_place": \{"rank": \d+, "of": (\d+)\}',
            README + API + (ROOT / "docs" / "usage.md").read_text(),
        )
    }
    assert counts == {len(STATES)} == {51}


def test_only_the_olap_side_is_said_to_be_isolated():
    for text in (ARCHITECTURE, OPERATIONS):
        assert "kept apart so one can suffer without the others" not in text
    assert "is not isolated" in OPERATIONS


def test_the_diagram_has_gen_data_write_the_olap_side_only_directly():
    assert re.search(r"gendata -->\|\"order lines \(ORDERS_SOURCE=direct\)\"\| loading", ARCHITECTURE)
    assert re.search(r"gendata -->\|\"order lines \(ORDERS_SOURCE=cdc\)[^|]*\| dbDefault", ARCHITECTURE)
    assert "gendata -->|order lines| loading" not in ARCHITECTURE
