"""Load realistic sample orders into the OLAP database, and their item names into the catalog.

Reads the same settings as the site (DATABASE_URL, OLAP_DATABASE_URL, ...). Loading a seed
replaces that seed's orders, so the same command twice leaves the same table, and different
seeds add orders that never collide. --follow then appends live orders until stopped.
"""

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TextIO

if TYPE_CHECKING:  # imported where used: Django is set up first
    from django.db import DatabaseError
    from django.db.backends.base.base import BaseDatabaseWrapper
    from prometheus_client.metrics_core import Metric

    from dashboard.orders.loading import Loader, OnBatch, OrderLines
    from dashboard.orders.sample import Catalog
    from dashboard.outages import GaveUp, Patience

DEFAULT_ORDERS = 40_000
DEFAULT_ITEMS = 200
MAX_ITEMS = 100_000
MAX_RATE = 100_000
GEN_DATA_AUTHOR = "gen_data <gen_data@localhost>"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: scripts that call us read the last line of stderr.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-31") from None


positive_int.__name__ = "whole number"
non_negative_int.__name__ = "whole number"
iso_date.__name__ = "ISO date"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = Parser(
        prog="gen_data.py",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python scripts/gen_data.py --orders 100000 --seed 7 --days 90. "
        "Exit codes: 0 done (--follow: stopped by Ctrl-C or SIGTERM, with its summary); 1 a "
        "database error, a database unreachable at the start or for longer than --retry-for; "
        "2 bad arguments; 130 a bulk load interrupted by Ctrl-C or SIGTERM (nothing of it kept).",
    )
    parser.add_argument(
        "--orders",
        type=non_negative_int,
        help=f"orders to load, replacing the seed's orders; each has 1 to 5 lines (default: "
        f"{DEFAULT_ORDERS:,}, about 3 lines each; none with --follow unless given)",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=1,
        help="names the data set: same seed, same orders; other seeds add others (default: %(default)s)",
    )
    parser.add_argument(
        "--items",
        type=positive_int,
        default=DEFAULT_ITEMS,
        help=f"size of the item catalog, 1 to {MAX_ITEMS} (default: %(default)s)",
    )
    parser.add_argument(
        "--days", type=positive_int, default=365, help="orders span this many days (default: %(default)s)"
    )
    parser.add_argument(
        "--end", type=iso_date, default=date.today(), help="date of the newest orders (default: today)"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=1000,
        help="rows per INSERT statement when the OLAP database is RisingWave (default: %(default)s)",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="then keep appending orders dated today, --rate per second, until Ctrl-C",
    )
    parser.add_argument(
        "--rate",
        type=positive_int,
        default=10,
        help=f"orders per second with --follow, 1 to {MAX_RATE:,} (default: %(default)s)",
    )
    parser.add_argument(
        "--skip-if-loaded",
        action="store_true",
        help="leave the seed's orders as they are when the table already holds all --orders of them "
        "(scripts/serve.sh reruns this way); without it, a load always replaces them",
    )
    parser.add_argument(
        "--catch-up-timeout",
        type=positive_int,
        default=120,
        help="with ORDERS_SOURCE=cdc, seconds to wait for the dashboard to include a bulk load "
        "before saying it has not (default: %(default)s)",
    )
    parser.add_argument(
        "--retry-for",
        type=non_negative_int,
        default=300,
        metavar="SECONDS",
        help="when a database goes away during the run, wait this long for it to come back, "
        "then go on where it stopped (0: give up at once; default: %(default)s)",
    )
    parser.add_argument(
        "--metrics-port",
        type=port_number,
        metavar="PORT",
        help="serve the loader's lines per second for Prometheus on http://127.0.0.1:PORT/metrics "
        "while it runs (default: off)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    args = parser.parse_args(argv)
    from dashboard.orders.sample import IDS_PER_SEED, SEED_LIMIT

    if args.seed >= SEED_LIMIT:
        parser.error(f"argument --seed: must be below {SEED_LIMIT}")
    if args.orders is not None and args.orders >= IDS_PER_SEED:
        parser.error(f"argument --orders: must be below {IDS_PER_SEED}")
    if args.items > MAX_ITEMS:
        parser.error(f"argument --items: must be at most {MAX_ITEMS}")
    if args.rate > MAX_RATE:
        parser.error(f"argument --rate: must be at most {MAX_RATE}")
    if args.orders is None and not args.follow:
        args.orders = DEFAULT_ORDERS
    return args


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "analytics_site.settings")
    import django

    django.setup()


def save_catalog(catalog: "Catalog") -> None:
    """Name the items the catalog does not know yet, as one commit on its main branch;
    names people have edited are theirs and stay."""
    from dashboard.catalog.services import name_new_items

    names = {int(itemid): name for itemid, name in zip(catalog.itemids, catalog.names, strict=True)}
    name_new_items(names, f"gen_data: sample names for items 1 to {len(names)}", GEN_DATA_AUTHOR)


class Progress:
    def __init__(self, expected_lines: int, quiet: bool) -> None:
        self.expected = expected_lines
        self.quiet = quiet
        self.tty = sys.stderr.isatty()

    def __call__(self, loaded: int) -> None:
        if self.quiet:
            return
        share = f" ({loaded / self.expected:.0%})" if self.expected else ""
        end = "\r" if self.tty else "\n"
        sys.stderr.write(f"  {loaded:,} order lines loaded, about {self.expected:,} expected{share}{end}")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


class LoadError(Exception):
    pass


def connect(alias: str, variable: str) -> "BaseDatabaseWrapper":
    from django.db import OperationalError, connections

    connection = connections[alias]
    try:
        connection.ensure_connection()
    except OperationalError as error:
        reason = str(error).strip().splitlines()[0]
        raise LoadError(f"cannot reach the {alias!r} database ({variable}): {reason}") from None
    return connection


def already_loaded(olap: "BaseDatabaseWrapper", seed: int, orders: int) -> bool:
    """Whether the table holds every one of the seed's first `orders` orders (the bulk load's
    ids; orders appended later by --follow come after them)."""
    from dashboard.orders.sample import seed_id_range

    first = seed_id_range(seed)[0] + 1
    with olap.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT orderid) FROM orders WHERE orderid >= %s AND orderid < %s",
            [first, first + orders],
        )
        (present,) = cursor.fetchone()
    return bool(orders) and present == orders


def bulk_load(args: argparse.Namespace, load: "Loader", engine: str, catalog: "Catalog", out: TextIO) -> int:
    from dashboard.orders.sample import MAX_LINES_PER_ORDER, first_date, generate, seed_id_range

    batches = generate(args.seed, args.orders, catalog, args.end, args.days)
    # Lines per order are uniform from 1 to the most an order can have.
    most = min(MAX_LINES_PER_ORDER, args.items)
    progress = Progress(expected_lines=args.orders * (most + 1) // 2, quiet=args.quiet)
    started = time.perf_counter()
    lines = load(batches, replace=seed_id_range(args.seed), on_batch=progress)
    seconds = time.perf_counter() - started
    progress.done()
    rate = lines / seconds if seconds > 0 else 0
    out.write(
        f"Loaded {lines:,} order lines ({args.orders:,} orders, seed {args.seed}, "
        f"{first_date(args.end, args.days)} to {args.end}) into {engine} in {seconds:.2f} s: "
        f"{rate:,.0f} lines/s. Catalog: {args.items:,} items.\n"
    )
    out.flush()
    return lines


def interrupted_load_message(
    seed: int, olap: "BaseDatabaseWrapper", engine: str, error: "DatabaseError | GaveUp"
) -> str:
    """What a person needs after a failed load: what happened, what is in the table, what to do."""
    from django.db import DatabaseError, InterfaceError, OperationalError

    from dashboard.orders.engine import RISINGWAVE
    from dashboard.orders.sample import seed_id_range
    from dashboard.outages import cancelled

    if isinstance(error, InterfaceError | OperationalError) and not cancelled(error):
        reason = "the connection to the database was lost"
    else:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    try:
        olap.close()
        with olap.cursor() as cursor:
            cursor.execute(
                "SELECT count(DISTINCT orderid) FROM orders WHERE orderid >= %s AND orderid < %s",
                list(seed_id_range(seed)),
            )
            (committed,) = cursor.fetchone()
        held = f"{committed:,} orders of seed {seed} are in the table"
    except DatabaseError:
        held = "the table could not be read to count them"
    kept = (
        "part of this load may have landed (RisingWave has no read-write transactions)"
        if engine == RISINGWAVE
        else "nothing from this load was kept (it runs in one transaction)"
    )
    return f"the load failed: {reason}; {kept}; {held}. Run the same command again to complete it."


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_deferred() -> Iterator[None]:
    """Ctrl-C or SIGTERM that arrives inside the block stops the program when the block ends,
    so a --follow tick (a few orders in one transaction) ends whole. Raised wherever the
    signal lands, the KeyboardInterrupt could cut Django's transaction handling between its
    rollback and its return to autocommit, and come out as "set_session cannot be used inside
    a transaction" and exit 1 (the live feed's fault test, once in a clean-clone CI run). A
    second signal stops at once, for a tick that hangs. Outside the main thread, where Python
    delivers no signals, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def defer(signum: int, frame: FrameType | None) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)

    previous = {number: signal.signal(number, defer) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if received:
            # In place of whatever the block raised too: an outage is not waited out once
            # a stop was asked for.
            raise KeyboardInterrupt


@dataclass(frozen=True)
class Destination:
    """Where gen_data writes order lines: the OLAP database itself (ORDERS_SOURCE=direct), or
    the shop's database, from which change data capture carries them on (cdc)."""

    target: "BaseDatabaseWrapper"  # the database the lines are written into
    engine: str  # the target's engine
    olap: "BaseDatabaseWrapper"
    olap_engine: str
    captured: bool

    def describe(self) -> str:
        return "the shop's database (captured into the OLAP side)" if self.captured else self.engine

    def lag_seconds(self) -> float | None:
        """How far the dashboard's figures are behind the shop's clock, if captured (None if
        not, or if the OLAP side cannot say right now)."""
        from django.db import DatabaseError
        from django.utils import timezone

        from dashboard.orders import capture

        if not self.captured:
            return None
        try:
            reached = capture.folded_source_time(self.olap, self.olap_engine)
        except DatabaseError:
            return None
        return None if reached is None else max(0.0, (timezone.now() - reached).total_seconds())

    def after_reconnect(self) -> None:
        """A new OLAP connection gets the site's statement timeout: a load has none."""
        from dashboard.orders.session import set_statement_timeout

        set_statement_timeout(self.olap, 0)


def report_catch_up(destination: Destination, timeout: float, out: TextIO) -> None:
    """With capture, how long after the commit the dashboard's figures included the load."""
    from dashboard.orders import capture

    if not destination.captured:
        return
    stamp = capture.beat(destination.target)
    waited = capture.wait_until_caught_up(destination.olap, destination.olap_engine, stamp, timeout=timeout)
    if waited is None:
        out.write(
            f"The dashboard had not caught up {timeout:.0f} s after the commit: is `manage.py cdc_worker` "
            "running? (scripts/serve.sh starts it; RisingWave needs none)\n"
        )
    else:
        out.write(f"The dashboard caught up {waited:.2f} s after the commit.\n")
    out.flush()


def follow(
    args: argparse.Namespace,
    destination: Destination,
    load: "Loader",
    catalog: "Catalog",
    out: TextIO,
    patience: "Patience",
) -> int:
    """Append args.rate orders dated today every second until Ctrl-C (or SIGTERM). Through an
    outage it waits (patience), then goes on from the last order the table holds: an order
    committed before the fault is not sent again, one that was not is."""
    from dashboard.orders import capture
    from dashboard.orders.sample import live_orders, seed_id_range
    from dashboard.orders.session import without_statement_timeout

    target = destination.target
    low, high = seed_id_range(args.seed)

    def next_order() -> int:
        with target.cursor() as cursor:
            cursor.execute(
                "SELECT max(orderid) FROM orders WHERE orderid >= %s AND orderid < %s", [low, high]
            )
            (last,) = cursor.fetchone()
        return int(last or low) + 1

    first = next_id = patience.run(next_order, "following")
    out.write(f"Following: {args.rate:,} orders per second (seed {args.seed}). Ctrl-C stops.\n")
    out.flush()
    started = time.monotonic()
    ticks = 0

    def tick() -> None:
        nonlocal next_id
        with stop_deferred():
            load([live_orders(args.seed, next_id, args.rate, catalog, date.today())])
            next_id += args.rate
            if destination.captured:
                capture.beat(target)

    def resume() -> None:
        nonlocal next_id
        destination.after_reconnect()
        next_id = next_order()

    try:
        while True:
            patience.run(tick, "following", after_reconnect=resume)
            ticks += 1
            if not args.quiet:
                lag = destination.lag_seconds()
                behind = "" if lag is None else f"; the dashboard is {lag:.1f} s behind"
                sys.stderr.write(f"  {next_id - first:,} orders appended{behind}\n")
            time.sleep(max(0.0, started + ticks - time.monotonic()))
    except KeyboardInterrupt:
        pass
    seconds = time.monotonic() - started

    # Count what reached the table: a batch cut short by Ctrl-C was rolled back (or, on
    # RisingWave, may have partly landed), so the table, not a counter, has the truth.
    def count() -> tuple[int, int]:
        target.close()
        with without_statement_timeout(target), target.cursor() as cursor:
            cursor.execute(
                "SELECT count(DISTINCT orderid), count(*) FROM orders WHERE orderid >= %s AND orderid < %s",
                [first, high],
            )
            orders, lines = cursor.fetchone()
        return int(orders), int(lines)

    orders, lines = patience.run(count, "counting what was appended")
    out.write(f"Stopped after {seconds:.1f} s: appended {orders:,} orders ({lines:,} order lines).\n")
    return lines


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from dashboard.dbrouter import OLAP
    from dashboard.orders.session import without_statement_timeout

    connect("default", "DATABASE_URL")
    olap = connect(OLAP, "OLAP_DATABASE_URL")
    # A load runs for as long as it needs: the site's statement timeout is not for it.
    with without_statement_timeout(olap):
        return load_all(args, olap, out)


def destination_for(olap: "BaseDatabaseWrapper") -> Destination:
    from django.conf import settings
    from django.db import connections

    from dashboard.dbrouter import DEFAULT
    from dashboard.orders.engine import POSTGRESQL, server_engine

    if settings.SHOP_SCHEMA != "sample":
        raise LoadError(
            f"SHOP_SCHEMA={settings.SHOP_SCHEMA}: the shop's own software writes its orders, and change "
            "data capture brings them; gen_data writes sample orders into the sample schema's table "
            "only (unset SHOP_SCHEMA to use it)"
        )
    olap_engine = server_engine(olap)
    if settings.ORDERS_SOURCE == "cdc":
        return Destination(connections[DEFAULT], POSTGRESQL, olap, olap_engine, captured=True)
    return Destination(olap, olap_engine, olap, olap_engine, captured=False)


def load_all(args: argparse.Namespace, olap: "BaseDatabaseWrapper", out: TextIO) -> int:
    from django.db import DatabaseError

    from dashboard.orders.loader_rollups import LoadRefused
    from dashboard.orders.loading import loader_for
    from dashboard.orders.sample import make_catalog
    from dashboard.outages import GaveUp, Patience

    def say(line: str) -> None:
        sys.stderr.write(f"gen_data.py: {line}\n")
        sys.stderr.flush()

    patience = Patience(args.retry_for, say)
    destination = destination_for(olap)
    target, engine = destination.target, destination.engine
    catalog = make_catalog(args.items)
    patience.run(lambda: save_catalog(catalog), "naming the items")
    load = loader_for(target, engine, args.batch_size, with_rollups=not destination.captured)
    load = serve_metrics(args.metrics_port, load)

    lines = 0
    if args.orders is not None:
        orders = args.orders
        if args.skip_if_loaded and patience.run(
            lambda: already_loaded(target, args.seed, orders), "checking"
        ):
            out.write(f"The {orders:,} orders of seed {args.seed} are already loaded; kept as they are.\n")
        else:
            # One transaction (on RisingWave, idempotent batches): after an outage the load
            # runs again from the start, and replaces the seed's range as before.
            step = lambda: bulk_load(args, load, destination.describe(), catalog, out)  # noqa: E731
            try:
                lines += patience.run(step, "loading", after_reconnect=destination.after_reconnect)
            except (DatabaseError, GaveUp) as error:
                raise LoadError(interrupted_load_message(args.seed, target, engine, error)) from None
            except LoadRefused as error:
                # What the loader refuses to load exactly (order dates outside the range its
                # sums take, a price it cannot encode): said as it is, and never retried.
                raise LoadError(f"the load was refused: {error}; nothing from it was kept") from None
            patience.run(lambda: report_catch_up(destination, args.catch_up_timeout, out), "catching up")
    if args.follow:
        lines += follow(args, destination, load, catalog, out, patience)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        setup_django()
        from django.core.exceptions import ImproperlyConfigured
        from django.db import DatabaseError
    except Exception as error:  # settings are read here: report, do not dump a traceback
        print(f"gen_data.py: error: {error}", file=sys.stderr)
        return 1
    from dashboard.outages import GaveUp

    # Ctrl-C and SIGTERM end the program cleanly, even when a shell started it with SIGINT
    # ignored (in the background, under nohup): Python would keep it ignored otherwise.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        run(args)
    except (LoadError, GaveUp, ImproperlyConfigured, DatabaseError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"gen_data.py: error: {first_line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gen_data.py: interrupted; nothing from the unfinished load is kept", file=sys.stderr)
        return 130
    return 0


# --- --metrics-port: the loader's figures for Prometheus ------------------------------------


def port_number(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 1 to 65535, got {value}")
    return value


port_number.__name__ = "port number"


class LoaderMeter:
    """gen_data's figures, for Prometheus (a collector: read when scraped).

    dashboard_loader_lines_total: order lines written so far (a bulk load on PostgreSQL
    commits them all at its end; one run again after an outage counts again).
    dashboard_loader_lines_per_second: during a bulk load, its lines so far over its seconds so
    far, updated per batch (at its end, the rate its summary prints); with --follow, each
    tick's lines over the seconds since the previous tick began (one second for the first:
    ticks are a second apart)."""

    def __init__(self) -> None:
        self.lines = 0
        self.lines_per_second = 0.0
        self.previous_tick: float | None = None

    def collect(self) -> "Iterator[Metric]":
        from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

        yield CounterMetricFamily("dashboard_loader_lines", "Order lines gen_data has written.", self.lines)
        yield GaugeMetricFamily(
            "dashboard_loader_lines_per_second",
            "Order lines gen_data writes per second: the current bulk load's, or --follow's last tick's.",
            self.lines_per_second,
        )

    def add(self, lines: int, seconds: float) -> None:
        self.lines += lines
        self.lines_per_second = lines / seconds if seconds > 0 else 0.0

    def metered(self, load: "Loader") -> "Loader":
        """`load`, counting as it goes. A bulk load reports its batches (on_batch); a call
        without on_batch is a tick of --follow."""

        def metered_load(
            batches: "Iterable[OrderLines]",
            replace: tuple[int, int] | None = None,
            on_batch: "OnBatch | None" = None,
        ) -> int:
            started = time.monotonic()
            if on_batch is None:
                lines = load(batches, replace=replace)
                period = 1.0 if self.previous_tick is None else started - self.previous_tick
                self.previous_tick = started
                self.add(lines, period)
                return lines
            report = on_batch
            counted = 0

            def batch_done(loaded: int) -> None:
                nonlocal counted
                self.lines += loaded - counted
                counted = loaded
                self.lines_per_second = loaded / max(time.monotonic() - started, 1e-6)
                report(loaded)

            lines = load(batches, replace=replace, on_batch=batch_done)
            self.lines += lines - counted
            self.lines_per_second = lines / max(time.monotonic() - started, 1e-6)
            return lines

        return metered_load


def serve_metrics(port: int | None, load: "Loader") -> "Loader":
    """With --metrics-port, serve the loader's figures on 127.0.0.1:port (any path; /metrics
    by convention) from a thread of this process while it runs, and count what `load`
    writes; without it, `load` as it is."""
    if port is None:
        return load
    from prometheus_client import CollectorRegistry, start_http_server

    meter = LoaderMeter()
    registry = CollectorRegistry()
    registry.register(meter)
    try:
        start_http_server(port, addr="127.0.0.1", registry=registry)
    except OSError as error:
        where = f"127.0.0.1:{port} (--metrics-port)"
        raise LoadError(f"cannot serve metrics on {where}: {error.strerror}") from None
    return meter.metered(load)
