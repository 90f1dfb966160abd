import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.catalog.models import Item
from tests.support.orders import insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

NAMES = ["states_by_turnover", "items_by_avg_qty", "items_by_total_qty", "items_by_turnover"]
DAY = datetime.date(2026, 5, 5)


def csv_url(name):
    return reverse("dashboard:api-ranking-csv", args=[name])


@pytest.fixture
def orders():
    Item.objects.create(itemid=3, name='Slate, "Cork" Tray')
    insert_orders(
        [
            (1, 3, 3, Decimal("12345678901234.57"), DAY, "CA"),
            (1, 4, 1, Decimal("0.10"), DAY, "CA"),
            (2, 4, 2, Decimal("2.00"), DAY + datetime.timedelta(days=1), "TX"),
            (3, 5, 7, Decimal("1.99"), DAY + datetime.timedelta(days=2), "NY"),
        ]
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"start": "2026-05-06"},
        {"start": "2026-05-05", "end": "2026-05-06"},
        {"state": "CA"},
        {"state": "TX", "start": "2026-05-06"},
    ],
)
def test_csv_has_the_same_rows_as_the_api(user_client, orders, name, query):
    response = user_client.get(csv_url(name), query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    api = user_client.get(reverse("dashboard:api-rankings"), query).json()["rankings"][name]
    assert rows[0] == ["rank", "key", "label", "value"]
    assert rows[1:] == [
        [str(rank), str(entry["key"]), entry["label"], str(entry["value"])]
        for rank, entry in enumerate(api, 1)
    ]
    assert len(rows) > 1


def test_money_in_csv_is_exact(user_client, orders):
    rows = list(csv.reader(io.StringIO(user_client.get(csv_url("states_by_turnover")).content.decode())))
    assert rows[1] == ["1", "CA", "California", "37037036703703.81"]  # 3 * 12345678901234.57 + 0.10


def test_filename_names_the_ranking_state_and_range(user_client, orders):
    response = user_client.get(csv_url("items_by_turnover"), {"start": "2026-05-01", "end": "2026-05-31"})
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="items_by_turnover-2026-05-01-2026-05-31.csv"'
    )
    in_state = user_client.get(csv_url("items_by_turnover"), {"state": "CA", "start": "2026-05-01"})
    assert in_state["Content-Disposition"] == 'attachment; filename="items_by_turnover-CA-2026-05-01.csv"'
    plain = user_client.get(csv_url("items_by_turnover"))
    assert plain["Content-Disposition"] == 'attachment; filename="items_by_turnover.csv"'


def test_labels_that_look_like_formulas_are_neutralised(user_client):
    Item.objects.create(itemid=9, name='=HYPERLINK("http://x")')
    insert_orders([(1, 9, 1, Decimal("1.00"), DAY, "CA")])
    rows = list(csv.reader(io.StringIO(user_client.get(csv_url("items_by_total_qty")).content.decode())))
    assert rows[1][2] == '\'=HYPERLINK("http://x")'


def test_anonymous_gets_401(client):
    assert client.get(csv_url("states_by_turnover")).status_code == 401


def test_unknown_ranking_is_404(user_client):
    assert user_client.get(csv_url("items_by_colour")).status_code == 404


def test_bad_filter_is_400_with_a_message(user_client):
    response = user_client.get(csv_url("states_by_turnover"), {"end": "soon"})
    assert response.status_code == 400
    assert response.json() == {"error": "end: must be a date like 2026-01-31"}


def test_one_csv_asks_the_olap_database_one_query(user_client, orders):
    with CaptureQueriesContext(connections["olap"]) as olap_queries:
        assert user_client.get(csv_url("items_by_turnover")).status_code == 200
    assert len(olap_queries) == 1
