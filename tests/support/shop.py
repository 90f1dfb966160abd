"""A shop database of its own for the tests of mapped shop schemas (SHOP_SCHEMA=oscar or a
mapping file): created on the same server as the dashboard's test databases, wired to the
OLAP test database by the real setup_olap (publication, subscription, copies, triggers),
unwired and dropped afterwards. The shop is written by plain clients of its own, as the shop's
software would, and the expected figures are computed from its tables in plain Python.
"""

import datetime
import time
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

import psycopg2
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from dashboard.orders import capture
from tests.support.oscar_shop import create_shop_database, drop_shop_database, shop_database_url

SHOP = "shop"
# The same create and drop for any shop's database, the oscar one's or another's.
recreate_database, drop_database = create_shop_database, drop_shop_database


def server_params(dbname):
    params = dict(connections["default"].get_connection_params())
    params["dbname"] = dbname
    return params


def shop_url(name):
    return shop_database_url(name)


@contextmanager
def shop_cursor(name):
    """A cursor on a connection of its own to the shop's database, committing on exit."""
    connection = psycopg2.connect(**server_params(name))
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


@contextmanager
def shop_configured(name, shop_schema, cancelled=None):
    """The site configured for the shop database `name` as `shop_schema` (a preset or a
    mapping file's path): SHOP_DATABASE_URL's alias, "shop", and the settings that go with
    it; afterwards as before."""
    from django.conf import settings

    url = shop_url(name)
    shop_settings = {**connections.settings["default"], "NAME": name, "TEST": {"NAME": name}}
    connections.settings[SHOP] = shop_settings
    settings.DATABASES[SHOP] = shop_settings
    overrides = override_settings(
        ORDERS_SOURCE="cdc", SHOP_SCHEMA=shop_schema, SHOP_CANCELLED_STATUSES=cancelled, CDC_SOURCE_URL=url
    )
    try:
        with overrides:
            yield url
    finally:
        if hasattr(connections._connections, SHOP):
            connections[SHOP].close()
            del connections[SHOP]
        connections.settings.pop(SHOP, None)
        settings.DATABASES.pop(SHOP, None)


@contextmanager
def wired(name, shop_schema, cancelled=None):
    """The OLAP test database capturing the shop database `name` as `shop_schema`, as
    setup_olap wires it in production; afterwards unwired and the OLAP side back to the sample
    table."""
    with shop_configured(name, shop_schema, cancelled) as url:
        call_command("setup_olap", verbosity=0)
        try:
            yield url
        finally:
            call_command("teardown_cdc", verbosity=0)
    call_command("setup_olap", verbosity=0)  # the sample table's key back, emptied


def worker_env(name, shop_schema):
    from tests.orders.conftest import capture_env

    url = shop_url(name)
    return {**capture_env(), "SHOP_DATABASE_URL": url, "SHOP_SCHEMA": shop_schema, "CDC_SOURCE_URL": url}


def tables_synced(timeout=60):
    """Wait until the subscription's initial copy of every table is done (until then, a
    table's changes wait for its copy, whatever the heartbeat says)."""
    deadline = time.monotonic() + timeout
    while True:
        with connections["olap"].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
            if cursor.fetchone() == (0,):
                return
        assert time.monotonic() < deadline, f"tables not synchronised within {timeout} s"
        time.sleep(0.05)


def applied(name, timeout=60):
    """Wait until everything the shop committed so far has been applied on the OLAP side."""
    tables_synced(timeout)
    with shop_cursor(name) as cursor:
        cursor.execute(
            "UPDATE dashboard_capture.cdc_heartbeat SET beat = clock_timestamp() WHERE id = 1 RETURNING beat"
        )
        (stamp,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while True:
        with connections["olap"].cursor() as cursor:
            cursor.execute("SELECT max(beat) FROM dashboard_capture.cdc_heartbeat")
            (reached,) = cursor.fetchone()
        if reached is not None and reached >= stamp:
            return stamp
        assert time.monotonic() < deadline, f"changes not applied within {timeout} s"
        time.sleep(0.02)


def synced(name, shop_schema, timeout=60):
    """Applied and recomputed, as `manage.py cdc_worker` would."""
    from dashboard.orders import derivation
    from dashboard.shop.mapping import load

    applied(name, timeout)
    olap = connections["olap"]
    olap.ensure_connection()
    schema = load(shop_schema)
    columns = derivation.read_columns(olap, schema)
    recompute = derivation.recomputation(schema, columns, olap)
    while capture.fold(olap, recompute).changes:
        pass


# --- The expected lines, computed from the shop's rows in plain Python ------------------------


def expected_lines(orders, lines, addresses, states, cancelled, time_zone=datetime.UTC):
    """[(orderid, itemid, qty, None, dt, state, amount)] sorted, from plain rows:
    orders {key: (number, placed, status, address key)}, lines [(order key, item, qty, amount,
    status)], addresses {key: (state, country)}, states {(state text, country): code} (the
    test's own table of what each spelling means)."""
    grouped = defaultdict(lambda: [0, Decimal(0)])
    meta = {}
    for order_key, item, qty, amount, status in lines:
        number, placed, order_status, address = orders[order_key]
        if order_status in cancelled or status in cancelled:
            continue
        state = states.get(addresses[address]) if address is not None else None
        key = (number, item)
        grouped[key][0] += qty
        grouped[key][1] += amount
        meta[key] = (placed.astimezone(time_zone).date(), state)
    return [
        (number, item, qty, None, meta[(number, item)][0], meta[(number, item)][1], amount)
        for (number, item), (qty, amount) in grouped.items()
    ]
