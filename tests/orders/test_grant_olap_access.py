import datetime
import os
import subprocess
import sys
from decimal import Decimal
from urllib.parse import quote

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import override_settings

from tests.support import ROOT
from tests.support.database_urls import database_env, database_url
from tests.support.orders import another_client, insert_orders
from tests.support.rollups import assert_rollups_match_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)


@pytest.fixture
def users(monkeypatch, empty_orders):
    monkeypatch.setenv("OLAP_READER_PASSWORD", "reader secret")
    monkeypatch.setenv("OLAP_WRITER_PASSWORD", "writer secret")
    yield
    with another_client() as cursor:
        for user in ("test_reader", "test_writer"):
            cursor.execute(f'DROP OWNED BY "{user}"')  # revokes its grants too
            cursor.execute(f'DROP USER "{user}"')


def connect_as(user, password):
    params = connections["olap"].get_connection_params()
    params.update(user=user, password=password)
    connection = psycopg2.connect(**params)
    connection.autocommit = True
    return connection


def grant():
    call_command("grant_olap_access", reader="test_reader", writer="test_writer", verbosity=0)


def test_reader_can_only_select_and_writer_can_load(users):
    insert_orders([(1, 1, 2, Decimal("3.00"), datetime.date(2026, 1, 1), "CA")])
    grant()
    grant()  # running it again updates, never fails
    reader = connect_as("test_reader", "reader secret")
    writer = connect_as("test_writer", "writer secret")
    try:
        with reader.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders")
            assert cursor.fetchone() == (1,)
            cursor.execute("SELECT turnover FROM orders_state_total")
            assert cursor.fetchone() == (Decimal("6.00"),)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("INSERT INTO orders VALUES (2, 1, 1, 1, '2026-01-01', 'TX')")
        with writer.cursor() as cursor:
            cursor.execute("INSERT INTO orders VALUES (2, 1, 1, 1, '2026-01-01', 'TX')")
            cursor.execute("DELETE FROM orders WHERE orderid = 2")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("DROP TABLE orders")
    finally:
        reader.close()
        writer.close()


def test_with_captured_orders_the_writer_only_reads(users):
    with override_settings(ORDERS_SOURCE="cdc"):
        grant()
    writer = connect_as("test_writer", "writer secret")
    try:
        with writer.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("INSERT INTO orders VALUES (2, 1, 1, 1, '2026-01-01', 'TX')")
    finally:
        writer.close()


@pytest.mark.slow
def test_the_writer_runs_a_bulk_load_that_sums_its_own_rollups(users):
    insert_orders([(1, 1, 2, Decimal("3.00"), datetime.date(2026, 1, 1), "CA")])
    grant()
    writer = f"test_writer:{quote('writer secret')}"
    env = {**os.environ, **database_env(), "OLAP_DATABASE_URL": database_url("olap", user=writer)}
    command = [sys.executable, str(ROOT / "scripts" / "gen_data.py"), "--orders", "2000", "--quiet"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert_rollups_match_orders()


def test_missing_password_is_refused_with_a_message(monkeypatch):
    monkeypatch.delenv("OLAP_READER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="environment variable OLAP_READER_PASSWORD"):
        call_command("grant_olap_access", reader="test_reader", writer="test_writer")
