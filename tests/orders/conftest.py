"""Fixtures of the order side's tests: the test databases wired for change data capture,
and the capture worker as a real process."""

import os
import signal
import subprocess
import sys
import time
from contextlib import nullcontext

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from tests.support import ROOT
from tests.support.capture import shop_client, synced
from tests.support.database_urls import database_env, database_url
from tests.support.orders import lock_held_by_another_client


def capture_env():
    """The environment a process of the site's needs to work on the test databases with
    ORDERS_SOURCE=cdc."""
    return {
        **os.environ,
        **database_env(),
        "ORDERS_SOURCE": "cdc",
        "CDC_SOURCE_URL": database_url("default"),
        "DJANGO_SETTINGS_MODULE": "analytics_site.settings",
    }


@pytest.fixture(scope="module")
def captured(django_db_setup, django_db_blocker):
    """The test databases wired as in production with ORDERS_SOURCE=cdc; unwired after, so
    no subscription or slot outlives the module (PostgreSQL would refuse to drop them)."""
    wired = override_settings(ORDERS_SOURCE="cdc", CDC_SOURCE_URL=database_url("default"))
    with django_db_blocker.unblock(), wired:
        call_command("setup_olap", verbosity=0)
        try:
            yield
        finally:
            call_command("teardown_cdc", verbosity=0)


@pytest.fixture
def empty_shop(captured):
    """The test starts from an empty shop, and so an empty OLAP side; and leaves it so."""
    with shop_client() as cursor:
        cursor.execute("TRUNCATE orders")
    synced()
    yield
    with shop_client() as cursor:
        cursor.execute("TRUNCATE orders")
    synced()


class WorkerProcess:
    """`manage.py cdc_worker` in a process of its own, its output in a file."""

    def __init__(self, log_path, env=None):
        self.log_path = log_path
        self.env = env
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it until stopped
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "cdc_worker"],
            env=self.env or capture_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    def kill(self):
        """SIGKILL: no chance to finish anything, as in a crash."""
        self.process.kill()
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def output(self):
        return self.log_path.read_text()

    def kill_while_running(self, query_fragment, attempts=600, blocked_on=None):
        """Start the worker, catch its query containing `query_fragment` running on the OLAP
        server, SIGKILL the worker there, and wait until the server has rolled that back.
        `blocked_on`: a table another client holds locked meanwhile, so the query waits there
        until the worker is dead (a query of a few milliseconds is then caught for sure)."""
        held = lock_held_by_another_client(blocked_on) if blocked_on else nullcontext()
        with held:
            self.start()
            running = None
            for _ in range(attempts):
                with connections["olap"].cursor() as cursor:
                    cursor.execute(
                        # Not this query, whose own text holds the fragment too.
                        "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s "
                        "AND pid <> pg_backend_pid()",
                        [f"%{query_fragment}%"],
                    )
                    running = cursor.fetchone()
                if running:
                    break
                time.sleep(0.01)
            assert running, f"no query with {query_fragment!r} was seen running"
            self.kill()
        with connections["olap"].cursor() as cursor:  # the server notices and rolls it back
            for _ in range(300):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [running[0]])
                if cursor.fetchone() == (0,):
                    return
                time.sleep(0.1)
        raise AssertionError(f"the killed worker's query {query_fragment!r} was still running after 30 s")


@pytest.fixture
def worker(captured, tmp_path):
    """A running cdc_worker; stopped (and killed if need be) afterwards, whatever happens."""
    process = WorkerProcess(tmp_path / "cdc_worker.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()
