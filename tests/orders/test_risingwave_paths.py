"""RisingWave cannot run here, so its code paths are checked on the SQL they produce, and
every statement PostgreSQL also understands is executed for real."""

import datetime
from decimal import Decimal

import numpy as np
import pytest
from django.db import DatabaseError, connections

from dashboard.orders.engine import POSTGRESQL, RISINGWAVE, engine_from_version, server_engine
from dashboard.orders.loading import (
    ChunkReader,
    OrderLines,
    insert_statements,
    load_postgresql,
    load_risingwave,
)
from tests.support.orders import all_orders

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
    with pytest.raises(DatabaseError, match="prices must be"):
        load_postgresql(connections["olap"], [make_lines(ROWS), make_lines(too_big)], replace=(1, 10))
    assert all_orders() == []


def test_chunk_reader_reads_like_a_file():
    reader = ChunkReader([b"abc", b"", b"defg"])
    assert reader.read(2) == b"ab"
    assert reader.read(5) == b"c"  # never more than one chunk at a time
    assert reader.read() == b"defg"
    assert reader.read(3) == b""
