"""The state filter: only US states and territories, or states the orders hold, and with a
state chosen, where it ranks among all the states."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.orders.selectors import FROM_RAW, OrderFilters, state_in_orders, state_place
from dashboard.us_states import STATES, TERRITORIES, state_choices, state_name
from tests.support.orders import insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

PAGE = reverse("dashboard:index")
API = reverse("dashboard:api-rankings")
CSV = "/api/rankings/states_by_turnover.csv"
DAY = datetime.date(2026, 5, 4)


def shown(body):
    return [
        (entry["key"], entry["label"], entry["value"]) for entry in body["rankings"]["states_by_turnover"]
    ]


@pytest.mark.parametrize("code", ["XX", "xx", "QQ"])
def test_a_code_that_is_no_state_gets_400_from_the_api_and_the_csv(user_client, code):
    for url in (API, CSV):
        response = user_client.get(url, {"state": code})
        assert response.status_code == 400
        assert response.json() == {"error": f"state: {code.upper()} is not a US state or territory"}


def test_a_code_that_is_no_state_gets_400_on_the_page(user_client):
    response = user_client.get(PAGE, {"state": "XX", "start": "2026-01-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters can't be used: state: XX is not a US state or territory." in html
    assert "All orders in XX" not in html
    assert "<canvas" not in html


def test_other_problems_are_listed_with_it(user_client):
    response = user_client.get(API, {"state": "XX", "start": "yesterday"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "start: must be a date like 2026-01-31; state: XX is not a US state or territory"
    }


def test_territories_are_states_to_the_filter_and_the_menu():
    assert set(TERRITORIES) == {"PR", "GU", "VI", "AS", "MP"}
    assert not set(TERRITORIES) & set(STATES)  # the sample data's weights stay as they were
    assert len(STATES) == 51
    assert state_name("PR") == "Puerto Rico"
    assert ("PR", "Puerto Rico") in state_choices()
    assert [name for _, name in state_choices()] == sorted(name for _, name in state_choices())


def test_a_territory_is_accepted_and_named(user_client):
    insert_orders([(1, 1, 2, Decimal("5.00"), DAY, "PR"), (2, 1, 1, Decimal("9.00"), DAY, "CA")])
    body = user_client.get(API, {"state": "pr"}).json()
    assert body["filters"]["state"] == "PR"
    assert shown(body) == [("PR", "Puerto Rico", "10.00")]
    html = user_client.get(PAGE, {"state": "GU"}).content.decode()
    assert '<option value="GU" selected>Guam</option>' in html
    assert "All orders in Guam</p>" in html


def test_a_code_the_orders_hold_is_accepted_so_its_bar_can_be_clicked(user_client):
    insert_orders([(1, 1, 1, Decimal("7.00"), DAY, "ZZ"), (2, 1, 1, Decimal("3.00"), DAY, "CA")])
    assert state_in_orders("ZZ") and not state_in_orders("XX")
    body = user_client.get(API, {"state": "zz"}).json()
    assert shown(body) == [("ZZ", "ZZ", "7.00")]
    html = user_client.get(PAGE, {"state": "ZZ"}).content.decode()
    # The menu lists it, so it is not left blank.
    assert '<option value="ZZ" selected>ZZ</option>' in html
    assert html.count(" selected>") == 2  # ZZ, and the catalog branch


def test_a_known_state_costs_no_query_to_check(user_client):
    with CaptureQueriesContext(connections["olap"]) as queries:
        user_client.get(API, {"state": "CA"})
    assert not any("orders_state_total" in query["sql"] and "LIMIT 1" in query["sql"] for query in queries)
    with CaptureQueriesContext(connections["olap"]) as queries:
        user_client.get(API, {"state": "XX"})
    probes = [query["sql"] for query in queries]
    assert len(probes) == 1 and "orders_state_total" in probes[0], probes


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_with_the_olap_side_down_an_unknown_code_gets_503_not_400(user_client, olap_unreachable):
    assert user_client.get(API, {"state": "ZZ"}).status_code == 503
    assert user_client.get(PAGE, {"state": "ZZ"}).status_code == 503


# --- Where the chosen state ranks --------------------------------------------------------------

PLACES = [
    # CA 100, TX 40, NY 40 (a tie: NY before TX), WA 10; OR only in March.
    (1, 1, 1, Decimal("100.00"), DAY, "CA"),
    (2, 1, 4, Decimal("10.00"), DAY, "TX"),
    (3, 1, 2, Decimal("20.00"), DAY, "NY"),
    (4, 1, 1, Decimal("10.00"), DAY, "WA"),
    (5, 1, 1, Decimal("500.00"), datetime.date(2026, 3, 1), "OR"),
    (6, 1, 1, Decimal("1.00"), DAY, None),  # no state: never ranked
]


@pytest.mark.parametrize("source", ["rollups", FROM_RAW])
def test_state_place_counts_every_state_in_the_ranking_s_order(source):
    insert_orders(PLACES)
    may = {"start": DAY, "end": DAY}
    assert state_place(OrderFilters(state="OR"), source) == (1, 5)
    assert state_place(OrderFilters(state="CA"), source) == (2, 5)
    assert state_place(OrderFilters(state="NY", **may), source) == (2, 4)
    assert state_place(OrderFilters(state="TX", **may), source) == (3, 4)
    assert state_place(OrderFilters(state="WA", **may), source) == (4, 4)
    assert state_place(OrderFilters(state="OR", **may), source) is None  # nothing in May
    assert state_place(OrderFilters(**may), source) is None  # no state chosen


def _embedded_payload(html):
    opening = '<script id="rankings-data" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start : html.index("</script>", start)])


def test_the_page_says_where_the_state_ranks_instead_of_one_bar(user_client):
    insert_orders(PLACES)
    html = user_client.get(
        PAGE, {"state": "TX", "start": DAY.isoformat(), "end": DAY.isoformat()}
    ).content.decode()
    assert (
        '<p class="state-place" id="state-place">Texas ranks 3rd of 4 states by turnover in this range.</p>'
        in html
    )
    assert '<div class="chart-box" hidden>\n      <canvas id="chart-states_by_turnover"' in html
    # Its row in the table carries that rank, not "1".
    assert '<tr><td>3</td><th scope="row"><a href="?state=TX&amp;start=' in html
    assert _embedded_payload(html)["state_place"] == {"rank": 3, "of": 4}

    everyone = user_client.get(PAGE, {"state": "OR"}).content.decode()
    assert "Oregon ranks 1st of 5 states by turnover over all time.</p>" in everyone


def test_without_a_place_the_page_shows_the_chart_as_before(user_client):
    insert_orders(PLACES)
    unfiltered = user_client.get(PAGE).content.decode()
    assert '<p class="state-place" id="state-place" hidden></p>' in unfiltered
    assert '<div class="chart-box">\n      <canvas id="chart-states_by_turnover"' in unfiltered
    assert _embedded_payload(unfiltered)["state_place"] is None
    # Nothing in the range: the empty state says so, no sentence.
    empty = user_client.get(PAGE, {"state": "OR", "end": "2026-01-01"}).content.decode()
    assert '<p class="state-place" id="state-place" hidden></p>' in empty
