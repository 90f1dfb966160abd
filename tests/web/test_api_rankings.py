import datetime
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse

from dashboard.catalog.models import Item
from tests.support.orders import insert_orders, insert_orders_as_another_client

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = reverse("dashboard:api-rankings")
DAY = datetime.date(2026, 2, 2)
RANKING_NAMES = {"states_by_turnover", "items_by_avg_qty", "items_by_total_qty", "items_by_turnover"}


def test_anonymous_request_gets_a_json_401_not_a_redirect(client):
    response = client.get(URL)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "log in" in response.json()["error"]


def test_only_get_is_allowed(user_client):
    assert user_client.post(URL).status_code == 405


def test_response_schema_and_value_types(user_client):
    Item.objects.create(itemid=7, name="Slate Cork Tray")
    insert_orders(
        [
            (1, 7, 3, Decimal("19.99"), DAY, "OR"),
            (1, 8, 1, Decimal("5.10"), DAY, "OR"),
            (2, 7, 2, Decimal("19.99"), DAY, "NV"),
        ]
    )
    before = datetime.datetime.now(datetime.UTC)
    body = user_client.get(URL).json()

    assert set(body) == {
        "generated_at",
        "filters",
        "freshness",
        "notices",
        "state_place",
        "headline",
        "rankings",
    }
    assert body["notices"] == [] and body["state_place"] is None
    generated = datetime.datetime.fromisoformat(body["generated_at"])
    assert generated.tzinfo is not None and generated >= before.replace(microsecond=0)
    assert body["filters"] == {"start": None, "end": None, "state": None}
    # 3 * 19.99 + 5.10 + 2 * 19.99, by hand; two orders.
    assert body["headline"] == {
        "turnover": "105.05",
        "orders": 2,
        "lines": 3,
        "average_order_value": "52.53",
        "previous": None,
    }
    assert set(body["rankings"]) == RANKING_NAMES

    assert body["rankings"]["states_by_turnover"] == [
        {"key": "OR", "label": "Oregon", "value": "65.07", "previous_rank": None},
        {"key": "NV", "label": "Nevada", "value": "39.98", "previous_rank": None},
    ]
    assert body["rankings"]["items_by_turnover"] == [
        {"key": 7, "label": "Slate Cork Tray", "value": "99.95", "previous_rank": None},
        {"key": 8, "label": "Item 8", "value": "5.10", "previous_rank": None},
    ]
    assert body["rankings"]["items_by_total_qty"] == [
        {"key": 7, "label": "Slate Cork Tray", "value": 5, "previous_rank": None},
        {"key": 8, "label": "Item 8", "value": 1, "previous_rank": None},
    ]
    assert body["rankings"]["items_by_avg_qty"] == [
        {"key": 7, "label": "Slate Cork Tray", "value": 2.5, "previous_rank": None},
        {"key": 8, "label": "Item 8", "value": 1.0, "previous_rank": None},
    ]


def test_turnover_strings_are_exact_beyond_float_precision(user_client):
    insert_orders([(1, 1, 7, Decimal("12345678901234.57"), DAY, "CA")])
    body = user_client.get(URL).json()
    # 7 * 12345678901234.57, done by hand: 86419752308641.99
    assert body["rankings"]["states_by_turnover"][0]["value"] == "86419752308641.99"


def test_empty_database_gives_empty_lists(user_client):
    body = user_client.get(URL).json()
    assert body["rankings"] == {name: [] for name in RANKING_NAMES}
    assert body["headline"] == {
        "turnover": "0.00",
        "orders": 0,
        "lines": 0,
        "average_order_value": None,
        "previous": None,
    }


def test_state_filter_restricts_every_ranking_and_the_headline(user_client):
    feb = datetime.date(2026, 2, 1)
    insert_orders(
        [
            (1, 1, 2, Decimal("10.00"), DAY, "CA"),
            (1, 2, 1, Decimal("4.00"), DAY, "CA"),
            (2, 3, 5, Decimal("1.00"), feb, "CA"),
            (3, 4, 9, Decimal("100.00"), DAY, "TX"),
        ]
    )
    body = user_client.get(URL, {"state": "ca"}).json()
    assert body["filters"] == {"start": None, "end": None, "state": "CA"}
    assert body["rankings"]["states_by_turnover"] == [
        {"key": "CA", "label": "California", "value": "29.00", "previous_rank": None}
    ]
    assert [entry["key"] for entry in body["rankings"]["items_by_turnover"]] == [1, 3, 2]
    assert body["headline"] == {
        "turnover": "29.00",
        "orders": 2,
        "lines": 3,
        "average_order_value": "14.50",
        "previous": None,
    }

    ranged = user_client.get(URL, {"state": "CA", "start": DAY.isoformat(), "end": DAY.isoformat()}).json()
    assert [entry["key"] for entry in ranged["rankings"]["items_by_total_qty"]] == [1, 2]
    assert ranged["headline"] == {
        "turnover": "24.00",
        "orders": 1,
        "lines": 2,
        "average_order_value": "24.00",
        # The day before, February 1st, in California: order 2, 5 x 1.00.
        "previous": {"turnover": "5.00", "orders": 1, "lines": 1, "average_order_value": "5.00"},
    }

    nobody = user_client.get(URL, {"state": "WY"}).json()
    assert nobody["rankings"] == {name: [] for name in RANKING_NAMES}


def test_date_range_restricts_every_ranking_and_is_echoed(user_client):
    insert_orders(
        [
            (1, 1, 1, Decimal("100.00"), datetime.date(2026, 1, 31), "CA"),
            (2, 2, 2, Decimal("10.00"), datetime.date(2026, 2, 1), "TX"),
            (3, 3, 3, Decimal("1.00"), datetime.date(2026, 2, 28), "NY"),
            (4, 4, 4, Decimal("1000.00"), datetime.date(2026, 3, 1), "WA"),
        ]
    )
    body = user_client.get(URL, {"start": "2026-02-01", "end": "2026-02-28"}).json()
    assert body["filters"] == {"start": "2026-02-01", "end": "2026-02-28", "state": None}
    assert [entry["key"] for entry in body["rankings"]["states_by_turnover"]] == ["TX", "NY"]
    assert [entry["key"] for entry in body["rankings"]["items_by_total_qty"]] == [3, 2]

    only_start = user_client.get(URL, {"start": "2026-03-01"}).json()
    assert only_start["filters"] == {"start": "2026-03-01", "end": None, "state": None}
    assert [entry["key"] for entry in only_start["rankings"]["states_by_turnover"]] == ["WA"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "yesterday"}, "start: must be a date like 2026-01-31"),
        ({"end": "2026-02-30"}, "end: must be a date like 2026-01-31"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "start must be on or before end"),
        ({"state": "California"}, "state: must be a two-letter state code like CA"),
        ({"state": "C1"}, "state: must be a two-letter state code like CA"),
        (
            {"start": "x", "end": "y"},
            "start: must be a date like 2026-01-31; end: must be a date like 2026-01-31",
        ),
    ],
)
def test_bad_filters_get_400_with_a_message(user_client, query, message):
    response = user_client.get(URL, query)
    assert response.status_code == 400
    assert response.json() == {"error": message}


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_rows_any_client_commits_show_up_at_once(user_client, empty_orders):
    # Another program, on its own connection, inserts and commits; no manual step follows.
    insert_orders_as_another_client([(77, 5, 3, Decimal("2.50"), datetime.date(2026, 3, 3), "ME")])
    body = user_client.get(URL).json()
    assert body["rankings"]["states_by_turnover"] == [
        {"key": "ME", "label": "Maine", "value": "7.50", "previous_rank": None}
    ]
    ranged = user_client.get(URL, {"start": "2026-03-03", "end": "2026-03-03"}).json()
    assert ranged["rankings"]["items_by_total_qty"] == [
        {"key": 5, "label": "Item 5", "value": 3, "previous_rank": None}
    ]


def test_rankings_source_setting_switches_between_rollups_and_raw(user_client, settings):
    insert_orders([(1, 1, 2, Decimal("4.00"), DAY, "UT")])
    with connections["olap"].cursor() as cursor:
        cursor.execute("DELETE FROM orders_state_total")  # the rollup no longer knows Utah
    assert user_client.get(URL).json()["rankings"]["states_by_turnover"] == []
    settings.RANKINGS_SOURCE = "raw"
    assert user_client.get(URL).json()["rankings"]["states_by_turnover"] == [
        {"key": "UT", "label": "Utah", "value": "8.00", "previous_rank": None}
    ]


def test_a_state_filter_says_where_the_state_ranks_among_all(user_client):
    insert_orders(
        [
            (1, 1, 1, Decimal("100.00"), DAY, "CA"),
            (2, 1, 1, Decimal("40.00"), DAY, "TX"),
            (3, 1, 1, Decimal("10.00"), DAY, "NY"),
        ]
    )
    assert user_client.get(URL, {"state": "TX"}).json()["state_place"] == {"rank": 2, "of": 3}
    assert user_client.get(URL).json()["state_place"] is None
