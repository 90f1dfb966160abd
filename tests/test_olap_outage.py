"""The OLAP side failing or crawling never takes the rest of the site down."""

import threading
import time

import pytest
from django.contrib.auth.models import User
from django.db import connections

from tests.orders import another_client, insert_orders
from tests.test_health import olap_unreachable  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(databases=["default", "olap"], transaction=True)

API = "/api/rankings/"
CSV = "/api/rankings/items_by_turnover.csv"


def test_api_and_csv_answer_503_quickly_when_the_olap_database_is_down(user_client, olap_unreachable):  # noqa: F811
    for url in (API, CSV):
        started = time.monotonic()
        response = user_client.get(url)
        assert time.monotonic() - started < 3
        assert response.status_code == 503
        assert response.json() == {"error": "The analytics database is unavailable; try again in a moment."}


def test_page_renders_with_every_chart_in_its_error_state(user_client, olap_unreachable):  # noqa: F811
    response = user_client.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "The analytics database is unavailable; try again in a moment." in html
    assert html.count("""data-state="error">This chart couldn't be loaded.""") == 4
    assert '<script id="rankings-data" type="application/json">null</script>' in html


def test_login_and_admin_keep_working(client, olap_unreachable):  # noqa: F811
    User.objects.create_superuser("boss", password="a long test password")
    response = client.post("/accounts/login/", {"username": "boss", "password": "a long test password"})
    assert response.status_code == 302
    assert client.get("/admin/dashboard/item/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_a_blocked_query_gets_504_within_the_statement_timeout(user_client, settings, empty_orders):
    insert_orders([(1, 1, 1, 1, "2026-01-01", "CA")])
    connections["olap"].close()  # the next connection takes the shorter timeout
    settings.OLAP_STATEMENT_TIMEOUT_MS = 500
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        # Another client takes a lock that blocks every reader of the rollup.
        with another_client() as cursor:
            cursor.execute("LOCK TABLE orders_state_total IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        response = user_client.get(API)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join()
        connections["olap"].close()
    assert response.status_code == 504
    assert response.json() == {
        "error": "The analytics database took too long to answer; try again in a moment."
    }
    assert elapsed < 3
