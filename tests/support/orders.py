"""Putting order rows into the OLAP database for tests, with plain bound SQL.

This deliberately does not use the project's loader, so tests of the loader and of the
rankings do not lean on the code they check.
"""

import threading
from contextlib import contextmanager

import psycopg2
from django.db import connections

from dashboard.dbrouter import OLAP

COLUMNS = ("orderid", "itemid", "qty", "price", "dt", "state")


def insert_orders(rows):
    """rows: tuples in COLUMNS order; price a Decimal or None, dt a date or None."""
    with connections[OLAP].cursor() as cursor:
        cursor.executemany(
            "INSERT INTO orders (orderid, itemid, qty, price, dt, state) VALUES (%s, %s, %s, %s, %s, %s)",
            list(rows),
        )


def all_orders():
    with connections[OLAP].cursor() as cursor:
        cursor.execute("SELECT orderid, itemid, qty, price, dt, state FROM orders ORDER BY orderid, itemid")
        return cursor.fetchall()


@contextmanager
def another_client(alias=OLAP):
    """A cursor on a connection of its own to `alias`'s database, committing on exit, as
    another program would."""
    # psycopg2 directly (Django's get_new_connection refuses to run beside Playwright's
    # event loop), with the options Django would use.
    connection = psycopg2.connect(**connections[alias].get_connection_params())
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def insert_orders_as_another_client(rows):
    with another_client() as cursor:
        cursor.executemany(
            "INSERT INTO orders (orderid, itemid, qty, price, dt, state) VALUES (%s, %s, %s, %s, %s, %s)",
            list(rows),
        )


@contextmanager
def lock_held_by_another_client(table):
    """Another client holds an ACCESS EXCLUSIVE lock on `table` until the block ends, so
    every reader of it waits: a slow or stuck OLAP side, for real."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        with another_client() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10), "the lock was not taken"
        yield
    finally:
        release.set()
        holder.join()


def backend_running_copy(dbname):
    """The process id of a server backend running `COPY orders ...` in `dbname`, if any."""
    with another_client() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY orders%%'", [dbname]
        )
        row = cursor.fetchone()
    return row and row[0]
