"""The OLAP side failing or crawling never takes the rest of the site down."""

import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connections

from tests.support.clusters import cluster
from tests.support.orders import insert_orders, lock_held_by_another_client

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)

API = "/api/rankings/"
CSV = "/api/rankings/items_by_turnover.csv"


def test_api_and_csv_answer_503_quickly_when_the_olap_database_is_down(user_client, olap_unreachable):
    for url in (API, CSV):
        started = time.monotonic()
        response = user_client.get(url)
        assert time.monotonic() - started < 3
        assert response.status_code == 503
        assert response.json() == {"error": "The analytics database is unavailable; try again in a moment."}


def test_page_renders_with_every_chart_in_its_error_state(user_client, olap_unreachable):
    response = user_client.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "The analytics database is unavailable; try again in a moment." in html
    assert html.count("""data-state="error">This chart couldn't be loaded.""") == 4
    assert '<script id="rankings-data" type="application/json">null</script>' in html


def test_login_and_admin_keep_working(client, olap_unreachable):
    User.objects.create_superuser("boss", password="a long test password")
    response = client.post("/accounts/login/", {"username": "boss", "password": "a long test password"})
    assert response.status_code == 302
    assert client.get("/admin/dashboard/item/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_a_blocked_query_gets_504_within_the_statement_timeout(user_client, settings, empty_orders):
    insert_orders([(1, 1, 1, 1, "2026-01-01", "CA")])
    connections["olap"].close()  # the next connection takes the shorter timeout
    settings.OLAP_STATEMENT_TIMEOUT_MS = 500
    try:
        with lock_held_by_another_client("orders_state_total"):
            started = time.monotonic()
            response = user_client.get(API)
            elapsed = time.monotonic() - started
    finally:
        connections["olap"].close()
    assert response.status_code == 504
    assert response.json() == {
        "error": "The analytics database took too long to answer; try again in a moment."
    }
    assert elapsed < 3


@pytest.mark.slow
def test_the_site_survives_the_olap_cluster_going_down_and_recovers_by_itself(client, empty_orders):
    insert_orders([(1, 1, 3, Decimal("2.50"), "2026-01-01", "CA")])
    User.objects.create_superuser("boss", password="a long test password")
    client.post("/accounts/login/", {"username": "boss", "password": "a long test password"})
    assert client.get(API).status_code == 200

    cluster("olap", "stop")
    try:
        started = time.monotonic()
        api = client.get(API)
        api_seconds = time.monotonic() - started
        csv_status = client.get(CSV).status_code
        page = client.get("/")
        ready = client.get("/readyz")
        admin_status = client.get("/admin/dashboard/item/").status_code
        client.post("/accounts/logout/")
        login = client.post("/accounts/login/", {"username": "boss", "password": "a long test password"})
    finally:
        cluster("olap", "start")

    assert api.status_code == 503 and api_seconds < 3
    assert api.json() == {"error": "The analytics database is unavailable; try again in a moment."}
    assert csv_status == 503
    assert page.status_code == 503
    assert "This chart couldn't be loaded." in page.content.decode()
    assert ready.status_code == 503 and ready.json()["databases"]["olap"]["ok"] is False
    assert admin_status == 200
    assert login.status_code == 302
    # Back up: the same process answers again, with no restart.
    recovered = client.get(API)
    assert recovered.status_code == 200
    assert recovered.json()["rankings"]["states_by_turnover"] == [
        {"key": "CA", "label": "California", "value": "7.50", "previous_rank": None}
    ]
    assert client.get("/readyz").status_code == 200
