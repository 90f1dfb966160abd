"""API tokens (issue 20, point 9): `manage.py api_token create USER` prints a token once and
stores only its digest; `Authorization: Bearer <token>` opens every /api/ endpoint, JSON and
CSV, read-only; a wrong or revoked token gets a JSON 401; a token never opens the pages or the
admin; the admin lists tokens without their value."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client

from dashboard.tokens.models import ApiToken
from tests.support.orders import insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

API_URLS = [
    "/api/rankings/?start=2026-05-01&end=2026-05-31",
    "/api/rankings/states_by_turnover.csv?state=CA",
    "/api/trend/?start=2026-05-01&end=2026-05-31",
    "/api/trend.csv?start=2026-05-01&end=2026-05-31",
]


def create(username, *extra):
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", "create", username, *extra, stdout=out, stderr=err)
    return out.getvalue().strip()


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def analyst():
    return User.objects.create_user("analyst", password="not-used-here-1")


@pytest.fixture
def orders():
    insert_orders(
        [(1, 3, 2, Decimal("10.25"), "2026-05-05", "CA"), (2, 4, 1, Decimal("1.10"), "2026-05-06", "TX")]
    )


def test_create_prints_the_token_once_and_stores_only_its_digest(analyst):
    token = create("analyst", "--name", "sales sheet")
    assert token.startswith("oat_") and len(token) > 40
    (stored,) = ApiToken.objects.filter(user=analyst)
    assert stored.name == "sales sheet"
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT * FROM dashboard_api_token")
        row = cursor.fetchone()
    assert not any(token in str(column) for column in row), "the token's value was stored"
    assert create("analyst") != token  # a new token each time


def test_create_for_an_unknown_user_fails():
    with pytest.raises(CommandError, match="No user called 'nobody'"):
        create("nobody")


@pytest.mark.parametrize("url", API_URLS)
def test_a_token_opens_every_api_endpoint_json_and_csv(analyst, orders, url):
    token = create("analyst")
    response = Client().get(url, **bearer(token))
    assert response.status_code == 200, response.content
    if ".csv" in url:
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert len(rows) > 1
    else:
        assert response.json()["filters"]["start"] == "2026-05-01"


def test_the_token_answers_as_the_session_does(analyst, orders):
    token = create("analyst")
    session = Client()
    session.force_login(analyst)
    url = API_URLS[0]
    by_token = Client().get(url, **bearer(token)).json()
    by_session = session.get(url).json()
    for answer in (by_token, by_session):
        answer.pop("generated_at")
    assert by_token == by_session


@pytest.mark.parametrize("url", API_URLS)
@pytest.mark.parametrize("header", ["Bearer oat_wrong", "Bearer ", "Bearer not-even-ours", "bearer oat_"])
def test_a_wrong_token_gets_a_json_401(analyst, url, header):
    create("analyst")
    response = Client().get(url, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "token" in response.json()["error"].lower()


def test_a_wrong_token_is_refused_even_with_a_valid_session(analyst):
    client = Client()
    client.force_login(analyst)
    assert client.get(API_URLS[0]).status_code == 200
    assert client.get(API_URLS[0], HTTP_AUTHORIZATION="Bearer oat_wrong").status_code == 401


def test_revoke_closes_every_token_of_the_user(analyst):
    first, second = create("analyst"), create("analyst")
    other = User.objects.create_user("other")
    others = create("other")
    out = io.StringIO()
    call_command("api_token", "revoke", "analyst", stdout=out)
    assert "Revoked 2" in out.getvalue()
    for token in (first, second):
        response = Client().get(API_URLS[0], **bearer(token))
        assert response.status_code == 401
        assert "revoked" in response.json()["error"]
    assert Client().get(API_URLS[0], **bearer(others)).status_code == 200
    assert other.api_tokens.filter(revoked__isnull=True).count() == 1


def test_an_inactive_users_token_opens_nothing(analyst):
    token = create("analyst")
    analyst.is_active = False
    analyst.save()
    assert Client().get(API_URLS[0], **bearer(token)).status_code == 401


def test_a_token_is_read_only(analyst):
    token = create("analyst")
    for url in ("/api/rankings/", "/api/trend/"):
        assert Client().post(url, **bearer(token)).status_code == 405
    response = Client().post("/catalog/branch/", {"branch": "main"}, **bearer(token))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_token_never_opens_the_pages_or_the_admin():
    staff = User.objects.create_superuser("boss", password="not-used-here-1")
    token = create("boss")
    for url in ("/", "/?state=CA", "/admin/", "/admin/dashboard/apitoken/", "/admin/orders/"):
        response = Client().get(url, **bearer(token))
        assert response.status_code == 302, url
        assert "login" in response["Location"], url
    assert staff.is_superuser


def test_last_used_is_recorded(analyst):
    token = create("analyst")
    assert ApiToken.objects.get().last_used is None
    assert Client().get(API_URLS[2], **bearer(token)).status_code == 200
    assert ApiToken.objects.get().last_used is not None


def test_the_admin_lists_tokens_without_their_value(admin_client, analyst):
    token = create("analyst", "--name", "cron export")
    stored = ApiToken.objects.get()
    page = admin_client.get("/admin/dashboard/apitoken/")
    assert page.status_code == 200
    text = page.content.decode()
    for shown in ("cron export", "analyst", "Last used", "Created"):
        assert shown in text, shown
    assert token not in text and stored.digest not in text
    detail = admin_client.get(f"/admin/dashboard/apitoken/{stored.pk}/change/").content.decode()
    assert "cron export" in detail and token not in detail and stored.digest not in detail
    assert admin_client.get("/admin/dashboard/apitoken/add/").status_code == 403
