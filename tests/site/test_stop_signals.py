"""Stopping what serve.sh and the container's entrypoint started (issue 20, point 1): a real
SIGTERM (a process manager, `docker stop`, `kill PID`) or SIGINT (`kill -INT PID`) to the
script alone stops the server, the capture worker and the clusters it started within 10 s,
leaving nothing on the port and no process behind; a second run then starts cleanly. And
scripts/bench.sh, which starts the clusters serve.sh made for the benchmark, stops them after it."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.site.test_docker_compose import ENTRYPOINT, closed_port, entrypoint_env
from tests.support import ROOT
from tests.support.database_urls import database_env
from tests.support.http import free_port

pytestmark = pytest.mark.slow

STOP_WITHIN = 10  # seconds
BASH = shutil.which("bash") or "/bin/bash"


def default_sigint():
    """What a shell or a process manager gives the script: SIGINT at its default (the test
    run may ignore it, and an ignored signal stays ignored in the child)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def session_processes(session):
    """[(pid, command line)] of the live processes of a session (the script's, since it was
    started in a session of its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append((int(entry), command))
    return found


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def kill_session(session):
    for pid, _ in session_processes(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_and_measure(process, signum):
    """Send `signum` to the script alone; (seconds until it exited, its exit status)."""
    started = time.monotonic()
    process.send_signal(signum)
    try:
        status = process.wait(STOP_WITHIN + 20)
    except subprocess.TimeoutExpired:
        status = None
    return time.monotonic() - started, status


# --- the container's entrypoint -----------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_entrypoint_stops_at_once_while_it_waits_for_a_database(signum):
    env = entrypoint_env(
        f"postgres://root@127.0.0.1:{closed_port()}/dev", WAIT_ATTEMPTS="1000", WAIT_SECONDS="3"
    )
    process = subprocess.Popen(
        [*ENTRYPOINT, "echo", "command ran"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("waiting for the database to answer SQL (attempt 1 of 1000)"), first
        time.sleep(0.5)  # inside its sleep, or its next probe
        seconds, status = stop_and_measure(process, signum)
        assert status is not None and seconds < STOP_WITHIN, seconds
        assert status == 128 + signum
        time.sleep(0.5)
        assert session_processes(process.pid) == []  # no probe, no sleep left behind
        assert "command ran" not in process.stdout.read()
    finally:
        kill_session(process.pid)
        if process.poll() is None:
            process.kill()
        process.wait(10)
        process.stdout.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_entrypoint_hands_the_signal_to_its_server(signum):
    port = free_port()
    env = {
        **os.environ,
        **database_env(),
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]),
        "DJANGO_SETTINGS_MODULE": "analytics_site.settings",
        "WAIT_FOR_SQL": "",
        "PREPARE_DATABASES": "0",
        "SETUP_OLAP": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    command = [sys.executable, "-m", "gunicorn", "analytics_site.wsgi", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        [*ENTRYPOINT, *command, "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    try:
        wait_for(lambda: listening(port), 60, "the server did not start")
        seconds, status = stop_and_measure(process, signum)
        assert status is not None and seconds < STOP_WITHIN, seconds
        assert not listening(port)
        assert session_processes(process.pid) == []
    finally:
        kill_session(process.pid)
        if process.poll() is None:
            process.kill()
        process.wait(10)


# --- scripts/serve.sh -------------------------------------------------------------------------


def two_free_ports():
    """A port whose next one is free too: serve.sh's oltp and olap clusters."""
    for _ in range(50):
        port = free_port()
        if port < 65000 and not listening(port + 1):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise AssertionError("no two free ports in a row")


def cluster_running(dev_dir, name):
    return (Path(dev_dir) / "pg" / name / "postmaster.pid").exists()


@pytest.fixture
def serve_dir():
    """A DEV_DIR of its own (clusters, catalog, demo login) that the postgres user can reach;
    its clusters are stopped and the folder removed afterwards, whatever happened."""
    folder = tempfile.mkdtemp(prefix="serve-signals-", dir="/tmp")
    os.chmod(folder, 0o755)  # noqa: S103 - the postgres user runs the clusters in it
    pg_port = two_free_ports()
    yield folder, pg_port
    for name in ("oltp", "olap"):
        if cluster_running(folder, name):
            subprocess.run(
                [BASH, str(ROOT / "scripts" / "lib" / "cluster.sh"), name, "kill"],
                env={**os.environ, "DEV_DIR": folder, "DEV_PG_PORT": str(pg_port)},
                capture_output=True,
                timeout=60,
                check=False,
            )
    shutil.rmtree(folder, ignore_errors=True)


def as_a_person_runs_it(folder, pg_port):
    """The environment a person's shell gives the scripts, none of the tests' own database
    settings in it, with the clusters in `folder` on `pg_port` (and the next port)."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "DEV_DIR": folder,
        "DEV_PG_PORT": str(pg_port),
    }


def serve(folder, pg_port, port, log):
    """scripts/serve.sh as a person runs it, on its own clusters and port, in a session of its
    own."""
    env = {**as_a_person_runs_it(folder, pg_port), "PORT": str(port), "SAMPLE_ORDERS": "300"}
    return subprocess.Popen(
        [BASH, str(ROOT / "scripts" / "serve.sh")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=default_sigint,
    )


def test_serve_sh_stops_everything_it_started_on_sigterm_and_on_sigint(serve_dir, tmp_path):
    folder, pg_port = serve_dir
    port = free_port()
    for signum in (signal.SIGTERM, signal.SIGINT):  # the second run reuses what the first made
        log_path = tmp_path / f"serve-{signum}.log"
        with open(log_path, "wb") as log:
            process = serve(folder, pg_port, port, log)
            try:
                wait_for(
                    lambda process=process: listening(port) or process.poll() is not None,
                    600,
                    "serve.sh did not start serving",
                )
                assert process.poll() is None, log_path.read_text(errors="replace")
                assert cluster_running(folder, "oltp") and cluster_running(folder, "olap")
                started = session_processes(process.pid)
                assert any("gunicorn" in command for _, command in started), started
                assert any("cdc_worker" in command for _, command in started), started

                seconds, status = stop_and_measure(process, signum)
                text = log_path.read_text(errors="replace")
                assert status is not None and seconds < STOP_WITHIN, (seconds, text[-3000:])
                assert status == 128 + signum, text[-3000:]
                assert not listening(port), "something still answers on the port"
                assert session_processes(process.pid) == [], "gunicorn or the worker is left behind"
                assert not cluster_running(folder, "oltp") and not cluster_running(folder, "olap")
                assert "Connection in use" not in text
            finally:
                kill_session(process.pid)
                if process.poll() is None:
                    process.kill()
                process.wait(10)


# --- scripts/bench.sh -------------------------------------------------------------------------


def test_bench_sh_runs_the_benchmark_on_serve_sh_s_install_and_stops_the_clusters_it_started(
    serve_dir, tmp_path
):
    """docs/benchmarks.md's command, after the README's first one: the benchmark (a small one)
    runs on the clusters and settings serve.sh left, which bench.sh starts for it and stops
    after it. First without them: it says what to run instead of starting anything."""
    folder, pg_port = serve_dir
    env = as_a_person_runs_it(folder, pg_port)
    bench_sh = [BASH, str(ROOT / "scripts" / "bench.sh")]
    first = subprocess.run(
        bench_sh, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 1, first.stderr
    assert "run scripts/serve.sh once first" in first.stderr
    assert not cluster_running(folder, "oltp") and not cluster_running(folder, "olap")

    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = serve(folder, pg_port, port, log)
        try:
            wait_for(lambda: listening(port) or process.poll() is not None, 600, "serve.sh did not serve")
            assert process.poll() is None, log_path.read_text(errors="replace")
            _, status = stop_and_measure(process, signal.SIGTERM)
            assert status == 128 + signal.SIGTERM, log_path.read_text(errors="replace")[-3000:]
        finally:
            kill_session(process.pid)
    assert not cluster_running(folder, "oltp") and not cluster_running(folder, "olap")

    small = ["--lines", "3000", "--baseline-lines", "300", "--requests", "3", "--raw-requests", "1"]
    small += ["--http-requests", "5", "--users", "0", "--no-capture", "--no-shop"]
    bench = subprocess.Popen(
        [*bench_sh, *small],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = bench.communicate(timeout=300)
    finally:
        kill_session(bench.pid)
    assert bench.returncode == 0, err[-3000:]
    rows = {line.split(" | ")[0].lstrip("| ") for line in out.splitlines() if line.startswith("| ")}
    assert "gen_data end to end (rollups included)" in rows, out
    assert "HTTP /healthz (no database, no session): p50 / p95" in rows, out
    assert "stopping the olap PostgreSQL cluster this command started" in err
    assert not cluster_running(folder, "oltp") and not cluster_running(folder, "olap")
    assert session_processes(bench.pid) == [], "the benchmark left a process behind"
