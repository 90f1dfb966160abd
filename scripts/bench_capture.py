"""The benchmark's change-data-capture stage (scripts/bench.py runs it): on the bench
databases, wired with ORDERS_SOURCE=cdc as setup_olap does in production, folded by the
capture worker and served by gunicorn, each a process of its own as production runs them
(scripts/bench_site.py), it measures

- what capture costs the shop's database: COPY and single-line commits per second on a
  cluster without logical WAL, with it but no publication, and with a live subscriber;
- throughput: a 1M-line transaction from its commit, and 1M lines in 1,000-line
  transactions from the first write, until /api/rankings/ (over HTTP, as served) counts
  every line;
- freshness: orders committed at 20 per second, each until /api/rankings/ (over HTTP)
  counts it;
- the peak memory of the capture worker and of each web process through all of it.

Each returns table rows (measure, result, target, met) like bench.py's own.
"""

import http.client
import io
import json
import shutil
import statistics
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import psycopg2
from bench_site import (
    SERVE_SH_GUNICORN,
    SERVE_SH_SETTINGS,
    against_raw,
    capture_worker,
    free_port,
    gunicorn_serving,
    logged_in_session,
    peak_rss_mb,
    web_memory_row,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = 77  # a block of order ids of its own


def _shop_params():
    from django.db import connections

    return connections["default"].get_connection_params()


def _lines(count):
    """Sample order lines (numpy columns), about `count` of them."""
    from dashboard.orders.sample import generate, make_catalog

    batches = generate(SEED, max(1, count // 3), make_catalog(200), date(2026, 6, 30), 365)
    return list(batches)


def _copy(params, batches, per_transaction=None):
    """Binary COPY of the batches into `orders` at `params`, in one transaction or in
    transactions of `per_transaction` lines; the lines written."""
    from dashboard.orders.binary_copy import COPY_HEADER, COPY_TRAILER
    from dashboard.orders.loading import COPY_SQL, copy_tuples

    written = 0
    connection = psycopg2.connect(**params)
    try:
        with connection.cursor() as cursor:
            for lines in batches:
                step = per_transaction or len(lines)
                for start in range(0, len(lines), step):
                    part = _slice(lines, start, start + step)
                    data = COPY_HEADER + copy_tuples(part) + COPY_TRAILER
                    cursor.copy_expert(COPY_SQL, io.BytesIO(data))
                    if per_transaction:
                        connection.commit()
                    written += len(part)
        connection.commit()  # the one transaction (it committed after every batch until 2026-12-05)
    finally:
        connection.close()
    return written


def _slice(lines, start, stop):
    from dashboard.orders.loading import OrderLines

    return OrderLines(
        *(
            getattr(lines, name)[start:stop]
            for name in ("orderid", "itemid", "qty", "price_cents", "dt", "state")
        )
    )


def _commits_per_second(params, count):
    """Single-line transactions, one after another, as a shop's checkout writes them."""
    connection = psycopg2.connect(**params)
    try:
        with connection.cursor() as cursor:
            started = time.perf_counter()
            for n in range(count):
                cursor.execute("INSERT INTO orders VALUES (%s, 1, 1, 9.99, CURRENT_DATE, 'CA')", [10**12 + n])
                connection.commit()
            return count / (time.perf_counter() - started)
    finally:
        connection.close()


def _truncate(params):
    connection = psycopg2.connect(**params)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("TRUNCATE orders")
    finally:
        connection.close()


def _insert_cost(params, batches, commits):
    """(COPY lines/s, single-line commits/s) into the orders table at `params`."""
    _truncate(params)
    started = time.perf_counter()
    lines = _copy(params, batches)
    copy_rate = lines / (time.perf_counter() - started)
    commit_rate = _commits_per_second(params, commits)
    _truncate(params)
    return copy_rate, commit_rate


def _cluster(*action, **options):
    """scripts/lib/cluster.sh plain <action>: our own script, with constant arguments."""
    command = [shutil.which("bash"), str(ROOT / "scripts" / "lib" / "cluster.sh"), "plain", *action]
    return subprocess.run(command, check=True, capture_output=True, text=True, **options)  # noqa: S603


def _plain_cluster_cost(batches, commits):
    """The same on a cluster with wal_level=replica (no logical decoding): the baseline."""
    port = _cluster("port").stdout.strip()
    _cluster("start")
    try:
        params = {**_shop_params(), "port": int(port), "dbname": "postgres"}
        admin = psycopg2.connect(**params)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS bench_plain")
            cursor.execute("CREATE DATABASE bench_plain")
        params["dbname"] = "bench_plain"
        admin.close()
        connection = psycopg2.connect(**params)
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE orders (orderid BIGINT, itemid INT, qty INT, price NUMERIC(20, 2), dt DATE, "
                "state VARCHAR(2), PRIMARY KEY (orderid, itemid))"
            )
        connection.close()
        return _insert_cost(params, batches, commits)
    finally:
        _cluster("stop")


def _caught_up(timeout=600):
    """Seconds until the OLAP rollups hold everything the shop has committed."""
    from django.db import connections

    from dashboard.orders import capture

    stamp = capture.beat(connections["default"])
    waited = capture.wait_until_caught_up(
        connections["olap"], "postgresql", stamp, timeout=timeout, poll=0.01
    )
    if waited is None:
        raise SystemExit(f"bench.py: the capture did not catch up within {timeout} s")
    return waited


def _throughput(batches, per_transaction, connection, cookie):
    """(lines, seconds from the first write until the API counts them all, seconds of that
    after the last commit, seconds after the last commit until the rollups held them,
    seconds writing). The API is asked over HTTP on the kept-alive `connection` with the
    session `cookie`, as an open dashboard asks it: what a user waits for after a bulk
    import is the answer, not the rollups."""
    _truncate(_shop_params())
    _caught_up()
    started = time.perf_counter()
    lines = _copy(_shop_params(), batches, per_transaction)
    written = time.perf_counter()
    rollups_current = _until_the_api_counts(connection, cookie, _lines_in_the_shop())
    answered = time.perf_counter()
    return lines, answered - started, answered - written, rollups_current - written, written - started


def _lines_in_the_shop():
    """The lines of the shop's table, on the bench's own connection to it (as _caught_up)."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders")
        return cursor.fetchone()[0]


def _api_headline(connection, cookie):
    """/api/rankings/' headline. gunicorn closes a kept-alive connection that idles past its
    keep-alive time (2 s), as during a long import: then once more on a new connection, as
    a browser does."""
    for attempt in (1, 2):
        try:
            headers = {"Accept": "application/json", "Cookie": cookie}
            connection.request("GET", "/api/rankings/", headers=headers)
            response = connection.getresponse()
            break
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()  # the next request opens a new one
            if attempt == 2:
                raise
    body = response.read()
    if response.status != 200:
        raise SystemExit(f"bench.py: /api/rankings/ answered {response.status}: {body[:200]!r}")
    return json.loads(body)["headline"]


def _until_the_api_counts(connection, cookie, lines, timeout=600):
    """Return, once /api/rankings/' headline counts `lines` lines, when (perf_counter) the
    rollups held them. The rollups are waited for first (a query every 10 ms), then the API
    is asked every 10 ms: asking it every 10 ms throughout would take a fifth of a core from
    the fold it waits for. The API cannot count the lines before the rollups hold them, so
    the wait measured is never shorter than the user's; it may be longer by up to the
    worker's 100 ms between folds (the rollups are current once the heartbeat written
    after the lines is folded)."""
    _caught_up(timeout)
    rollups_current = time.perf_counter()
    deadline = rollups_current + timeout
    while (counted := _api_headline(connection, cookie)["lines"]) != lines:
        if counted > lines or time.perf_counter() > deadline:
            raise SystemExit(f"bench.py: the API counts {counted:,} lines, the shop's table {lines:,}")
        time.sleep(0.01)
    return rollups_current


def _freshness(connection, cookie, rate, seconds):
    """[seconds from each order's commit until the API's headline counts it], the API asked
    over HTTP on the kept-alive `connection` with the session `cookie`."""
    commits = []  # (time of commit, orders committed so far)
    stop = threading.Event()

    def shop():
        connection = psycopg2.connect(**_shop_params())
        try:
            with connection.cursor() as cursor:
                n = 0
                started = time.perf_counter()
                while not stop.is_set():
                    n += 1
                    for itemid in (1, 2, 3):
                        cursor.execute(
                            "INSERT INTO orders VALUES (%s, %s, 2, 5.00, CURRENT_DATE, 'TX')",
                            [2 * 10**12 + n, itemid],
                        )
                    connection.commit()
                    commits.append((time.perf_counter(), n))
                    stop.wait(max(0.0, started + n / rate - time.perf_counter()))
        finally:
            connection.close()

    _truncate(_shop_params())
    _caught_up()
    writer = threading.Thread(target=shop)
    samples = []  # (time, orders the API counts)
    writer.start()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        orders = _api_headline(connection, cookie)["orders"]
        samples.append((time.perf_counter(), orders))
        time.sleep(0.01)
    stop.set()
    writer.join()
    latencies = []
    for committed_at, count in commits:
        seen = next((at for at, orders in samples if orders >= count and at >= committed_at), None)
        if seen is not None:
            latencies.append(seen - committed_at)
    return latencies


def _percentile(values, pct):
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def measure_capture(args, password, shop_url, raw_seconds):
    """The capture rows of the benchmark table; `shop_url` is the bench's shop database as
    the OLAP server reaches it, `raw_seconds` the four raw GROUP BYs' time in this run. The
    capture worker and the site run as production runs them, each in its own process
    (`manage.py cdc_worker`, gunicorn as serve.sh starts it), so their peak memory is their
    own."""
    from django.core.management import call_command
    from django.test import override_settings

    batches = _lines(args.cdc_lines)
    small = _lines(min(args.cdc_lines, 200_000))
    plain_copy, plain_commits = _plain_cluster_cost(small, args.cdc_commits)
    bare_copy, bare_commits = _insert_cost(_shop_params(), small, args.cdc_commits)
    rows = []
    capturing = {"ORDERS_SOURCE": "cdc", "CDC_SOURCE_URL": shop_url}
    port = free_port()
    with override_settings(**capturing):
        call_command("setup_olap", verbosity=0, stdout=io.StringIO())
        try:
            with (
                capture_worker(**capturing) as worker,
                gunicorn_serving(port, SERVE_SH_GUNICORN, **SERVE_SH_SETTINGS, **capturing) as server,
            ):
                live_copy, live_commits = _insert_cost(_shop_params(), small, args.cdc_commits)
                connection, cookie = logged_in_session(port, "bench", password)
                try:
                    one = _throughput(batches, None, connection, cookie)
                    many = _throughput(batches, 1000, connection, cookie)
                    fresh = _freshness(connection, cookie, rate=20, seconds=args.cdc_seconds)
                finally:
                    connection.close()
                worker_peak = peak_rss_mb(worker.pid)[worker.pid]
                web_peaks = peak_rss_mb(server.pid)
        finally:
            call_command("teardown_cdc", verbosity=0, stdout=io.StringIO())
    rows.append(
        ("shop inserts, wal_level=replica: COPY / single-line commits",
         f"{plain_copy:,.0f} lines/s / {plain_commits:,.0f} commits/s")
    )  # fmt: skip
    rows.append(
        ("shop inserts, wal_level=logical, no publication",
         f"{bare_copy:,.0f} lines/s / {bare_commits:,.0f} commits/s")
    )  # fmt: skip
    rows.append(
        ("shop inserts, publication and live subscriber",
         f"{live_copy:,.0f} lines/s / {live_commits:,.0f} commits/s")
    )  # fmt: skip
    # What a user waits for after a bulk import: from its commit (the first write hides the
    # time the shop spent writing).
    lines, total, after_commit, rollups, writing = one
    rate = lines / after_commit
    rows.append(
        (f"CDC: {args.cdc_lines:,} lines in one transaction, commit to the API counting them",
         f"{rate:,.0f} lines/s ({after_commit:.2f} s, {against_raw(after_commit, raw_seconds)}; "
         f"the rollups current at {rollups:.2f} s; "
         f"from the first write {lines / total:,.0f} lines/s, "
         f"writing {writing:.1f} s)",
         "≥ 100,000 lines/s", rate >= 100_000)
    )  # fmt: skip
    lines, total, after_commit, _, writing = many
    rate = lines / total
    rows.append(
        (f"CDC: {args.cdc_lines:,} lines in 1,000-line transactions, first write to the API counting them",
         f"{rate:,.0f} lines/s ({total:.1f} s: writing {writing:.1f} s, then {after_commit:.1f} s; "
         f"{against_raw(total, raw_seconds)})",
         "≥ 50,000 lines/s", rate >= 50_000)
    )  # fmt: skip
    p50, p95 = statistics.median(fresh), _percentile(fresh, 95)
    rows.append(
        (f"CDC freshness at 20 orders/s: commit to the API counting it, p50 / p95 ({len(fresh)} orders)",
         f"{p50 * 1000:,.0f} / {p95 * 1000:,.0f} ms", "p95 ≤ 500 ms", p95 <= 0.5)
    )  # fmt: skip
    rows.append(
        ("CDC: peak RSS of the capture worker (manage.py cdc_worker) through all of the above",
         f"{worker_peak:,.0f} MB", "≤ 300 MB", worker_peak <= 300)
    )  # fmt: skip
    rows.append(web_memory_row("CDC", web_peaks))
    return rows
