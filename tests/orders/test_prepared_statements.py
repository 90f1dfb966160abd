"""Statements prepared on PostgreSQL (dashboard.statements.execute), as the figures' statement
is: PREPAREd once per connection and then only EXECUTEd, planned once, with the same answers;
prepared again when something deallocated it; a 503 when the server ended the connection
first; never through a pooler, on a connection closed after each request, or on RisingWave."""

import datetime

import pytest
from django.db import OperationalError, connections, transaction
from django.test.utils import CaptureQueriesContext
from psycopg2 import sql

from dashboard.orders import engine
from dashboard.orders.selectors import FROM_RAW, OlapUnavailable, OrderFilters, figures
from dashboard.statements import execute, own_server_process
from tests.support.orders import another_client, insert_orders
from tests.support.periods import CURRENT, ROWS
from tests.support.pooler import pgbouncer

DATABASES = ["default", "olap", "catalog"]
FILTERS = OrderFilters(
    start=datetime.date.fromisoformat(CURRENT["start"]), end=datetime.date.fromisoformat(CURRENT["end"])
)
SINCE = datetime.date(2026, 3, 1)


def turnover_since() -> sql.Composed:
    # A text of this module's own (a statement is named after its text): no other test has
    # prepared it on the connection.
    return sql.SQL(
        "SELECT count(*) AS lines_in_prepared_test, sum(qty * price) FROM {} WHERE {} >= %s"
    ).format(sql.Identifier("orders"), sql.Identifier("dt"))


def lines_since(connection, day, *, prepare=True):
    with connection.cursor() as cursor:
        execute(cursor, "tests: turnover since", turnover_since, [day], prepare=prepare)
        return cursor.fetchone()


def sent(connection, call):
    """(call()'s answer, the statements it sent on `connection`)."""
    with CaptureQueriesContext(connection) as captured:
        answer = call()
    return answer, [query["sql"] for query in captured.captured_queries]


def kinds(statements):
    return [
        statement.split()[0] for statement in statements if statement.split()[0] in ("PREPARE", "EXECUTE")
    ]


def expected_since(day):
    covered = [row for row in ROWS if row[4] >= day]
    return len(covered), sum(row[2] * row[3] for row in covered)


@pytest.mark.django_db(databases=DATABASES)
def test_a_statement_is_prepared_once_per_connection_then_only_executed():
    insert_orders(ROWS)
    olap = connections["olap"]
    first, first_sent = sent(olap, lambda: lines_since(olap, SINCE))
    again, again_sent = sent(olap, lambda: lines_since(olap, SINCE))
    assert kinds(first_sent) == ["PREPARE", "EXECUTE"], first_sent
    assert again_sent[0].startswith('EXECUTE "dashboard_') and len(again_sent) == 1, again_sent
    assert first == again == expected_since(SINCE)
    # Its values stay values: another day, another answer, the same prepared statement.
    assert lines_since(olap, datetime.date(2026, 3, 6)) == expected_since(datetime.date(2026, 3, 6))


@pytest.mark.django_db(databases=DATABASES, transaction=True)
def test_a_prepared_statement_is_planned_once_for_any_values(empty_orders):
    insert_orders(ROWS)
    olap = connections["olap"]
    olap.close()  # a connection of this test's own, from its first statement
    days = [SINCE, datetime.date(2026, 3, 6), datetime.date(2026, 2, 1)]
    assert [lines_since(olap, day) for day in days] == [expected_since(day) for day in days]
    with olap.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%lines_in_prepared_test%"],
        )
        # Left to itself the server would plan each of the first five for its values: (0, 3).
        assert cursor.fetchall() == [(3, 0)]


@pytest.mark.django_db(databases=DATABASES)
def test_the_figures_statement_is_executed_prepared_and_answers_as_the_raw_group_by():
    insert_orders(ROWS)
    figures(FILTERS)  # prepared by the first answer on this connection, if no earlier test did
    found, statements = sent(connections["olap"], lambda: figures(FILTERS))
    assert len(statements) == 1 and statements[0].startswith('EXECUTE "dashboard_'), statements
    raw = figures(FILTERS, FROM_RAW)
    assert (found.headline, found.previous_headline, found.state_place) == (
        raw.headline,
        raw.previous_headline,
        raw.state_place,
    )
    for name in ("states_by_turnover", "items_by_turnover", "items_by_total_qty"):
        assert found.top[name] == raw.top[name], name
    assert found.previous_places == raw.previous_places


def prepared_then_deallocated():
    """The OLAP connection, once it prepared the test's statement and something else
    deallocated every statement prepared on it (DEALLOCATE ALL, as DISCARD ALL would)."""
    insert_orders(ROWS)
    olap = connections["olap"]
    lines_since(olap, SINCE)
    with olap.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    return olap


@pytest.mark.django_db(databases=DATABASES, transaction=True)
def test_a_statement_deallocated_behind_its_back_is_prepared_again(empty_orders):
    olap = prepared_then_deallocated()
    answer, statements = sent(olap, lambda: lines_since(olap, SINCE))
    assert answer == expected_since(SINCE)
    assert kinds(statements) == ["EXECUTE", "PREPARE", "EXECUTE"], statements


@pytest.mark.django_db(databases=DATABASES, transaction=True)
def test_inside_a_transaction_the_error_stands_and_the_next_use_prepares_again(empty_orders):
    olap = prepared_then_deallocated()
    # A failed statement aborts the transaction it is in: no second try there.
    with pytest.raises(OperationalError, match="does not exist"), transaction.atomic(using="olap"):
        lines_since(olap, SINCE)
    answer, statements = sent(olap, lambda: lines_since(olap, SINCE))
    assert answer == expected_since(SINCE)
    assert kinds(statements) == ["PREPARE", "EXECUTE"], statements


def another_connection(**changes):
    """A connection to the OLAP test database with other settings, for one test."""
    olap = connections["olap"]
    return type(olap)({**olap.settings_dict, **changes}, alias="olap_for_a_test")


@pytest.mark.django_db(databases=DATABASES, transaction=True)
def test_nothing_is_prepared_through_a_pooler(empty_orders):
    insert_orders(ROWS)
    connections["olap"].ensure_connection()
    assert own_server_process(connections["olap"].connection)  # straight to its server
    with pgbouncer("olap") as port:
        pooled = another_connection(PORT=str(port))
        try:
            pooled.ensure_connection()
            assert not own_server_process(pooled.connection)
            for _ in range(3):
                answer, statements = sent(pooled, lambda: lines_since(pooled, SINCE))
                assert answer == expected_since(SINCE)
                assert kinds(statements) == [] and "lines_in_prepared_test" in statements[-1], statements
        finally:
            pooled.close()


@pytest.mark.django_db(databases=DATABASES, transaction=True)
def test_nothing_is_prepared_on_a_connection_closed_after_each_request(empty_orders):
    insert_orders(ROWS)
    per_request = another_connection(CONN_MAX_AGE=0)
    try:
        answer, statements = sent(per_request, lambda: lines_since(per_request, SINCE))
    finally:
        per_request.close()
    assert answer == expected_since(SINCE)
    assert kinds(statements) == [] and "lines_in_prepared_test" in statements[-1], statements


@pytest.mark.django_db(databases=DATABASES)
def test_on_risingwave_the_figures_statement_is_sent_as_it_is(monkeypatch):
    insert_orders(ROWS)
    olap = connections["olap"]
    where = (
        str(olap.settings_dict["HOST"]),
        str(olap.settings_dict["PORT"]),
        str(olap.settings_dict["NAME"]),
    )
    monkeypatch.setitem(engine._engines, where, engine.RISINGWAVE)
    found, statements = sent(olap, lambda: figures(FILTERS))
    assert kinds(statements) == [] and statements[-1].startswith("SELECT"), statements
    assert found.headline == figures(FILTERS, FROM_RAW).headline


@pytest.mark.django_db(databases=DATABASES, transaction=True)
def test_a_connection_the_server_ended_before_its_first_prepared_statement_is_a_503(empty_orders):
    insert_orders(ROWS)
    olap = connections["olap"]
    olap.close()
    olap.ensure_connection()  # a new connection, nothing asked of it yet
    with another_client() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [olap.connection.info.backend_pid])
    with pytest.raises(OlapUnavailable) as failed:
        figures(FILTERS)
    assert failed.value.status == 503
    # The next answer connects afresh and prepares there.
    assert figures(FILTERS).headline == figures(FILTERS, FROM_RAW).headline


@pytest.mark.django_db(databases=DATABASES)
def test_a_states_items_over_a_range_are_planned_for_their_values():
    # How many of the delta log's rows a range holds decides how the server sums them: a
    # plan made without the values sorted 38,313 rows it took for 264 (22 -> 35 ms).
    insert_orders(ROWS)
    state_and_range = OrderFilters(start=FILTERS.start, end=FILTERS.end, state="CA")
    figures(state_and_range)
    found, statements = sent(connections["olap"], lambda: figures(state_and_range))
    assert kinds(statements) == [] and statements[-1].startswith("SELECT"), statements
    assert found.headline == figures(state_and_range, FROM_RAW).headline
    # The same state over all time, and a range of every state, are prepared.
    for prepared in (OrderFilters(state="CA"), FILTERS):
        figures(prepared)
        _, statements = sent(connections["olap"], lambda: figures(prepared))  # noqa: B023
        assert kinds(statements) == ["EXECUTE"], statements
