"""The capture worker (`manage.py cdc_worker`), for ORDERS_SOURCE=cdc: every 100 ms it folds
the changes logical replication applied into the rollups (PostgreSQL stand-in only:
RisingWave keeps its views itself): the sample table's logged changes, or a mapped shop's
touched orders, whose lines it recomputes (dashboard/orders/derivation.py). Every second it
stamps the heartbeat in the shop's database, which tells how far behind the figures are.

It runs until stopped (SIGTERM or SIGINT, which it handles itself even where a shell started
it with SIGINT ignored) and outlives either database going away: it says so in one line,
retries every second, and says so again when the database is back. Nothing is lost meanwhile:
changes wait in the replication slot or in the log until the next fold.
"""

import gc
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import TextIO

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from dashboard.dbrouter import DEFAULT, OLAP, SHOP, shop_alias
from dashboard.orders import capture, derivation
from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.session import set_statement_timeout
from dashboard.shop.configured import shop_schema

FOLD_SECONDS = 0.1
BEAT_SECONDS = 1.0
RETRY_SECONDS = 1.0
NAMES = {DEFAULT: "the shop's database", SHOP: "the shop's database", OLAP: "the OLAP database"}


@dataclass
class Link:
    """One database as the worker sees it: up, or down since when (one line per outage)."""

    alias: str
    say: Callable[[str], None]
    down_since: float | None = None
    retry_at: float = 0.0

    def ready(self, now: float) -> bool:
        return self.down_since is None or now >= self.retry_at

    def failed(self, error: DatabaseError, now: float) -> None:
        connections[self.alias].close()  # reconnect from scratch next time
        self.retry_at = now + RETRY_SECONDS
        if self.down_since is None:
            self.down_since = now
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            self.say(f"{NAMES[self.alias]} is unavailable ({reason}); retrying every {RETRY_SECONDS:.0f} s")

    def worked(self, now: float) -> None:
        if self.down_since is not None:
            self.say(f"{NAMES[self.alias]} is back after {now - self.down_since:.1f} s")
            self.down_since = None


@dataclass
class Worker:
    say: Callable[[str], None]
    stop: threading.Event = field(default_factory=threading.Event)
    folded: int = 0  # change rows folded since the start
    _engine: str | None = None
    _olap_connection: object = None
    _recompute: derivation.Recompute | None = None  # a mapped shop's, for this connection

    def run(self) -> None:
        shop, olap = Link(shop_alias(), self.say), Link(OLAP, self.say)
        heartbeat = capture.captured(shop_schema()).heartbeat
        next_beat = 0.0
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                if now >= next_beat and shop.ready(now):
                    next_beat = now + BEAT_SECONDS
                    self._attempt(shop, lambda: capture.beat(connections[shop_alias()], heartbeat))
                if olap.ready(now):
                    self._attempt(olap, self._fold)
                self.stop.wait(FOLD_SECONDS)
        finally:
            connections.close_all()  # this thread's: a database can be dropped after it

    def _attempt(self, link: Link, step: Callable[[], object]) -> None:
        try:
            step()
        except DatabaseError as error:
            link.failed(error, time.monotonic())
        else:
            link.worked(time.monotonic())
            return
        # Out of the except block, which keeps the exception alive: a failed fold's frames sit
        # in reference cycles with its exception (Django's wrap_database_errors makes one),
        # and only the cyclic collector frees what they hold, such as a bulk fold's sums.
        gc.collect()

    def _fold(self) -> None:
        olap = self._olap()
        if self._engine == RISINGWAVE:
            return  # its views follow the captured table by themselves
        started = time.monotonic()
        done = capture.fold(olap, self._recompute)
        if done:
            self.folded += done.changes
            if done.in_bulk:
                # A line per bulk import: what it took, and why the worker's memory grew.
                self.say(
                    f"folded a bulk import of {done.changes:,} lines in {time.monotonic() - started:.1f} s "
                    "(summed in memory)"
                )
                capture.tidy_after_bulk_fold(olap)
            elif self._recompute is not None and done.changes >= capture.BIG_FOLD:
                capture.tidy_after_big_fold(olap, self._recompute)

    def _olap(self) -> BaseDatabaseWrapper:
        """The OLAP connection, with the statement timeout lifted (a fold of a big transaction
        may rightly take seconds; on RisingWave "no limit" is a day, session.py), and its
        engine, asked once per connection."""
        olap = connections[OLAP]
        olap.ensure_connection()
        if olap.connection is not self._olap_connection:
            set_statement_timeout(olap, 0)
            self._engine = server_engine(olap)
            schema = shop_schema()
            if schema is not None and self._engine != RISINGWAVE:
                # The copies on the OLAP side have the shop's column types: read them there,
                # so the worker folds while the shop's database is down.
                try:
                    columns = derivation.read_columns(olap, schema)
                except derivation.ShopSchemaMismatch as error:
                    raise DatabaseError(f"{error} (run manage.py setup_olap)") from error
                self._recompute = derivation.recomputation(schema, columns, olap)
            self._olap_connection = olap.connection
        return olap


def run_until_stopped(out: TextIO) -> int:
    """Run the worker in this process until SIGTERM or SIGINT; the change rows folded."""

    def say(line: str) -> None:
        out.write(f"cdc_worker: {line}\n")
        out.flush()

    worker = Worker(say)

    def stop(signum: int, frame: FrameType | None) -> None:
        worker.stop.set()

    # Installed outright: a process started in the background by a shell ignores SIGINT,
    # and would otherwise not stop on Ctrl-C of its own terminal or on a test's SIGINT.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say(f"folding captured changes every {FOLD_SECONDS * 1000:.0f} ms, heartbeat every {BEAT_SECONDS:.0f} s")
    worker.run()
    say(f"stopped; {worker.folded:,} change rows folded")
    return worker.folded
