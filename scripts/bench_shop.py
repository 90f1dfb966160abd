"""The benchmark's oscar stage (scripts/bench.py --shop runs it): a real django-oscar shop
(tests/oscar_shop, driven through tests/support/oscar_shop.py) in a database of its own on
the shop's server, captured with SHOP_SCHEMA=oscar into the bench's OLAP database as
setup_olap wires it in production, the real capture worker folding in a thread of this
process. Measured from the shop's commit to the dashboard:

- the initial snapshot: --shop-lines lines already in the shop (imported with COPY in
  chunks of varied states and days) when setup_olap starts the capture, until
  /api/rankings/ counts them all;
- a bulk import: another --shop-lines lines in one transaction (COPY), from its commit until
  /api/rankings/ counts it;
- one order: orders placed through oscar's checkout code about 3 a second, each from its
  commit until /api/rankings/ counts it.

Each returns table rows (measure, result, target, met) like bench.py's own; where the time
went (copy, apply, each fold) is printed to stderr.
"""

import importlib.util
import io
import resource
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_site import against_raw

ROOT = Path(__file__).resolve().parent.parent
SHOP_DATABASE = "bench_oscar_shop"
HEARTBEAT = ("dashboard_capture", "cdc_heartbeat")
LINES_PER_ORDER = 3
PRODUCTS = 200
# The shop's history: chunks of one address spelling each (the driver's bulk import gives
# every order of one call the same address), a month apart.
HISTORY = [
    ("CA", "US"),
    ("Texas", "US"),
    (" ny ", "US"),
    ("florida", "US"),
    ("Puerto Rico", "US"),
    ("", "PR"),
    ("wa", "US"),
    ("Illinois", "US"),
    ("Narnia", "US"),  # no state: a sale, in no state's figures
    ("ohio", "US"),
]
HISTORY_START = datetime(2025, 7, 1, 12, tzinfo=UTC)
ORDERS_PER_SECOND = 3
CAUGHT_UP_TIMEOUT = 1800


def missing_requirement():
    """Why this stage can't run here, or None: it drives a real django-oscar shop, which the
    development requirements install (scripts/bench.sh and scripts/test.sh install them), not
    requirements.txt. Asked before the benchmark loads anything, so a missing package costs
    no waiting."""
    if importlib.util.find_spec("oscar") is None:
        return (
            "bench.py: the django-oscar stage needs the development requirements: run the "
            "benchmark as scripts/bench.sh (which installs them, as scripts/test.sh does), or "
            "`.venv/bin/pip install -r requirements-dev.txt`, or pass --no-shop to leave that "
            "stage out"
        )
    return None


def _say(line):
    print(f"bench_shop: {line}", file=sys.stderr, flush=True)


def _worker_class():
    from dashboard.orders.worker import Worker

    @dataclass
    class TimedWorker(Worker):
        """The capture worker, noting each fold that did something: (start, seconds, orders)."""

        folds: list = field(default_factory=list)

        def _fold(self):
            before, started = self.folded, time.perf_counter()
            super()._fold()
            if self.folded != before:
                self.folds.append((started, time.perf_counter() - started, self.folded - before))

    return TimedWorker


@dataclass
class Phases:
    """When each copy's initial synchronisation reached each state (perf_counter times)."""

    seen: dict = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def watch(self):
        from django.db import connections

        try:
            while not self.stop.is_set():
                with connections["olap"].cursor() as cursor:
                    cursor.execute("SELECT srrelid::regclass::text, srsubstate FROM pg_subscription_rel")
                    rows = cursor.fetchall()
                now = time.perf_counter()
                for table, state in rows:
                    self.seen.setdefault((table, state), now)
                self.stop.wait(0.1)
        finally:
            connections.close_all()

    def copied(self, table):
        """When the table's data copy was done (its first state past 'd')."""
        times = [at for (name, state), at in self.seen.items() if name == table and state in "fsr"]
        return min(times) if times else None


def _shop_settings():
    from django.db import connections

    return {**connections["default"].settings_dict, "NAME": SHOP_DATABASE, "TEST": {"NAME": SHOP_DATABASE}}


def _count_lines():
    from django.db import connections

    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders")
        return cursor.fetchone()[0]


def _tables_synced(timeout=CAUGHT_UP_TIMEOUT):
    from django.db import connections

    deadline = time.monotonic() + timeout
    while True:
        with connections["olap"].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
            if cursor.fetchone() == (0,):
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"bench.py: the oscar copies were not synchronised within {timeout} s")
        time.sleep(0.02)


def _caught_up(stamp, timeout=CAUGHT_UP_TIMEOUT):
    """Wait until the rollups include everything the shop committed before `stamp`."""
    from django.db import connections

    from dashboard.orders import capture

    waited = capture.wait_until_caught_up(
        connections["olap"], "postgresql", stamp, timeout=timeout, heartbeat=HEARTBEAT, poll=0.01
    )
    if waited is None:
        raise SystemExit(f"bench.py: the oscar capture did not catch up within {timeout} s")


def _until_the_api_counts(client, timeout=CAUGHT_UP_TIMEOUT):
    """Once the rollups are current (_caught_up), wait until /api/rankings/' headline counts
    the lines they hold: what a user waits for is the answer, not the rollups. The target is
    read from the rollups themselves (their lines summed, as the headline sums them): a
    timing, not a check of the figures, which the tests make."""
    from django.db.models import Sum

    from dashboard.orders.models import StateTotal

    held = StateTotal.objects.using("olap").aggregate(lines=Sum("lines"))["lines"] or 0
    deadline = time.monotonic() + timeout
    while (counted := client.get("/api/rankings/").json()["headline"]["lines"]) != held:
        if time.monotonic() > deadline:
            raise SystemExit(f"bench.py: the API counts {counted:,} lines, the rollups {held:,}")
        time.sleep(0.01)


def _beat():
    from django.db import connections

    from dashboard.orders import capture

    return capture.beat(connections["shop"], HEARTBEAT)


def _import_history(shop, products, lines):
    """About `lines` lines of 3-line orders in chunks of HISTORY's addresses; the lines."""
    orders = max(1, lines // LINES_PER_ORDER)
    written = 0
    for n, (state, country) in enumerate(HISTORY):
        part = orders * (n + 1) // len(HISTORY) - orders * n // len(HISTORY)
        if part:
            placed = HISTORY_START + timedelta(days=30 * n)
            written += shop.bulk_import(
                orders=part,
                lines_per_order=LINES_PER_ORDER,
                first_product=products[0],
                products=len(products),
                state=state,
                country=country,
                date_placed=placed.isoformat(),
                method="copy",
            )["lines"]
    return written


def _fold_summary(worker, since):
    """(folds, seconds folding, orders folded, the longest fold) of the folds after `since`.
    The rollups are current once a fold commits, a moment before the worker notes it (a big
    fold is tidied up after): wait for the note a little."""
    deadline = time.monotonic() + 60
    while not any(fold[0] >= since for fold in worker.folds) and time.monotonic() < deadline:
        time.sleep(0.05)
    recent = [fold for fold in worker.folds if fold[0] >= since]
    if not recent:
        return 0, 0.0, 0, (since, 0.0, 0)
    return len(recent), sum(f[1] for f in recent), sum(f[2] for f in recent), max(recent, key=lambda f: f[1])


def _snapshot(worker_class, client):
    """setup_olap starts the capture of the shop and its history: (seconds until the API
    counts it, breakdown text, lines held, the worker and its thread)."""
    from django.core.management import call_command

    phases = Phases()
    watcher = threading.Thread(target=phases.watch)
    started = time.perf_counter()
    call_command("setup_olap", verbosity=0, stdout=io.StringIO())
    wired = time.perf_counter()
    watcher.start()
    worker = worker_class(say=_say)
    folding = threading.Thread(target=worker.run)
    folding.start()
    try:
        _tables_synced()
        synced = time.perf_counter()
        _caught_up(_beat())
        _until_the_api_counts(client)
        total = time.perf_counter() - started
    finally:
        phases.stop.set()
        watcher.join()
    copies = {
        table: phases.copied(table)
        for table in ("order_order", "order_line", "order_shippingaddress", "catalogue_product")
    }
    count, busy, orders, longest = _fold_summary(worker, started)
    copied = max((at for at in copies.values() if at is not None), default=synced)
    breakdown = (
        f"setup_olap {wired - started:.1f} s, copies done at {copied - started:.1f} s, all synchronised at "
        f"{synced - started:.1f} s; {count} folds of {orders:,} orders took {busy:.1f} s "
        f"(longest {longest[1]:.1f} s for {longest[2]:,} orders)"
    )
    _say(f"snapshot: {breakdown}")
    for table, at in copies.items():
        _say(f"snapshot: {table} copied at {at - started:.1f} s" if at else f"snapshot: {table}: not seen")
    return total, breakdown, _count_lines(), worker, folding


def _bulk_import(shop, products, lines, worker, client):
    """`lines` more lines in one transaction: (seconds from its commit until the API counts
    it, seconds the import took, breakdown text)."""
    orders = max(1, lines // LINES_PER_ORDER)
    started = time.perf_counter()
    shop.bulk_import(
        orders=orders,
        lines_per_order=LINES_PER_ORDER,
        first_product=products[0],
        products=len(products),
        state="California",
        country="US",
        method="copy",
    )
    committed = time.perf_counter()  # the driver answers once the transaction has committed
    _caught_up(_beat())
    _until_the_api_counts(client)
    after = time.perf_counter() - committed
    count, busy, folded, longest = _fold_summary(worker, committed)
    applied = longest[0] - committed  # the big fold starts once the apply has committed
    breakdown = (
        f"applied by about {applied:.1f} s, then {count} folds of {folded:,} orders took {busy:.1f} s "
        f"(longest {longest[1]:.1f} s)"
    )
    _say(f"bulk import: commit to the API counting it {after:.1f} s: {breakdown}")
    return after, committed - started, breakdown


def _one_orders(shop, products, client, seconds):
    """[seconds from each order's commit (the driver's answer) until the API's headline counts it]."""
    base = client.get("/api/rankings/").json()["headline"]["orders"]
    commits = []  # (time of commit, orders committed so far)
    stop = threading.Event()
    failure = []

    def place():
        try:
            started = time.perf_counter()
            n = 0
            while not stop.is_set():
                n += 1
                lines = [[products[(3 * n + j) % len(products)], 1 + j] for j in range(1 + n % 3)]
                shop.place_order(lines, address={"state": "CA", "country": "US"})
                commits.append((time.perf_counter(), n))
                stop.wait(max(0.0, started + n / ORDERS_PER_SECOND - time.perf_counter()))
        except Exception as error:  # reported below: the main thread owns the exit
            failure.append(error)

    placer = threading.Thread(target=place)
    samples = []  # (time, orders the API counts beyond the base)
    placer.start()
    deadline = time.perf_counter() + seconds
    while not failure:
        orders = client.get("/api/rankings/").json()["headline"]["orders"]
        samples.append((time.perf_counter(), orders - base))
        if time.perf_counter() >= deadline and not stop.is_set():
            stop.set()
            placer.join()
        # Past the deadline, until the last order placed shows (or 10 s more).
        if stop.is_set() and (orders - base >= len(commits) or time.perf_counter() > deadline + 10):
            break
        time.sleep(0.01)
    stop.set()
    placer.join()
    if failure:
        raise SystemExit(f"bench.py: placing an oscar order failed: {failure[0]}")
    latencies = []
    for committed_at, count in commits:
        seen = next((at for at, orders in samples if orders >= count and at >= committed_at), None)
        if seen is not None:
            latencies.append(seen - committed_at)
    return latencies, len(commits)


@dataclass
class ShopRun:
    snapshot: tuple = ()
    bulk: tuple = ()
    fresh: tuple = ()
    expected: tuple = (0, 0)
    rss_mb: float = 0.0


def _run(args, client):
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.test import override_settings

    from tests.support.oscar_shop import OscarShop, create_shop_database, drop_shop_database

    run = ShopRun()
    log = Path(tempfile.gettempdir()) / "bench_oscar_shop.log"
    url = create_shop_database(SHOP_DATABASE)
    shop = OscarShop(url, log_path=log)
    connections.settings["shop"] = settings.DATABASES["shop"] = _shop_settings()
    worker = folding = None
    try:
        started = time.perf_counter()
        shop.migrate()
        products = shop.create_products([f"Product {n}" for n in range(1, PRODUCTS + 1)], price="12.34")
        _say(f"oscar migrated with {PRODUCTS} products in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        history = _import_history(shop, products, args.shop_lines)
        _say(f"history: {history:,} lines imported in {time.perf_counter() - started:.1f} s")
        overrides = override_settings(
            ORDERS_SOURCE="cdc", SHOP_SCHEMA="oscar", SHOP_CANCELLED_STATUSES=None, CDC_SOURCE_URL=url
        )
        with overrides:
            try:
                total, breakdown, held, worker, folding = _snapshot(_worker_class(), client)
                run.snapshot = (history, total, breakdown, held)
                after, writing, breakdown = _bulk_import(shop, products, args.shop_lines, worker, client)
                imported = max(1, args.shop_lines // LINES_PER_ORDER) * LINES_PER_ORDER
                run.bulk = (imported, after, writing, breakdown, _count_lines(), history + imported)
                run.fresh = _one_orders(shop, products, client, args.shop_seconds)
            finally:
                if worker is not None:
                    worker.stop.set()
                    folding.join()
                run.rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                call_command("teardown_cdc", verbosity=0, stdout=io.StringIO())
        call_command("setup_olap", verbosity=0, stdout=io.StringIO())  # the sample table's key back
    finally:
        shop.close()
        if hasattr(connections._connections, "shop"):
            connections["shop"].close()
            del connections["shop"]
        connections.settings.pop("shop", None)
        settings.DATABASES.pop("shop", None)
        if not args.keep:
            drop_shop_database(SHOP_DATABASE)
    return run


def _percentile(values, pct):
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def measure_shop(args, client, raw_seconds):
    """The oscar rows of the benchmark table; `raw_seconds` the four raw GROUP BYs' time in
    this run."""
    run = _run(args, client)
    lines, total, breakdown, held = run.snapshot
    rate = lines / total
    held_note = "" if held == lines else f"; **{held:,} of {lines:,} lines held**"
    rows = [
        (f"oscar: initial snapshot of {lines:,} lines, setup_olap to the API counting them",
         f"{rate:,.0f} lines/s ({total:.1f} s: {breakdown}; {against_raw(total, raw_seconds)}{held_note})",
         "≥ 100,000 lines/s", rate >= 100_000 and held == lines),
    ]  # fmt: skip
    imported, after, writing, breakdown, held, expected = run.bulk
    rate = imported / after
    held_note = "" if held == expected else f"; **{held:,} of {expected:,} lines held**"
    rows.append(
        (f"oscar: {imported:,} lines bulk-imported in one transaction (COPY), commit to the API counting "
         "them",
         f"{rate:,.0f} lines/s ({after:.1f} s after the commit: {breakdown}; "
         f"the import took {writing:.1f} s; {against_raw(after, raw_seconds)}"
         f"{held_note})",
         "≥ 50,000 lines/s", rate >= 50_000 and held == expected)
    )  # fmt: skip
    latencies, placed = run.fresh
    p50, p95 = statistics.median(latencies), _percentile(latencies, 95)
    rows.append(
        (f"oscar: one order placed through oscar ({ORDERS_PER_SECOND}/s), commit to the API counting it, "
         f"p50 / p95 ({len(latencies)} of {placed} orders)",
         f"{p50 * 1000:,.0f} / {p95 * 1000:,.0f} ms", "p95 ≤ 1,000 ms",
         p95 <= 1.0 and len(latencies) == placed)
    )  # fmt: skip
    rows.append(("oscar: peak RSS of the bench process (the worker in a thread)", f"{run.rss_mb:,.0f} MB"))
    return rows
