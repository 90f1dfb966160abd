"""gen_data through a real outage of the OLAP server (`pg_ctl stop -m immediate`, as in a
crash): a bulk load and a live feed wait for it, resume, and leave every order line exactly
once, the rollups equal to a row-by-row computation over the table. And a stop signal that
lands in the middle of a COPY is a stop, not an outage to wait out."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.conf import settings

from tests.support import ROOT
from tests.support.clusters import cluster
from tests.support.database_urls import database_env
from tests.support.orders import (
    all_orders,
    another_client,
    backend_waiting_on_a_lock,
    loader_paused_mid_copy,
    lock_held_by_another_client,
)
from tests.support.rollups import assert_rollups_match_orders

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]


def start_gen_data(*argv):
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "gen_data.py"), "--retry-for", "120", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **database_env()},
    )


@pytest.fixture
def loader():
    """Starts gen_data processes; none outlives the test."""
    started = []

    def start(*argv):
        started.append(start_gen_data(*argv))
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def distinct_orders():
    with another_client() as cursor:
        cursor.execute("SELECT count(DISTINCT orderid) FROM orders")
        return cursor.fetchone()[0]


def wait_for_orders(process, at_least, timeout=120):
    """Wait until the table holds `at_least` orders (the live feed keeps running); their
    number."""
    deadline = time.monotonic() + timeout
    while (count := distinct_orders()) < at_least:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, f"{count} orders, not {at_least}, within {timeout} s"
        time.sleep(0.05)
    return count


def test_a_bulk_load_waits_out_a_crash_of_the_olap_server_and_completes(empty_orders, loader):
    # The loader is frozen mid-COPY while the server crashes, so the crash lands inside the
    # load whatever its size: a small load does, and the check below stays row by row.
    process = loader("--orders", "30000", "--seed", "4", "--quiet")
    with loader_paused_mid_copy(process, settings.DATABASES["olap"]["NAME"]):
        cluster("olap", "kill")
    try:
        time.sleep(3)
    finally:
        cluster("olap", "start")
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert "loading: a database is unavailable" in stderr and re.search(
        r"loading: resumed after [\d.]+ s", stderr
    )
    assert "Traceback" not in stderr
    assert "Loaded" in stdout
    rows = all_orders()
    assert len({orderid for orderid, *_ in rows}) == 30_000
    assert len(rows) == len({(orderid, itemid) for orderid, itemid, *_ in rows})
    assert_rollups_match_orders()


def test_a_load_whose_second_connection_is_cut_off_mid_copy_runs_again_quietly(empty_orders, loader):
    # A first load writes the (state, day, item) delta log on a second connection
    # (dashboard/orders/delta_log_swap.py). Cut off in its COPY, the load is tried again like
    # any outage; psycopg2's print of that COPY's error (a traceback, and "SystemError:
    # <function decode> returned a result with an exception set") no longer reaches stderr.
    process = loader("--orders", "30000", "--seed", "4", "--quiet")
    dbname = settings.DATABASES["olap"]["NAME"]
    with (
        loader_paused_mid_copy(process, dbname, table="orders_state_item_day_next") as pid,
        another_client() as cursor,
    ):
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert stderr.count("loading: a database is unavailable") == 1, stderr
    assert re.search(r"loading: resumed after [\d.]+ s", stderr), stderr
    assert len(stderr.splitlines()) == 2, stderr  # those two lines, nothing printed besides
    assert "Loaded" in stdout
    assert len({orderid for orderid, *_ in all_orders()}) == 30_000
    assert_rollups_match_orders()


def test_a_cancelled_load_is_reported_at_once_not_waited_out(empty_orders, loader):
    # psycopg2 calls a cancelled statement (a statement timeout, pg_cancel_backend) an
    # OperationalError, like a lost connection; but the server is up and meant it. A load
    # cancelled by a statement timeout was waited out and run again from the start.
    process = loader("--orders", "30000", "--seed", "4", "--quiet")
    with (
        loader_paused_mid_copy(process, settings.DATABASES["olap"]["NAME"]) as pid,
        another_client() as cursor,
    ):
        cursor.execute("SELECT pg_cancel_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "unavailable" not in stderr and "Traceback" not in stderr, stderr
    assert (
        "gen_data.py: error: the load failed: canceling statement due to user request; "
        "nothing from this load was kept (it runs in one transaction); 0 orders of seed 4 are "
        "in the table. Run the same command again to complete it."
    ) in stderr, stderr
    assert "Loaded" not in stdout
    assert all_orders() == []
    assert_rollups_match_orders()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_in_the_middle_of_a_copy_stops_the_load(empty_orders, loader, stop):
    # Python raises the signal's KeyboardInterrupt in the next code it runs: here, reading
    # the COPY's data for psycopg2, which used to turn it into a failed COPY that the loader's
    # patience (--retry-for 120) took for an outage, loading the whole thing again.
    process = loader("--orders", "30000", "--seed", "4", "--quiet")
    with loader_paused_mid_copy(process, settings.DATABASES["olap"]["NAME"]):
        process.send_signal(stop)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "gen_data.py: interrupted; nothing from the unfinished load is kept" in stderr, stderr
    assert "unavailable" not in stderr and "Traceback" not in stderr, stderr
    assert "Loaded" not in stdout
    assert all_orders() == []
    assert_rollups_match_orders()


def test_a_live_feed_waits_out_a_crash_and_sends_each_order_exactly_once(empty_orders, loader):
    process = loader("--follow", "--rate", "40", "--seed", "9")
    # The feed is under way (it has sent orders) before the crash, and it has gone on after
    # it, as the asserts below demand, before it is stopped: waited for, not guessed.
    before_the_crash = wait_for_orders(process, at_least=40)
    cluster("olap", "kill")
    try:
        time.sleep(4)
    finally:
        cluster("olap", "start")
    wait_for_orders(process, at_least=before_the_crash + 40)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert stderr.count("following: a database is unavailable") == 1, stderr
    assert re.search(r"following: resumed after [\d.]+ s", stderr), stderr
    assert "Traceback" not in stderr
    summary = re.search(r"appended ([\d,]+) orders \(([\d,]+) order lines\)", stdout)
    rows = all_orders()
    lines_per_order = Counter(orderid for orderid, *_ in rows)
    ids = sorted(lines_per_order)
    # Every tick's orders are there, once: no gap where a tick was lost, no key twice.
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert set(lines_per_order.values()) <= {1, 2, 3, 4, 5}
    assert len(rows) == len({(orderid, itemid) for orderid, itemid, *_ in rows})
    assert (
        summary
        and int(summary[1].replace(",", "")) == len(ids)
        and int(summary[2].replace(",", "")) == len(rows)
    )
    assert len(ids) >= before_the_crash + 40  # it went on after the outage
    assert_rollups_match_orders()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_during_a_live_feed_s_tick_lets_the_tick_finish(empty_orders, loader, stop):
    process = loader("--follow", "--rate", "40", "--seed", "9")
    wait_for_orders(process, at_least=40)
    # Writers held off: the feed's next tick waits inside its COPY, and the signal lands there.
    with lock_held_by_another_client("orders", mode="SHARE"):
        backend_waiting_on_a_lock("COPY orders (")
        before = distinct_orders()
        process.send_signal(stop)
        time.sleep(0.5)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Stopped after" in stdout
    # The tick under way committed whole, and no tick came after it.
    assert distinct_orders() == before + 40
    assert_rollups_match_orders()
