"""/metrics for operators: who may scrape it, and what it carries, in Prometheus' text format;
gen_data's own metrics server (--metrics-port); gunicorn's workers added up in one scrape."""

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import yaml
from django.core.cache import cache
from django.db import connections
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.support import ROOT
from tests.support.database_urls import database_env
from tests.support.http import free_port, gunicorn
from tests.support.orders import insert_orders, lock_held_by_another_client

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

METRICS = "/metrics"
API = "/api/rankings/"
TOKEN = "metrics-" + "Zx9q" * 8
LATENCY = "dashboard_request_duration_seconds"


def parse(text):
    """{(sample name, frozenset of labels): value} of a scrape; parsing it checks the format."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture(autouse=True)
def metrics_token(settings):
    """/metrics is closed without a token (DEBUG off): the scrapes below send this one."""
    settings.METRICS_TOKEN = TOKEN


def scrape(client, **extra):
    response = client.get(METRICS, HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.content.decode())


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- who may scrape ---------------------------------------------------------------------------


LOOPBACK = ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"]


@pytest.mark.parametrize("address", LOOPBACK)
def test_without_a_token_a_debug_server_lets_loopback_clients_scrape(client, settings, address):
    settings.METRICS_TOKEN, settings.DEBUG = "", True
    response = client.get(METRICS, REMOTE_ADDR=address)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("address", LOOPBACK)
def test_without_a_token_in_production_metrics_is_closed_even_to_loopback(client, settings, address):
    """Behind a reverse proxy on the same host every client is loopback: no way in by address."""
    settings.METRICS_TOKEN = ""
    assert not settings.DEBUG
    response = client.get(METRICS, REMOTE_ADDR=address)
    assert response.status_code == 403  # never a login redirect
    assert b"dashboard_" not in response.content
    assert b"METRICS_TOKEN" in response.content
    forwarded = client.get(METRICS, REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forwarded.status_code == 403


@pytest.mark.parametrize(
    "address", ["10.0.0.5", "192.168.1.20", "172.18.0.1", "2001:db8::1", "::ffff:10.0.0.5"]
)
@pytest.mark.parametrize("debug", [False, True])
def test_without_a_token_other_addresses_are_refused(client, settings, address, debug):
    settings.METRICS_TOKEN, settings.DEBUG = "", debug
    response = client.get(METRICS, REMOTE_ADDR=address)
    assert response.status_code == 403  # never a login redirect
    assert b"dashboard_" not in response.content


def deploy_warnings():
    from django.core.checks import run_checks

    return [message.id for message in run_checks(include_deployment_checks=True)]


def test_check_deploy_warns_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    assert "dashboard.W001" in deploy_warnings()
    settings.METRICS_TOKEN = TOKEN
    assert "dashboard.W001" not in deploy_warnings()


@pytest.mark.slow
def test_manage_py_check_deploy_says_so():
    environment = {**os.environ, **database_env(), "DJANGO_SETTINGS_MODULE": "analytics_site.settings"}
    environment.pop("METRICS_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert "dashboard.W001" in result.stderr + result.stdout
    assert "METRICS_TOKEN is not set" in result.stderr + result.stdout


@override_settings(METRICS_TOKEN=TOKEN)
def test_with_a_token_only_requests_bearing_it_may_scrape(client):
    missing = client.get(METRICS)  # from loopback, but the token is required all the same
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    for header in (f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN, "Bearer é"):
        assert client.get(METRICS, HTTP_AUTHORIZATION=header).status_code == 403, header
    for header in (f"Bearer {TOKEN}", f"bearer {TOKEN}"):
        response = client.get(METRICS, HTTP_AUTHORIZATION=header, REMOTE_ADDR="10.0.0.5")
        assert response.status_code == 200, header
        parse(response.content.decode())


@pytest.mark.parametrize("token", ["", TOKEN])
def test_a_logged_in_user_is_refused_too(user_client, settings, token):
    settings.METRICS_TOKEN = token
    assert user_client.get(METRICS, REMOTE_ADDR="10.0.0.5").status_code in (401, 403)
    assert user_client.get(METRICS).status_code in (401, 403)


# --- what it carries --------------------------------------------------------------------------


def test_request_latency_is_a_histogram_by_view(client):
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/").status_code == 404
    static = client.get("/static/dashboard/dashboard.js")  # whitenoise, before any route
    assert static.status_code == 200
    static.close()  # the file it streams
    after = scrape(client)

    for view in ("healthz", "unmatched", "static"):
        count = value(after, f"{LATENCY}_count", view=view)
        assert count == value(before, f"{LATENCY}_count", view=view) + 1, view
        assert value(after, f"{LATENCY}_bucket", view=view, le="+Inf") == count
        assert value(after, f"{LATENCY}_sum", view=view) > value(before, f"{LATENCY}_sum", view=view)
    # The first scrape was timed too, under its own route's name.
    assert value(after, f"{LATENCY}_count", view="metrics") >= 1
    # Bounded label values: route names, never paths.
    paths = ("/no/such/page/", "/healthz", "/static/dashboard/dashboard.js")
    assert not any(("view", path) in labels for path in paths for _, labels in after)


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_an_unreachable_olap_database_counts_as_unavailable(user_client, olap_unreachable):
    before = scrape(user_client)
    assert user_client.get(API).status_code == 503
    after = scrape(user_client)
    unavailable = "dashboard_olap_errors_total", frozenset({("kind", "unavailable")})
    timeout = "dashboard_olap_errors_total", frozenset({("kind", "timeout")})
    assert after[unavailable] == before[unavailable] + 1
    assert after[timeout] == before[timeout]
    assert value(after, f"{LATENCY}_count", view="dashboard:api-rankings") >= 1


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_a_query_past_the_statement_timeout_counts_as_timeout(user_client, settings, empty_orders):
    insert_orders([(1, 1, 1, Decimal("1.00"), "2026-01-01", "CA")])
    before = scrape(user_client)
    connections["olap"].close()  # the next connection takes the shorter timeout
    settings.OLAP_STATEMENT_TIMEOUT_MS = 500
    try:
        with lock_held_by_another_client("orders_state_total"):
            assert user_client.get(API).status_code == 504
    finally:
        connections["olap"].close()
    after = scrape(user_client)
    assert value(after, "dashboard_olap_errors_total", kind="timeout") == (
        value(before, "dashboard_olap_errors_total", kind="timeout") + 1
    )


def start_of_a_time_bucket(seconds):
    """Cache entries live until the change marker's time bucket ends: start early in one."""
    if seconds - time.time() % seconds < 1.5:
        time.sleep(seconds - time.time() % seconds + 0.02)


@override_settings(RANKINGS_CACHE_SECONDS=3)
def test_rankings_cache_hits_and_misses(user_client):
    cache.clear()
    before = scrape(user_client)
    start_of_a_time_bucket(3)
    first = user_client.get(API)
    second = user_client.get(API)
    after = scrape(user_client)
    cache.clear()

    assert first.status_code == second.status_code == 200
    assert first.json()["generated_at"] == second.json()["generated_at"]  # the same entry
    for name in ("dashboard_rankings_cache_misses_total", "dashboard_rankings_cache_hits_total"):
        assert value(after, name) == value(before, name) + 1, name


def test_the_capture_lag_is_asked_when_scraped(client, folded_42_seconds_behind):
    assert not any(name == "dashboard_capture_behind_seconds" for name, _ in scrape(client))  # direct
    with override_settings(ORDERS_SOURCE="cdc"):
        behind = value(scrape(client), "dashboard_capture_behind_seconds")
    assert 42 <= behind < 44.5


def test_an_unknown_lag_is_nan(client):
    with override_settings(ORDERS_SOURCE="cdc"):
        assert math.isnan(scrape(client)[("dashboard_capture_behind_seconds", frozenset())])


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_a_scrape_with_the_olap_database_down_still_answers_and_counts_the_error(client, olap_unreachable):
    with override_settings(ORDERS_SOURCE="cdc"):
        first = scrape(client)
        second = scrape(client)
    assert math.isnan(second[("dashboard_capture_behind_seconds", frozenset())])
    # Each scrape's failure is counted in that very scrape.
    assert value(second, "dashboard_olap_errors_total", kind="unavailable") == (
        value(first, "dashboard_olap_errors_total", kind="unavailable") + 1
    )


# --- gen_data --metrics-port ------------------------------------------------------------------


def scrape_port(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return parse(response.read().decode())


@pytest.mark.slow
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_gen_data_serves_its_lines_per_second_while_it_follows(empty_orders):
    port = free_port()
    command = [sys.executable, str(ROOT / "scripts" / "gen_data.py"), "--follow", "--rate", "50"]
    command += ["--seed", "11", "--quiet", "--metrics-port", str(port)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **database_env()},
    )
    try:
        samples = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError):  # not serving yet
                samples = scrape_port(port)
            if value(samples, "dashboard_loader_lines_total") > 5 * 50:  # two ticks at least
                break
            time.sleep(0.2)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)

    # 50 orders of 1 to 5 lines each, a second.
    assert 0 < value(samples, "dashboard_loader_lines_per_second") < 1000, samples
    assert value(samples, "dashboard_loader_lines_total") > 250
    assert process.returncode == 0, stderr
    assert "Stopped after" in stdout
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the server went with the process


def test_gen_data_refuses_a_metrics_port_out_of_range():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_data.py"), "--metrics-port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "gen_data.py: error: argument --metrics-port: must be a port from 1 to 65535, got 70000 "
        "(see --help)\n"
    )


@pytest.mark.slow
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_gen_data_says_when_its_metrics_port_is_taken(empty_orders):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "gen_data.py"),
                "--orders",
                "10",
                "--metrics-port",
                str(port),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **database_env()},
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"gen_data.py: error: cannot serve metrics on 127.0.0.1:{port} (--metrics-port): "
        "Address already in use"
    ]


# --- gunicorn: several workers, one scrape ----------------------------------------------------


def get(port, path):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http, ours
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.slow
def test_under_gunicorn_a_scrape_adds_up_every_worker(tmp_path):
    shared = tmp_path / "metrics"
    shared.mkdir()
    with gunicorn(workers=3, threads=1, PROMETHEUS_MULTIPROC_DIR=str(shared), METRICS_TOKEN=TOKEN) as port:
        deadline = time.monotonic() + 60
        # Many requests at once, until a second worker has taken some.
        requests, served = 0, set()
        with ThreadPoolExecutor(max_workers=12) as pool:
            while time.monotonic() < deadline:
                statuses = list(pool.map(lambda _: get(port, "/healthz")[0], range(60)))
                assert statuses == [200] * 60
                requests += 60
                served = {path.name for path in shared.glob("histogram_*.db")}
                if len(served) >= 2:
                    break
        assert len(served) >= 2, "the requests never reached a second worker"

        counts = set()
        for _ in range(9):  # each scrape served by whichever worker takes it
            status, text = get(port, "/metrics")
            assert status == 200, text
            samples = parse(text)
            counts.add(value(samples, f"{LATENCY}_count", view="healthz"))
        assert counts == {requests}


def test_the_docker_stack_runs_gunicorn_in_multiprocess_mode_on_a_fresh_directory():
    web = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())["services"]["web"]
    directory = web["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert directory in web["tmpfs"]  # emptied on every start, as multiprocess mode needs
