"""The site's database engines (analytics_site/db_engines): a kept connection's health check
asks the server only when the server may have ended the connection."""

import select

import psycopg2
import pytest
from django.db import DatabaseError, connections, transaction

from dashboard.dbrouter import OLAP

ALIASES = ["default", OLAP]


def server_side(alias):
    """A connection of its own to the alias's server, to watch and end the alias's session."""
    return psycopg2.connect(**connections[alias].get_connection_params())


def last_statement(alias, pid):
    with server_side(alias) as watcher, watcher.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        (query,) = cursor.fetchone()
    return query


@pytest.mark.django_db(transaction=True, databases=ALIASES)
@pytest.mark.parametrize("alias", ALIASES)
def test_a_healthy_kept_connection_passes_the_check_without_a_round_trip(alias):
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the request before'")
    pid = connection.connection.get_backend_pid()

    connection.health_check_done = False  # as at the start of the next request
    connection.close_if_health_check_failed()

    assert connection.connection is not None
    assert connection.connection.get_backend_pid() == pid  # kept, not reopened
    # Django's own check would have sent SELECT 1.
    assert last_statement(alias, pid) == "SELECT 'the request before'"


@pytest.mark.django_db(transaction=True, databases=ALIASES)
@pytest.mark.parametrize("alias", ALIASES)
def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(alias):
    connection = connections[alias]
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    with server_side(alias) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        assert cursor.fetchone() == (True,)

    connection.health_check_done = False  # as at the start of the next request
    with connection.cursor() as cursor:  # the check runs here, before the first statement
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()

    assert new_pid != pid


@pytest.mark.django_db(transaction=True, databases=ALIASES)
@pytest.mark.parametrize("alias", ALIASES)
def test_a_connection_with_nothing_to_read_but_closed_by_the_driver_is_unusable(alias):
    connection = connections[alias]
    connection.ensure_connection()
    connection.connection.close()  # what psycopg2 does after a fatal error on it
    try:
        assert connection.is_usable() is False
    finally:
        connection.close()  # Django's side too: the next use opens a new one


@pytest.mark.django_db(transaction=True, databases=ALIASES)
@pytest.mark.parametrize("alias", ALIASES)
def test_a_connection_in_a_failed_transaction_is_unusable_as_with_django_s_own_check(alias):
    # Django asks is_usable() before checking constraints at the end of a test's transaction
    # and after a request's errors: a failed transaction cannot run SELECT 1 either.
    connection = connections[alias]
    with transaction.atomic(using=alias):  # rolled back at its end: the inner one failed
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(using=alias, savepoint=False),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT 1 / 0")
        assert connection.is_usable() is False


@pytest.mark.django_db(transaction=True, databases=ALIASES)
def test_without_poll_the_check_asks_the_server_as_django_does(monkeypatch):
    # select.poll is missing on Windows.
    monkeypatch.delattr(select, "poll")
    connection = connections[OLAP]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the request before'")
    pid = connection.connection.get_backend_pid()

    assert connection.is_usable() is True
    assert last_statement(OLAP, pid) == "SELECT 1"
