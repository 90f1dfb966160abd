"""Sessions kept by the connection that read them (dashboard.sessions.kept): read once, and
forgotten as soon as the users' database says a session or a user changed, whoever changed
it: another worker (here, another thread with its own connection), the ORM, or SQL. The
notice reaches a connection a little after the commit (about 10 µs here, a few ms at worst
on a busy machine): the tests wait for it, up to a second, as a request a moment later would.

Outside a transaction, as the site serves requests (transactional tests: each statement
commits, so the database's notices flow as they do in production)."""

import select
import threading
import time
from collections.abc import Callable

import psycopg2
import pytest
from django.contrib.auth.models import User
from django.db import close_old_connections, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from dashboard.sessions.kept import CHANNEL
from dashboard.sessions.models import UserSession
from tests.support.clusters import cluster
from tests.support.http import get, gunicorn, session_cookie
from tests.support.pooler import pgbouncer
from tests.support.sessions import API, PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "olap", "catalog"])


@pytest.fixture
def kept(logged_in):
    assert logged_in.get(API).status_code == 200  # read, and kept
    return logged_in


def session_statements(client: Client) -> int:
    """How many statements one API request sends to the sessions' database (200 expected)."""
    with CaptureQueriesContext(connections["default"]) as sent:
        assert client.get(API).status_code == 200
    return len(sent.captured_queries)


def elsewhere(action: Callable[[], object]) -> None:
    """Run `action` in another thread, on a connection of its own (as another worker would),
    and close that connection."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as error:  # reported to the test below
            failures.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not failures, failures


def by_sql(statement: str, params: list[object]) -> None:
    """`statement` through a psycopg2 connection of its own: SQL from outside the site."""
    settings = connections["default"].settings_dict
    connection = psycopg2.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(statement, params)
    finally:
        connection.close()


def wait_for_the_notice(seconds: float = 1.0) -> None:
    """Until a notice of a change has reached the site's connection (left for it to read)."""
    connection = connections["default"].connection
    deadline = time.monotonic() + seconds
    while not any(notice.channel == CHANNEL for notice in connection.notifies):
        left = deadline - time.monotonic()
        assert left > 0, "no notice of the change within a second"
        select.select([connection], [], [], left)
        connection.poll()


def test_a_session_read_once_is_not_read_again(kept):
    assert session_statements(kept) == 0
    assert session_statements(kept) == 0


def logout_elsewhere(client: Client, user: User) -> None:
    cookie = client.cookies["sessionid"].value

    def log_out() -> None:
        other = Client()
        other.cookies["sessionid"] = cookie
        assert other.post(reverse("logout")).status_code == 302

    elsewhere(log_out)


def password_changed_elsewhere(client: Client, user: User) -> None:
    def change() -> None:
        fresh = User.objects.get(pk=user.pk)
        fresh.set_password("another horse battery staple")
        fresh.save()

    elsewhere(change)


def deactivated_elsewhere(client: Client, user: User) -> None:
    elsewhere(lambda: User.objects.filter(pk=user.pk).update(is_active=False))


def deleted_elsewhere(client: Client, user: User) -> None:
    elsewhere(lambda: User.objects.filter(pk=user.pk).delete())


def deactivated_by_sql(client: Client, user: User) -> None:
    by_sql("UPDATE auth_user SET is_active = false WHERE id = %s", [user.pk])


def session_deleted_by_sql(client: Client, user: User) -> None:
    by_sql("DELETE FROM dashboard_session WHERE session_key = %s", [client.cookies["sessionid"].value])


def sessions_truncated_by_sql(client: Client, user: User) -> None:
    by_sql("TRUNCATE dashboard_session", [])


@pytest.mark.parametrize(
    "change",
    [
        logout_elsewhere,
        password_changed_elsewhere,
        deactivated_elsewhere,
        deleted_elsewhere,
        deactivated_by_sql,
        session_deleted_by_sql,
        sessions_truncated_by_sql,
    ],
)
def test_a_change_elsewhere_ends_a_kept_session_at_once(kept, analyst, change):
    change(kept, analyst)
    wait_for_the_notice()
    assert kept.get(API).status_code == 401


def test_a_notice_read_along_with_another_statement_still_forgets(kept, analyst):
    deactivated_by_sql(kept, analyst)
    time.sleep(0.1)  # the notice reaches this connection's socket...
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")  # ...and the driver reads it along with this answer
    assert connections["default"].connection.notifies  # in the driver's list, not on the socket
    assert kept.get(API).status_code == 401


def test_a_new_session_of_the_same_user_is_read(kept, analyst):
    other = Client()
    assert other.post(reverse("login"), {"username": "analyst", "password": PASSWORD}).status_code == 302
    wait_for_the_notice()  # the login wrote the user's last_login
    assert session_statements(other) == 1  # its first request: read
    assert session_statements(other) == 0
    assert session_statements(kept) == 1  # the login's notice forgot the first session too


def test_nothing_is_kept_inside_a_transaction(kept):
    with transaction.atomic():
        assert session_statements(kept) == 1
        assert session_statements(kept) == 1


def test_a_replaced_connection_forgets_what_the_old_one_kept(kept):
    # The connection that kept the session is ended (a restart, an idle timeout): it heard
    # nothing while it was gone, so its successor keeps nothing of it.
    pid = connections["default"].connection.info.backend_pid
    by_sql("SELECT pg_terminate_backend(%s)", [pid])
    session_deleted_by_sql(kept, None)  # while no connection of ours listened
    close_old_connections()  # as each request starts in production (the test client does not)
    assert kept.get(API).status_code == 401
    assert connections["default"].connection.info.backend_pid != pid


def test_an_expired_session_is_not_served_from_what_was_kept(client, analyst):
    with override_settings(SESSION_COOKIE_AGE=1):
        response = client.post(reverse("login"), {"username": "analyst", "password": PASSWORD})
        assert response.status_code == 302
        assert client.get(API).status_code == 200
        assert session_statements(client) == 0
        time.sleep(1.1)
        assert client.get(API).status_code == 401


def test_the_triggers_notify_once_per_statement(kept, analyst):
    listener = connections["default"].connection
    listener.notifies.clear()
    User.objects.create_user("another", password=PASSWORD)  # an insert: no notice
    User.objects.filter(username__in=["analyst", "another"]).update(first_name="A")  # two rows
    UserSession.objects.filter(user=analyst).update(user=analyst)
    time.sleep(0.1)
    listener.poll()
    assert [notice.channel for notice in listener.notifies] == [CHANNEL, CHANNEL]


def test_a_connection_ended_mid_request_serves_nothing_it_kept(kept):
    # Ended after the request's health check (none runs here: the test client skips it), so
    # the session's lookup is the first to meet the ended connection: it must not answer
    # from what that connection kept, since it heard nothing after its end.
    pid = connections["default"].connection.info.backend_pid
    by_sql("SELECT pg_terminate_backend(%s)", [pid])
    session_deleted_by_sql(kept, None)
    time.sleep(0.1)  # the server's farewell and the end of the stream reach the socket
    assert kept.get(API).status_code == 503  # the users' database unreachable, as it was
    close_old_connections()
    assert kept.get(API).status_code == 401


def listening_channels() -> list[str]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_listening_channels()")
        return [channel for (channel,) in cursor.fetchall()]


def test_only_a_connection_that_reads_sessions_listens(client, analyst):
    # A process that reads no session (the capture worker, gen_data) never listens, so no
    # notices pile up unread on its connections.
    connections["default"].close()
    assert User.objects.filter(pk=analyst.pk).exists()
    assert listening_channels() == []
    client.post(reverse("login"), {"username": "analyst", "password": PASSWORD})
    assert client.get(API).status_code == 200
    assert listening_channels() == [CHANNEL]


@pytest.mark.slow
def test_sessions_kept_before_a_crash_of_the_users_database_are_read_afresh_after_it(analyst):
    # Under gunicorn (two workers, four threads each, every connection keeping what it read),
    # the users' database crashes (pg_ctl stop -m immediate): while it is down nothing is
    # answered from what was kept, and a session deleted right after the restart, before any
    # connection of the site listens again, opens nothing: no notice of it reached anyone.
    cookie = session_cookie(analyst)
    with gunicorn(workers=2, threads=4) as port:
        # Enough requests that every thread has kept the session.
        assert {get(port, str(API), cookie)[0] for _ in range(40)} == {200}
        cluster("oltp", "kill")
        try:
            assert {get(port, str(API), cookie)[0] for _ in range(10)} == {503}
        finally:
            cluster("oltp", "start")
        UserSession.objects.filter(session_key=cookie.removeprefix("sessionid=")).delete()
        assert {get(port, str(API), cookie)[0] for _ in range(40)} == {401}


@pytest.mark.slow
def test_behind_a_transaction_pooler_nothing_is_kept(analyst):
    # Through PgBouncer in transaction pooling, each statement may run on another server
    # connection, so a LISTEN would hear for whichever client comes next: the site must read
    # every session afresh, and a logout elsewhere count at once.
    cookie = session_cookie(analyst)
    with pgbouncer() as pooler_port:
        database = connections["default"].settings_dict
        pooled = f"postgres://{database['USER']}@127.0.0.1:{pooler_port}/{database['NAME']}"
        with gunicorn(workers=1, threads=2, DATABASE_URL=pooled) as port:
            assert {get(port, str(API), cookie)[0] for _ in range(20)} == {200}
            UserSession.objects.filter(session_key=cookie.removeprefix("sessionid=")).delete()
            assert {get(port, str(API), cookie)[0] for _ in range(20)} == {401}


def test_a_connection_closed_after_each_request_keeps_nothing(kept):
    settings = connections["default"].settings_dict
    age, settings["CONN_MAX_AGE"] = settings["CONN_MAX_AGE"], 0
    try:
        connections["default"].close()
        assert session_statements(kept) == 1
        assert session_statements(kept) == 1
        assert listening_channels() == []
    finally:
        settings["CONN_MAX_AGE"] = age
