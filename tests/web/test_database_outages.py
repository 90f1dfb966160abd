"""The site when a database other than the OLAP one fails, for real: the catalog cannot be
read (rankings still answer, items by id, and say so), the users-and-sessions database
refuses connections (503 with Retry-After, never a 500)."""

import datetime
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from dashboard.catalog.models import Item
from tests.support.http import free_port
from tests.support.orders import insert_orders

# Connections are closed under the tests: their writes must be committed, not in a test transaction.
pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)

API = "/api/rankings/"
DAY = datetime.date(2026, 3, 3)


@contextmanager
def database_pointed_at(alias, **settings):
    """The alias's settings changed (a closed port, a file that cannot be opened): every
    connection it opens meanwhile fails as a real outage does."""
    connection = connections[alias]
    original = {key: connection.settings_dict[key] for key in settings}
    connection.close()
    connection.settings_dict.update(settings)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(original)


@pytest.fixture
def orders_with_a_named_item(empty_orders):
    Item.objects.create(itemid=7, name="Slate Cork Tray")
    insert_orders([(1, 7, 3, Decimal("19.99"), DAY, "OR"), (2, 8, 1, Decimal("5.10"), DAY, "NV")])


def test_with_the_catalog_unreadable_the_rankings_show_items_by_id_and_say_so(
    user_client, orders_with_a_named_item
):
    assert user_client.get(API).json()["rankings"]["items_by_turnover"][0]["label"] == "Slate Cork Tray"
    with database_pointed_at("catalog", NAME="/nonexistent-folder/catalog.db"):
        api = user_client.get(API)
        page = user_client.get("/")
    assert api.status_code == 200
    body = api.json()
    assert [entry["label"] for entry in body["rankings"]["items_by_turnover"]] == ["Item 7", "Item 8"]
    assert body["notices"] == ["Item names can't be read from the catalog right now: items show by their id."]
    assert body["headline"]["orders"] == 2
    assert page.status_code == 200
    assert "Item names can&#x27;t be read from the catalog right now" in page.content.decode()
    # Back: names again, from the same process.
    body = user_client.get(API).json()
    assert body["rankings"]["items_by_turnover"][0]["label"] == "Slate Cork Tray" and body["notices"] == []


def test_with_the_sessions_database_refusing_connections_pages_and_api_answer_503():
    client = Client(raise_request_exception=False)  # answer as the site does, not re-raise
    client.force_login(User.objects.create_user("analyst"))
    with database_pointed_at("default", PORT=free_port()):  # a port nothing listens on
        api = client.get(API)
        page = client.get("/")
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api.json() == {"error": "A database the site needs is unavailable; try again in a moment."}
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "Temporarily unavailable" in page.content.decode()
    assert client.get(API).status_code == 200  # back, without a restart
