"""Putting order rows into the OLAP database for tests, with plain bound SQL.

This deliberately does not use the project's loader, so tests of the loader and of the
rankings do not lean on the code they check.
"""

import os
import re
import signal
import threading
import time
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
def lock_held_by_another_client(table, mode="ACCESS EXCLUSIVE"):
    """Another client holds a lock on `table` until the block ends: by default ACCESS
    EXCLUSIVE, so every reader of it waits (a slow or stuck OLAP side, for real); SHARE
    holds off its writers only."""
    assert mode in ("ACCESS EXCLUSIVE", "SHARE")
    locked, release = threading.Event(), threading.Event()

    def hold():
        with another_client() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN {mode} MODE")
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


def _backend(condition, params):
    """The process id of a server backend that pg_stat_activity shows meeting `condition`
    (SQL over its columns, with `params` bound), if any."""
    with another_client() as cursor:
        cursor.execute(f"SELECT pid FROM pg_stat_activity WHERE {condition}", params)
        row = cursor.fetchone()
    return row and row[0]


def _copy_in_progress(dbname, table):
    """The process id of a server backend in the middle of `COPY <table> (...)` in `dbname`
    (the statement active, the server reading the client's rows), if any."""
    return _backend(
        "datname = %s AND state = 'active' AND starts_with(query, %s)", [dbname, f"COPY {table} ("]
    )


def backend_waiting_on_a_lock(statement_start, timeout=60):
    """Wait for a server backend of this database waiting on a lock in a statement that
    starts with `statement_start`; its process id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = _backend(
            "datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, %s)",
            [statement_start],
        )
        if pid:
            return pid
        time.sleep(0.02)
    raise AssertionError(f"no server backend waited on a lock in {statement_start!r}")


@contextmanager
def loader_paused_mid_copy(process, dbname, timeout=60, table="orders"):
    """Freeze the loader `process` (SIGSTOP) while its COPY of order lines (or into `table`)
    is under way in `dbname`, and yield the server backend's pid; the loader runs on (SIGCONT) when the block
    ends. A fault injected inside the block is bound to land inside the load's one
    transaction, with the COPY begun and rows sent, however fast the load and however small:
    no race against the load's own speed."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the loader ended before its COPY was caught"
        assert time.monotonic() < deadline, "the load never reached COPY"
        if _copy_in_progress(dbname, table):
            os.kill(process.pid, signal.SIGSTOP)
            # Seen before the stop; still under way after it? Then it stays so until SIGCONT:
            # the server waits for the rows of a client that cannot send them.
            pid = _copy_in_progress(dbname, table)
            if pid:
                break
            os.kill(process.pid, signal.SIGCONT)
        time.sleep(0.01)
    try:
        yield pid
    finally:
        os.kill(process.pid, signal.SIGCONT)


def as_prepared(statement):
    """The statement's text: for the EXECUTE of a statement prepared on the OLAP connection
    (dashboard.statements), the PREPARE the server keeps for it."""
    executed = re.match(r'EXECUTE "([^"]+)"', statement)
    if executed is None:
        return statement
    with connections[OLAP].cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [executed[1]])
        (prepared,) = cursor.fetchone()
    return prepared
