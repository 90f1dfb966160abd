"""A mapped shop's capture under faults, on the real clusters, with the real capture worker
(a process of its own): the OLAP server killed (pg_ctl stop -m immediate) while the shop
writes, edits and cancels; the worker killed in the middle of recomputing a bulk import; the
shop's server restarted. Afterwards the dashboard equals a plain computation over the shop's
tables, exactly: nothing lost, nothing counted twice."""

import datetime
import random
import re
import threading
import time

import pytest
from django.db import connections

from dashboard.orders import capture
from tests.orders.conftest import WorkerProcess
from tests.shop.figures import assert_dashboard_equals
from tests.shop.saleor import MAPPING, NAME, expected_from_shop, place, saleor_shop
from tests.support.clusters import cluster
from tests.support.shop import applied, shop_cursor, worker_env

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), saleor_shop(variants=29):
        yield


@pytest.fixture
def worker(shop, tmp_path):
    process = WorkerProcess(tmp_path / "cdc_worker.log", env=worker_env(NAME, MAPPING))
    process.start()
    try:
        yield process
    finally:
        process.stop()


class ShopAtWork(threading.Thread):
    """The shop taking orders, about 20 a second, each in its own transaction, now and then
    cancelling one, moving one's address or changing a quantity; it keeps trying through
    outages of its own database."""

    STATES = [("California", "US"), ("tx", "US"), (" New York ", "US"), ("", "PR"), ("CA", "GB")]

    def __init__(self, first_number):
        super().__init__(daemon=True)
        self.halt = threading.Event()
        self.number = first_number
        self.committed = 0
        self.failed = 0
        self.rng = random.Random(first_number)

    def run(self):
        while not self.halt.is_set():
            try:
                with shop_cursor(NAME) as cursor:
                    state, country = self.rng.choice(self.STATES)
                    lines = [
                        (
                            self.rng.randint(1, 29),
                            self.rng.randint(1, 4),
                            f"{self.rng.randint(100, 99999) / 1000:.3f}",
                        )
                        for _ in range(self.rng.randint(1, 3))
                    ]
                    place(
                        cursor,
                        self.number,
                        lines,
                        state=state,
                        country=country,
                        when=datetime.datetime.now(datetime.UTC),
                    )
                    if self.number % 7 == 0:
                        cursor.execute(
                            "UPDATE order_order SET status = 'canceled' WHERE number = %s", [self.number - 3]
                        )
                    if self.number % 5 == 0:
                        cursor.execute(
                            "UPDATE account_address SET country_area = 'Texas' WHERE id = "
                            "(SELECT shipping_address_id FROM order_order WHERE number = %s)",
                            [self.number - 2],
                        )
                    if self.number % 11 == 0:
                        cursor.execute(
                            "UPDATE order_orderline SET quantity = quantity + 1 WHERE order_id = "
                            "(SELECT id FROM order_order WHERE number = %s)",
                            [self.number - 4],
                        )
                self.committed += 1
            except Exception:
                self.failed += 1
            # The next order takes the next number whatever happened: a commit whose answer
            # the crash cut off may have gone through, and its number is then taken (the
            # figures are compared with what the shop holds, not with what was tried).
            self.number += 1
            self.halt.wait(0.05)

    def stop(self):
        self.halt.set()
        self.join(30)


@pytest.fixture
def shop_at_work():
    started = []

    def start(first_number):
        writer = ShopAtWork(first_number)
        started.append(writer)
        writer.start()
        return writer

    yield start
    for writer in started:
        writer.stop()


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def caught_up(timeout=120):
    stamp = applied(NAME, timeout)
    waited = capture.wait_until_caught_up(connections["olap"], "postgresql", stamp, timeout=timeout)
    assert waited is not None, f"not folded within {timeout} s"


def test_the_olap_server_killed_while_the_shop_writes_edits_and_cancels(worker, shop_at_work):
    writer = shop_at_work(10_000)
    wait_for(lambda: writer.committed >= 20)
    cluster("olap", "kill")
    try:
        before = writer.committed
        time.sleep(12)
        during = writer.committed - before
    finally:
        cluster("olap", "start")
    wait_for(lambda: writer.committed >= before + during + 20)  # it goes on afterwards too
    writer.stop()
    caught_up()
    assert during > 20 and writer.failed == 0  # the shop went on, and never noticed
    assert_dashboard_equals(expected_from_shop(), some_days=(datetime.date.today(), datetime.date.today()))
    log = worker.output()
    assert log.count("the OLAP database is unavailable") == 1, log
    assert re.search(r"the OLAP database is back after [\d.]+ s", log), log


def test_the_worker_killed_while_it_recomputes_a_bulk_import(worker):
    worker.stop()  # let the import pile up: 60,000 lines in one transaction
    with shop_cursor(NAME) as cursor:
        cursor.execute(
            "INSERT INTO account_address (country, country_area) "
            "SELECT 'US', 'ca' FROM generate_series(1, 20000)"
        )
        cursor.execute("SELECT min(id) FROM account_address WHERE country_area = 'ca'")
        (first_address,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO order_order SELECT gen_random_uuid(), 500000 + g, 'unfulfilled', "
            "TIMESTAMPTZ '2026-04-01 12:00+00', %s + g FROM generate_series(0, 19999) AS g",
            [first_address],
        )
        cursor.execute(
            "INSERT INTO order_orderline SELECT gen_random_uuid(), o.id, 1 + (o.number + k) % 29, 1 + k, "
            "(o.number % 1000) / 8.0 FROM order_order AS o, generate_series(0, 2) AS k "
            "WHERE o.number >= 500000"
        )
    applied(NAME)
    worker.kill_while_running("shop_lines_now")
    worker.start()
    caught_up()
    assert_dashboard_equals(
        expected_from_shop(), some_days=(datetime.date(2026, 4, 1), datetime.date(2026, 4, 1))
    )


def test_the_shops_server_restarted_while_it_writes(worker, shop_at_work):
    writer = shop_at_work(20_000)
    wait_for(lambda: writer.committed >= 20)
    cluster("oltp", "kill")
    try:
        before = writer.committed
        time.sleep(3)
    finally:
        cluster("oltp", "start")
    wait_for(lambda: writer.committed >= before + 20)
    writer.stop()
    caught_up()
    assert writer.failed > 0
    assert_dashboard_equals(expected_from_shop(), some_days=(datetime.date.today(), datetime.date.today()))
    log = worker.output()
    assert "the shop's database is unavailable" in log and "the shop's database is back after" in log, log
