import datetime
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.db import connections

from dashboard import gen_data
from dashboard.catalog import versions
from dashboard.catalog.models import Item
from dashboard.orders.sample import generate, make_catalog
from dashboard.us_states import STATES
from tests.support import ROOT
from tests.support.database_urls import database_env
from tests.support.orders import all_orders, loader_paused_mid_copy

END = datetime.date(2026, 6, 30)


def load(*argv):
    out = io.StringIO()
    args = gen_data.parse_args(["--quiet", "--end", END.isoformat(), *argv])
    lines = gen_data.run(args, out=out)
    return lines, out.getvalue()


def orders_of(rows):
    """{orderid: number of lines}"""
    return Counter(orderid for orderid, *_ in rows)


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
class TestLoading:
    def test_counts_and_realistic_values(self):
        lines, summary = load("--orders", "500", "--items", "40", "--days", "30")
        rows = all_orders()
        per_order = orders_of(rows)

        assert len(rows) == lines
        assert len(per_order) == 500
        assert set(per_order.values()) == {1, 2, 3, 4, 5}
        assert f"Loaded {lines:,} order lines (500 orders, seed 1, 2026-06-01 to 2026-06-30)" in summary

        catalog = dict(Item.objects.values_list("itemid", "name"))
        assert len(catalog) == 40
        assert all(name.strip() for name in catalog.values())
        assert {itemid for _, itemid, *_ in rows} <= set(catalog)
        assert all(1 <= qty <= 50 for _, _, qty, *_ in rows)
        assert all(price > 0 and price == price.quantize(Decimal("0.01")) for *_, price, _, _ in rows)
        assert all(datetime.date(2026, 6, 1) <= dt <= END for *_, dt, _ in rows)
        assert {state for *_, state in rows} <= set(STATES)

    def test_the_same_command_twice_gives_the_same_table(self):
        load("--orders", "300", "--seed", "5")
        first = all_orders()
        load("--orders", "300", "--seed", "5")
        assert all_orders() == first
        assert len(orders_of(first)) == 300

    def test_a_seed_reloaded_with_fewer_orders_replaces_its_data_set(self):
        load("--orders", "300", "--seed", "5")
        load("--orders", "100", "--seed", "5")
        assert len(orders_of(all_orders())) == 100

    def test_different_seeds_add_disjoint_orders(self):
        load("--orders", "200", "--seed", "1")
        seed_one = all_orders()
        load("--orders", "300", "--seed", "2")
        both = all_orders()
        assert len(orders_of(both)) == 500
        assert set(seed_one) <= set(both)  # seed 1's rows are untouched by seed 2
        assert not set(orders_of(seed_one)) & set(orders_of(both) - orders_of(seed_one))

    def test_skip_if_loaded_keeps_a_loaded_seed_and_its_live_orders(self):
        load("--orders", "300", "--seed", "5")
        with connections["olap"].cursor() as cursor:  # a correction made since the load
            cursor.execute("UPDATE orders SET qty = 7 WHERE orderid = (SELECT min(orderid) FROM orders)")
        edited = all_orders()
        lines, summary = load("--orders", "300", "--seed", "5", "--skip-if-loaded")
        assert (lines, all_orders()) == (0, edited)
        assert "The 300 orders of seed 5 are already loaded; kept as they are." in summary

    def test_skip_if_loaded_still_loads_what_is_missing(self):
        load("--orders", "100", "--seed", "5")
        lines, summary = load("--orders", "300", "--seed", "5", "--skip-if-loaded")
        assert len(orders_of(all_orders())) == 300 and lines == len(all_orders())
        assert "Loaded" in summary

    def test_names_people_edited_in_the_catalog_are_kept(self):
        Item.objects.create(itemid=1, name="Curated Mug", category="Kitchen")
        load("--orders", "10")
        assert Item.objects.get(itemid=1).name == "Curated Mug"
        assert Item.objects.count() == 200

    def test_tiny_catalog_still_gives_distinct_items_per_order(self):
        load("--orders", "200", "--items", "2")
        rows = all_orders()
        assert len(rows) == len(set((orderid, itemid) for orderid, itemid, *_ in rows))
        assert set(orders_of(rows).values()) == {1, 2}


@pytest.mark.parametrize("items", [1, 2, 5, 7, 40, 200])
def test_generated_lines_come_in_key_order(items):
    # The loader builds the key over lines as they came: in (orderid, itemid) order it sorts
    # nothing. Strictly increasing also means no order has an item twice.
    catalog = make_catalog(items)
    for seed in range(3):
        for batch in generate(seed, 60_000, catalog, END, 365):
            orderids, itemids = batch.orderid, batch.itemid.astype(np.int64)
            same_order = orderids[1:] == orderids[:-1]
            assert (orderids[1:] >= orderids[:-1]).all()
            assert (itemids[1:][same_order] > itemids[:-1][same_order]).all()


def run_script(*argv, env=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_data.py"), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_command_line_loads_reports_progress_and_rate(empty_orders):
    result = run_script("--orders", "120000", "--seed", "3", env=database_env())
    assert result.returncode == 0, result.stderr
    assert "order lines loaded" in result.stderr  # progress
    summary = re.fullmatch(
        r"Loaded ([\d,]+) order lines \(120,000 orders, seed 3, .+\) into postgresql in [\d.]+ s: "
        r"[\d,]+ lines/s\. Catalog: 200 items\.\n",
        result.stdout,
    )
    assert summary, result.stdout
    with connections["olap"].cursor() as cursor:  # counted by the server: 360k rows need not travel
        cursor.execute("SELECT count(*) FROM orders")
        (lines_in_the_table,) = cursor.fetchone()
    assert int(summary[1].replace(",", "")) == lines_in_the_table
    # The sample names are one commit on the catalog's main branch, nothing left uncommitted.
    assert versions.log(1)[0].message == "gen_data: sample names for items 1 to 200"
    assert Item.objects.count() == 200
    assert not versions.has_changes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--orders", "-5"], "argument --orders: must be 0 or more, got -5"),
        (["--orders", "many"], "argument --orders: invalid whole number value: 'many'"),
        (["--items", "0"], "argument --items: must be at least 1, got 0"),
        (["--items", "100001"], "argument --items: must be at most 100000"),
        (["--seed", "2147483647"], "argument --seed: must be below 2147483647"),
        (["--end", "2026-02-30"], "argument --end: '2026-02-30' is not a date like 2026-01-31"),
        (["--rows", "5"], "unrecognized arguments: --rows 5"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_code_2(argv, message):
    result = run_script(*argv)
    assert result.returncode == 2
    assert result.stderr == f"gen_data.py: error: {message} (see --help)\n"
    assert result.stdout == ""


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_orders_the_loader_cannot_sum_exactly_are_refused_in_one_line(empty_orders):
    # Dated in the year 5: outside the days the loader's sums take. The refusal comes from
    # the load's own thread, in the middle of its COPY: said as it is, not as an outage.
    argv = ["--orders", "100", "--seed", "5", "--end", "0005-01-01", "--days", "30", "--retry-for", "30"]
    result = run_script(*argv, env=database_env())
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "gen_data.py: error: the load was refused: order dates must be from 1910-04-15 to 2089-09-17; "
        "nothing from it was kept"
    ]
    assert all_orders() == []


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_database_gets_one_line_and_no_traceback():
    url = f"postgres://nobody@127.0.0.1:{closed_port()}/nothing"
    env = {**database_env(), "OLAP_DATABASE_URL": url}
    result = run_script("--orders", "10", env=env)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("gen_data.py: error: cannot reach the 'olap' database (OLAP_DATABASE_URL):")
    assert "Connection refused" in lines[0]


def test_missing_settings_get_one_line():
    result = run_script("--orders", "10", env={"OLAP_DATABASE_URL": ""})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "gen_data.py: error: The environment variable OLAP_DATABASE_URL is not set. See README.md for the "
        "settings the site reads (scripts/serve.sh sets local defaults in .dev/env)."
    ]


def test_help_explains_every_option():
    result = run_script("--help")
    assert result.returncode == 0
    for option in ("--orders", "--seed", "--items", "--days", "--end", "--batch-size", "--quiet"):
        assert option in result.stdout


@pytest.mark.slow
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_follow_appends_live_orders_until_interrupted(empty_orders):
    env = database_env()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "gen_data.py"), "--follow", "--rate", "40", "--seed", "9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        # Started as a shell starts a background job (or nohup): SIGINT ignored. gen_data
        # installs its own handling, so Ctrl-C still stops it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 60
        while len(orders_of(all_orders())) < 80 and time.monotonic() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:  # never leave it running, whatever failed above
            process.kill()
            process.communicate(timeout=10)

    assert process.returncode == 0, stderr
    rows = all_orders()
    per_order = orders_of(rows)
    assert len(per_order) >= 80
    assert len(per_order) % 40 == 0  # whole seconds' worth: a batch cut short is rolled back
    assert stdout.splitlines()[0] == "Following: 40 orders per second (seed 9). Ctrl-C stops."
    assert re.fullmatch(
        rf"Stopped after [\d.]+ s: appended {len(per_order):,} orders \({len(rows):,} order lines\)\.",
        stdout.splitlines()[-1],
    )
    assert {dt for *_, dt, _ in rows} == {datetime.date.today()}
    assert min(per_order) == 9 * 2**32 + 1


@pytest.mark.slow
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_a_load_cut_off_mid_copy_with_no_patience_fails_clearly_and_rerunning_completes_it(empty_orders):
    from tests.support.orders import another_client

    env = database_env()
    command = [
        sys.executable,
        str(ROOT / "scripts" / "gen_data.py"),
        "--orders",
        "40000",
        "--seed",
        "4",
        "--quiet",
        "--retry-for",
        "0",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env}
    )
    try:
        # Frozen mid-COPY while its connection is cut: the cut lands inside the load whatever
        # its size, so a small load does.
        olap_name = settings.DATABASES["olap"]["NAME"]
        with loader_paused_mid_copy(process, olap_name) as pid, another_client() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 1
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0] == (
        "gen_data.py: error: the load failed: the connection to the database was lost; nothing from "
        "this load was kept (it runs in one transaction); 0 orders of seed 4 are in the table. "
        "Run the same command again to complete it."
    )
    assert all_orders() == []

    rerun = run_script("--orders", "40000", "--seed", "4", "--quiet", env=env)
    assert rerun.returncode == 0, rerun.stderr
    rows = all_orders()
    per_order = orders_of(rows)
    assert len(per_order) == 40_000
    assert len(rows) == len(set((orderid, itemid) for orderid, itemid, *_ in rows))  # each line once
