"""With orders captured from the shop's database (ORDERS_SOURCE=cdc), the page, the API and
/readyz say how far behind it the figures are."""

import html
import re

import pytest
from django.test import override_settings
from django.urls import reverse

from dashboard.web.freshness import lag_notice

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

API = reverse("dashboard:api-rankings")
PAGE = reverse("dashboard:index")


@pytest.fixture
def captured():
    with override_settings(ORDERS_SOURCE="cdc"):
        yield


def lag_on_the_page(client):
    page = client.get(PAGE)
    assert page.status_code == 200
    element = re.search(r'<p id="lag" class="lag" role="status" aria-live="polite"[^>]*>(.*?)</p>', page.text)
    assert element, "no lag element on the page"
    return html.unescape(element.group(1))


def test_the_page_the_api_and_readyz_say_how_far_behind(
    user_client, client, captured, folded_42_seconds_behind
):
    notice = lag_on_the_page(user_client)
    behind = user_client.get(API).json()["freshness"]["behind_seconds"]
    ready = client.get("/readyz")

    assert re.fullmatch(r"Updating: 4[234] s behind the shop's database", notice), notice
    assert 42 <= behind < 44.5
    assert ready.status_code == 200
    assert 42 <= ready.json()["capture"]["behind_seconds"] < 44.5


def test_unknown_lag_shows_no_notice(user_client, client, captured):
    assert lag_on_the_page(user_client) == ""
    assert user_client.get(API).json()["freshness"] == {"behind_seconds": None}
    assert client.get("/readyz").json()["capture"] == {"behind_seconds": None}


def test_without_capture_readyz_says_nothing_of_it(client, folded_42_seconds_behind):
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert "capture" not in body


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_readyz_with_capture_and_the_olap_database_down_is_the_usual_503(client, captured, olap_unreachable):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["databases"]["olap"] == {"ok": False, "error": "unavailable"}
    assert body["capture"] == {"behind_seconds": None}


@pytest.mark.parametrize(
    ("behind", "notice"),
    [
        (None, ""),
        (0.0, ""),
        (5.0, ""),
        (5.4, "Updating: 5 s behind the shop's database"),
        (12.5, "Updating: 13 s behind the shop's database"),
        (119.4, "Updating: 119 s behind the shop's database"),
        (150, "Updating: 3 min behind the shop's database"),
        (7199, "Updating: 120 min behind the shop's database"),
        (3 * 3600 + 100, "Updating: 3 h behind the shop's database"),
    ],
)
def test_the_notice_reads_in_seconds_then_minutes_then_hours(behind, notice):
    assert lag_notice(behind) == notice
