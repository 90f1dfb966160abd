"""Statements rendered to text once per process (dashboard.statements): the statements every
request sends (the session and its user, the figures, the trend) are not composed and
rendered again on each request, and their values stay bound parameters."""

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.urls import reverse
from psycopg2 import sql

from dashboard.statements import rendered

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])


def test_a_key_is_composed_once_and_rendered_as_psycopg2_renders_it():
    composed = []

    def compose():
        composed.append(1)
        return sql.SQL("SELECT {} FROM {} WHERE {} = %s").format(
            sql.Identifier("a column"), sql.Identifier("a table"), sql.Identifier("id")
        )

    connection = connections["default"]
    connection.ensure_connection()
    key = ("test_statements", "a key")
    first = rendered(key, compose, connection.connection)
    second = rendered(key, compose, connection.connection)
    assert first == second == compose().as_string(connection.connection)
    assert first == 'SELECT "a column" FROM "a table" WHERE "id" = %s'
    assert len(composed) == 2  # once by rendered(), once by the comparison above


@pytest.fixture
def renders(monkeypatch):
    """Counts every psycopg2 rendering of a composed statement (psycopg2 calls as_string on
    each one it is asked to execute)."""
    count = []
    as_string = sql.Composed.as_string

    def counted(self, context):
        count.append(1)
        return as_string(self, context)

    monkeypatch.setattr(sql.Composed, "as_string", counted)
    return count


@pytest.mark.parametrize(
    ("path", "first", "second"),
    [
        ("dashboard:api-rankings", {}, {}),
        # Two 90-day ranges covered by the same number of single days and longer spans.
        (
            "dashboard:api-rankings",
            {"start": "2026-01-05", "end": "2026-04-04"},
            {"start": "2026-01-13", "end": "2026-04-12"},
        ),
        ("dashboard:api-rankings", {"state": "CA"}, {"state": "TX"}),
        ("dashboard:api-trend", {}, {"state": "CA"}),
        (
            "dashboard:api-trend",
            {"start": "2026-01-05", "end": "2026-04-04"},
            {"start": "2025-01-05", "end": "2025-04-04"},
        ),
    ],
)
def test_an_answer_renders_no_statement_its_shape_has_had(client, renders, path, first, second):
    client.force_login(User.objects.create_user("analyst"))
    url = reverse(path)
    for query in (first, second):  # the first of each shape, the session's and the trend's
        assert client.get(url, query).status_code == 200
    renders.clear()
    assert client.get(url, first).status_code == 200
    assert client.get(url, second).status_code == 200
    assert renders == []
