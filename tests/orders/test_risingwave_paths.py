"""RisingWave cannot run here, so its code paths are checked on the SQL they produce, and
every statement PostgreSQL also understands is executed for real."""

import datetime
from decimal import Decimal

import numpy as np
import psycopg2.errors
import pytest
from django.db import DatabaseError, connections

from dashboard.orders.binary_copy import ChunkReader
from dashboard.orders.engine import POSTGRESQL, RISINGWAVE, engine_from_version, server_engine
from dashboard.orders.errors import OlapUnavailable, olap_errors
from dashboard.orders.loader_rollups import LoadRefused
from dashboard.orders.loading import (
    OrderLines,
    insert_statements,
    load_postgresql,
    load_risingwave,
)
from dashboard.orders.schema import (
    CREATE_NEWEST_FIRST_INDEX,
    CREATE_ORDERS,
    risingwave_capture_statements,
    risingwave_statements,
)
from dashboard.orders.session import (
    RISINGWAVE_NO_LIMIT,
    set_statement_timeout,
    statement_timeout_value,
    without_statement_timeout,
)
from tests.support.orders import all_orders, another_client

RISINGWAVE_VERSION = "PostgreSQL 13.14.0-RisingWave-3.0.3 (4c5b1f1ae2b0a2d1c0e8b1b7f6f3f0e8c1a2b3c4)"


def make_lines(rows):
    orderid, itemid, qty, cents, dt, state = zip(*rows, strict=True)
    return OrderLines(
        orderid=np.array(orderid, dtype=np.int64),
        itemid=np.array(itemid, dtype=np.int32),
        qty=np.array(qty, dtype=np.int32),
        price_cents=np.array(cents, dtype=np.int64),
        dt=np.array(dt, dtype="datetime64[D]"),
        state=np.array(state, dtype="S2"),
    )


ROWS = [
    (1, 5, 2, 1999, "2026-01-31", b"CA"),
    (1, 6, 1, 7, "2026-01-31", b"CA"),
    (2, 5, 3, 99_999_999_999_999, "2000-01-01", b"TX"),  # the largest price: $999,999,999,999.99
    (3, 9, 1, 0, "1999-12-31", b"NY"),
    (4, 1, 4, 100_000_000, "2026-11-23", b"WA"),
]
EXPECTED = [
    (1, 5, 2, Decimal("19.99"), datetime.date(2026, 1, 31), "CA"),
    (1, 6, 1, Decimal("0.07"), datetime.date(2026, 1, 31), "CA"),
    (2, 5, 3, Decimal("999999999999.99"), datetime.date(2000, 1, 1), "TX"),
    (3, 9, 1, Decimal("0.00"), datetime.date(1999, 12, 31), "NY"),
    (4, 1, 4, Decimal("1000000.00"), datetime.date(2026, 11, 23), "WA"),
]


def test_engine_is_chosen_by_what_the_server_reports():
    assert engine_from_version(RISINGWAVE_VERSION) == RISINGWAVE
    postgresql = "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu"
    assert engine_from_version(postgresql) == POSTGRESQL
    with pytest.raises(ValueError, match="neither RisingWave nor PostgreSQL"):
        engine_from_version("8.0.36 MySQL Community Server")


@pytest.mark.django_db(databases=["olap"])
def test_the_local_olap_server_reports_postgresql():
    assert server_engine(connections["olap"]) == POSTGRESQL


def test_insert_batches_bind_every_value_and_respect_the_batch_size():
    statements = list(insert_statements(make_lines(ROWS), batch_size=2))
    assert [len(params) for _, params in statements] == [12, 12, 6]
    first_sql, first_params = statements[0]
    assert first_sql == (
        "INSERT INTO orders (orderid, itemid, qty, price, dt, state) VALUES "
        "(%s, %s, %s, %s, %s, %s), (%s, %s, %s, %s, %s, %s)"
    )
    assert first_params[:6] == [1, 5, 2, Decimal("19.99"), datetime.date(2026, 1, 31), "CA"]
    assert [type(value) for value in first_params[:6]] == [int, int, int, Decimal, datetime.date, str]
    with pytest.raises(ValueError, match="batch_size"):
        list(insert_statements(make_lines(ROWS), batch_size=0))


@pytest.mark.django_db(databases=["olap"])
def test_risingwave_load_deletes_the_range_inserts_in_batches_then_flushes():
    connection = connections["olap"]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders VALUES (3, 1, 1, 1, '2026-01-01', 'CA'), (50, 1, 1, 1, '2026-01-01', 'CA')"
        )
    executed = []

    def record(execute, sql, params, many, context):
        executed.append(sql)
        # PostgreSQL has no FLUSH; everything else runs for real.
        return None if sql == "FLUSH" else execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        batches = [make_lines(ROWS[:3]), make_lines(ROWS[3:])]
        loaded = load_risingwave(connection, batches, batch_size=2, replace=(1, 10))

    assert loaded == 5
    assert executed[0] == "DELETE FROM orders WHERE orderid >= %s AND orderid < %s"
    assert [sql.count("(%s, %s, %s, %s, %s, %s)") for sql in executed[1:-1]] == [2, 1, 2]
    assert executed[-1] == "FLUSH"
    # Order 3 was replaced; order 50 lies outside the range and stays.
    assert all_orders() == [*EXPECTED, (50, 1, 1, Decimal(1), datetime.date(2026, 1, 1), "CA")]


@pytest.mark.django_db(databases=["olap"])
def test_postgresql_binary_copy_stores_exact_prices_and_dates():
    loaded = load_postgresql(
        connections["olap"], [make_lines(ROWS[:2]), make_lines(ROWS[2:])], replace=(1, 10)
    )
    assert loaded == 5
    assert all_orders() == EXPECTED


@pytest.mark.django_db(databases=["olap"], transaction=True)
def test_binary_copy_refuses_prices_it_cannot_encode(empty_orders):
    # Transactional, so the load's own transaction is the outermost and truly rolls back.
    too_big = [(1, 1, 1, 10**14, "2026-01-01", b"CA")]
    # Raised as it was, from the load's thread in the middle of the COPY (not as the failed
    # COPY psycopg2 makes of it, which the loader's patience took for an outage).
    with pytest.raises(LoadRefused, match="prices must be"):
        load_postgresql(connections["olap"], [make_lines(ROWS), make_lines(too_big)], replace=(1, 10))
    assert all_orders() == []


def test_chunk_reader_reads_like_a_file():
    reader = ChunkReader([b"abc", b"", b"defg"])
    assert reader.read(2) == b"ab"
    assert reader.read(5) == b"c"  # never more than one chunk at a time
    assert reader.read() == b"defg"
    assert reader.read(3) == b""


# --- Timeouts answer 504 on either engine --------------------------------------------------

# What RisingWave v3.0.3 answers, with SQLSTATE XX000, for a query its statement timeout
# cancelled, and for one a person cancelled.
RISINGWAVE_TIMEOUT = "Scheduler error: Query cancelled: timeout after 5 seconds"
RISINGWAVE_USER_CANCEL = "Scheduler error: Query cancelled: Cancelled by user"


def failure_through_olap_errors(sql):
    """The OlapUnavailable that `sql`, run as the site runs queries, turns into."""
    with pytest.raises(OlapUnavailable) as raised, olap_errors(), connections["olap"].cursor() as cursor:
        cursor.execute(sql)
    return raised.value


def raise_internal_error(message):
    """PostgreSQL raising a genuine XX000 with RisingWave's message, as psycopg2 receives one."""
    return f"DO $$ BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'XX000'; END $$"


@pytest.mark.django_db(databases=["olap"], transaction=True)
@pytest.mark.parametrize(
    ("message", "status"),
    [
        (RISINGWAVE_TIMEOUT, 504),
        (RISINGWAVE_TIMEOUT.replace("5 seconds", "0 seconds"), 504),  # a timeout under 1 s
        # A person cancelled it: the database did not answer, but not for lack of time.
        (RISINGWAVE_USER_CANCEL, 503),
        ("Scheduler error: Task not found", 503),
        ("timeout while connecting to the meta service", 503),
    ],
    ids=["timeout", "timeout-under-a-second", "user-cancel", "other-internal-error", "other-timeout"],
)
def test_risingwave_internal_errors_answer_504_only_for_the_statement_timeout(message, status):
    failure = failure_through_olap_errors(raise_internal_error(message))
    driver_error = failure.__cause__.__cause__  # Django's error wraps psycopg2's
    assert isinstance(driver_error, psycopg2.errors.InternalError_)
    assert driver_error.pgcode == "XX000"
    assert driver_error.diag.message_primary == message
    assert failure.status == status


@pytest.mark.django_db(databases=["olap"], transaction=True)
def test_postgresql_statement_timeout_answers_504():
    with connections["olap"].cursor() as cursor:
        cursor.execute("SET statement_timeout = '50ms'")
    failure = failure_through_olap_errors("SELECT pg_sleep(2)")
    assert isinstance(failure.__cause__.__cause__, psycopg2.errors.QueryCanceled)
    assert failure.status == 504


# --- The statement timeout, in the form both engines read ----------------------------------


def test_the_timeout_is_sent_with_its_unit_and_no_limit_is_never_0_on_risingwave():
    assert statement_timeout_value(5000, RISINGWAVE) == "5000ms"
    assert statement_timeout_value(5000, POSTGRESQL) == "5000ms"
    assert statement_timeout_value(0, POSTGRESQL) == "0"
    # On RisingWave 0 means the server's batch default, an hour: no limit is a day, explicitly.
    assert statement_timeout_value(0, RISINGWAVE) == RISINGWAVE_NO_LIMIT == "86400s"


@pytest.mark.django_db(databases=["olap"])
def test_postgresql_reads_every_form_risingwave_is_sent():
    with connections["olap"].cursor() as cursor:
        for value, shown in (("5000ms", "5s"), (RISINGWAVE_NO_LIMIT, "1d"), ("0", "0")):
            cursor.execute("SET statement_timeout = %s", [value])
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone() == (shown,)


def show_statement_timeout(connection):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return cursor.fetchone()[0]


@pytest.mark.django_db(databases=["olap"])
def test_batch_jobs_lift_the_timeout_and_restore_it_on_postgresql(settings):
    settings.OLAP_STATEMENT_TIMEOUT_MS = 5000
    connection = connections["olap"]
    sent = []

    def record(execute, sql, params, many, context):
        if sql.startswith("SET statement_timeout"):
            sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        set_statement_timeout(connection, 5000)
        assert show_statement_timeout(connection) == "5s"
        with without_statement_timeout(connection):
            assert show_statement_timeout(connection) == "0"
        assert show_statement_timeout(connection) == "5s"
    assert sent == [
        ("SET statement_timeout = %s", ["5000ms"]),
        ("SET statement_timeout = %s", ["0"]),
        ("SET statement_timeout = %s", ["5000ms"]),
    ]


@pytest.mark.django_db(databases=["olap"], transaction=True)
@pytest.mark.parametrize("closed_inside", [False, True], ids=["left-broken", "closed-inside"])
def test_a_connection_lost_inside_a_batch_job_raises_its_own_error(settings, closed_inside):
    settings.OLAP_STATEMENT_TIMEOUT_MS = 5000
    connection = connections["olap"]
    connection.ensure_connection()
    backend = connection.connection.get_backend_pid()
    try:
        with pytest.raises(DatabaseError) as raised, without_statement_timeout(connection):
            with another_client() as other:
                other.execute("SELECT pg_terminate_backend(%s, 5000)", [backend])
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            finally:
                if closed_inside:  # as olap_errors() and gen_data do with a lost connection
                    connection.close()
        assert connection.connection is None or connection.connection.closed
    finally:
        connection.close()
    assert "terminat" in str(raised.value) or "closed" in str(raised.value)
    # The next connection has the site's timeout again.
    assert show_statement_timeout(connection) == "5s"


# --- The order browser's newest-first index -------------------------------------------------


def test_risingwave_gets_the_descending_index_on_orders_right_after_the_table():
    for statements in (risingwave_statements(), risingwave_capture_statements()):
        # (With capture, `orders` is the same table with its amount generated from the price.)
        table = next(n for n, s in enumerate(statements) if s.startswith(CREATE_ORDERS.split("\n")[0]))
        assert statements[table + 1] == CREATE_NEWEST_FIRST_INDEX
    assert CREATE_NEWEST_FIRST_INDEX == (
        "CREATE INDEX IF NOT EXISTS orders_newest_first ON orders (orderid DESC, itemid DESC)"
    )


@pytest.mark.django_db(databases=["olap"])
def test_postgresql_accepts_the_descending_index_statement_too():
    with connections["olap"].cursor() as cursor:  # inside the test's transaction: rolled back
        cursor.execute(CREATE_NEWEST_FIRST_INDEX)
        cursor.execute(CREATE_NEWEST_FIRST_INDEX)  # IF NOT EXISTS: safe to repeat
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'orders_newest_first'")
        (definition,) = cursor.fetchone()
    assert definition.endswith("(orderid DESC, itemid DESC)")
