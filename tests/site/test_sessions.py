"""Sessions that name their user (dashboard.sessions): a request reads its session and its
user in one statement, and what Django's own session engine and backend decide still holds:
a changed password, a deactivated or deleted user and a logout each end the session."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.sessions.auth import SessionUserBackend, _authenticating
from dashboard.sessions.models import UserSession
from dashboard.sessions.store import SessionStore
from tests.support.sessions import API

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])


def session_key(client):
    return client.cookies["sessionid"].value


def test_a_request_reads_its_session_and_its_user_in_one_statement(logged_in):
    assert logged_in.get(API).status_code == 200  # the session's first request may write it
    with CaptureQueriesContext(connections["default"]) as sent:
        assert logged_in.get(API).status_code == 200
    assert len(sent.captured_queries) == 1, sent.captured_queries
    statement = sent.captured_queries[0]["sql"]
    assert "dashboard_session" in statement and "auth_user" in statement, statement


def test_the_session_row_names_its_user_and_a_logout_removes_it(logged_in, analyst):
    assert UserSession.objects.get(session_key=session_key(logged_in)).user_id == analyst.pk
    logged_in.post(reverse("logout"))
    assert not UserSession.objects.filter(user=analyst).exists()
    assert logged_in.get(API).status_code == 401


def test_the_user_is_read_as_it_is_now(logged_in, analyst):
    analyst.username = "analyst-renamed"
    analyst.save()
    assert "Signed in as <strong>analyst-renamed</strong>" in logged_in.get("/").content.decode()


def test_a_changed_password_ends_the_session(logged_in, analyst):
    analyst.set_password("another horse battery staple")
    analyst.save()
    assert logged_in.get(API).status_code == 401


def test_a_deactivated_user_is_logged_out(logged_in, analyst):
    User.objects.filter(pk=analyst.pk).update(is_active=False)
    assert logged_in.get(API).status_code == 401


def test_a_deleted_users_sessions_go_with_them(logged_in, analyst):
    key = session_key(logged_in)
    analyst.delete()
    assert not UserSession.objects.filter(session_key=key).exists()
    assert logged_in.get(API).status_code == 401


def test_a_session_whose_user_row_is_gone_opens_nothing(logged_in, analyst):
    # The column has no database constraint (Django's saving would retry a failed insert
    # forever): a user deleted behind the ORM's back leaves a session that names nobody.
    with connections["default"].cursor() as cursor:
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [analyst.pk])
    assert logged_in.get(API).status_code == 401


def test_the_backend_takes_the_user_read_with_the_session_once(logged_in, analyst):
    store = SessionStore(session_key(logged_in))
    backend = SessionUserBackend()
    with _authenticating(store), CaptureQueriesContext(connections["default"]) as sent:
        user_id = store[SESSION_KEY]  # loads the session, and its user with it
        first = backend.get_user(user_id)
        second = backend.get_user(user_id)  # a second lookup reads the user afresh
    assert first == second == analyst
    assert len(sent.captured_queries) == 2, sent.captured_queries
    assert "auth_user" in sent.captured_queries[1]["sql"]
    assert "dashboard_session" not in sent.captured_queries[1]["sql"]


def test_without_a_session_being_authenticated_the_backend_asks_the_database(analyst):
    with CaptureQueriesContext(connections["default"]) as sent:
        assert SessionUserBackend().get_user(str(analyst.pk)) == analyst
    assert len(sent.captured_queries) == 1


def test_clearsessions_removes_the_expired_ones(logged_in, analyst):
    live = session_key(logged_in)
    expired = SessionStore()
    expired.update({SESSION_KEY: str(analyst.pk)})
    expired.set_expiry(-60)
    expired.save()
    call_command("clearsessions")
    assert set(UserSession.objects.values_list("session_key", flat=True)) == {live}
