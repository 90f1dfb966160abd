import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connections
from django.test.utils import CaptureQueriesContext

from dashboard.orders.browser import PAGE
from tests.support.orders import insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = "/admin/orders/"
DAY = datetime.date(2026, 4, 1)


@pytest.fixture
def viewer(client):
    user = User.objects.create_user("clerk", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_order", content_type__app_label="dashboard")
    )
    client.force_login(user)
    return client


@pytest.fixture
def lines():
    rows = []
    for orderid in range(1, 41):
        for itemid in (1, 2, 3):
            state = "CA" if orderid % 2 else "TX"
            rows.append(
                (orderid, itemid, itemid, Decimal("1.50"), DAY + datetime.timedelta(days=orderid % 5), state)
            )
    insert_orders(rows)
    return rows


def shown(response):
    return [
        (int(o), int(i))
        for o, i in re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td>", response.content.decode())
    ]


def test_pages_walk_every_line_newest_first_without_counting(viewer, lines):
    seen, url = [], URL
    with CaptureQueriesContext(connections["olap"]) as queries:
        while url:
            response = viewer.get(url)
            assert response.status_code == 200
            page = shown(response)
            assert len(page) <= PAGE
            seen += page
            older = re.search(r'href="\?(before=[\d-]+)"', response.content.decode())
            url = f"{URL}?{older[1]}" if older else None
    assert seen == sorted(((o, i) for o, i, *_ in lines), reverse=True)
    assert not any("COUNT(" in query["sql"].upper() for query in queries)


def test_search_by_order_id_and_filter_by_state_and_date(viewer, lines):
    assert shown(viewer.get(URL, {"q": "7"})) == [(7, 3), (7, 2), (7, 1)]
    texas = shown(viewer.get(URL, {"state": "TX"}))
    assert texas and all(orderid % 2 == 0 for orderid, _ in texas)
    day = (DAY + datetime.timedelta(days=3)).isoformat()
    on_day = shown(viewer.get(URL, {"start": day, "end": day}))
    assert sorted({orderid % 5 for orderid, _ in on_day}) == [3]


def test_bad_input_gets_a_message_not_an_error(viewer):
    response = viewer.get(URL, {"q": "seven", "start": "2026-13-01"})
    assert response.status_code == 400
    assert "Check the fields marked below." in response.content.decode()


def test_staff_without_the_permission_are_refused(client):
    client.force_login(User.objects.create_user("intern", is_staff=True))
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_go_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_index_links_to_it(viewer):
    assert f'href="{URL}"' in viewer.get("/admin/").content.decode()
