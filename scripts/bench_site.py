"""The site's own processes for the benchmark's stages (scripts/bench.py and the stages beside
it): their environment on the bench databases, gunicorn started as scripts/serve.sh starts
it, a logged-in HTTP session, the capture worker as `manage.py cdc_worker`, and the peak
memory of each, read while they run.

Peak memory is each process's VmHWM from /proc (Linux's high-water mark of its resident
set): ten lines here rather than a dependency (psutil) that the site itself does not need.
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# gunicorn exactly as scripts/serve.sh runs it (keep the two in step), with .dev/env's
# settings (DEBUG=1, the self-hosted Chart.js).
SERVE_SH_GUNICORN = ["--worker-class", "gthread", "--workers", "2", "--threads", "8", "--reload"]
SERVE_SH_GUNICORN += ["--graceful-timeout", "5", "--log-level", "warning"]
SERVE_SH_SETTINGS = {"DEBUG": "1", "CHARTJS_URL": "/static/vendor/chartjs/chart.umd.min.js"}


def against_raw(seconds, raw_seconds):
    """A stage's time as a multiple of the four raw GROUP BYs of the same run, which measure
    the machine as it is right now: a slower or busier one still shows whether a change
    helped (issue 21's point 4)."""
    return f"{seconds / raw_seconds:.2f}x the four raw GROUP BYs of the same run, {raw_seconds:.1f} s"


def database_url(alias):
    from django.conf import settings

    db = settings.DATABASES[alias]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_env(**settings):
    """The environment of the site's processes on the bench databases, with `settings`."""
    return {
        **os.environ,
        "DATABASE_URL": database_url("default"),
        "OLAP_DATABASE_URL": database_url("olap"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        **settings,
    }


@contextmanager
def _stopped_on_the_way_out(process, what):
    """Yield `process`; terminate it (kill it after 30 s) however the stage ends: an error,
    Ctrl-C or SIGTERM, which would otherwise end this process without unwinding."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            sys.stderr.write(f"bench.py: {what} did not stop within 30 s; killed\n")
            process.kill()
            process.wait()
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def gunicorn_serving(port, flags, **settings):
    """gunicorn serving the bench databases on `port` with the extra command-line `flags` and
    `settings` (environment variables), until the stage ends."""
    command = [sys.executable, "-m", "gunicorn", "analytics_site.wsgi", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, *flags], cwd=ROOT, env=site_env(**settings))  # noqa: S603
    with _stopped_on_the_way_out(server, "gunicorn"):
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit("bench.py: gunicorn did not start")
                time.sleep(0.2)
        yield server


@contextmanager
def capture_worker(**settings):
    """`manage.py cdc_worker` on the bench databases with `settings`, as production runs it,
    until the stage ends."""
    command = [sys.executable, "manage.py", "cdc_worker"]
    worker = subprocess.Popen(command, cwd=ROOT, env=site_env(**settings))  # noqa: S603
    with _stopped_on_the_way_out(worker, "the capture worker"):
        time.sleep(0.5)
        if worker.poll() is not None:
            sys.exit(f"bench.py: the capture worker ended at once (status {worker.returncode})")
        yield worker


def logged_in_session(port, username, password):
    """An HTTP connection to the server with a session cookie, got through the login form."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/accounts/login/")
    page = connection.getresponse()
    page.read()
    csrf = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie"))[1]
    body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"}
    connection.request("POST", "/accounts/login/", body, headers)
    answer = connection.getresponse()
    answer.read()
    session = re.search(r"sessionid=([^;]+)", answer.getheader("Set-Cookie") or "")
    if answer.status != 302 or not session:
        sys.exit(f"bench.py: could not log in to the site ({answer.status})")
    return connection, f"sessionid={session[1]}"


def peak_rss_mb(pid):
    """{pid: peak resident memory in MB} of the process `pid` and its children (gunicorn's
    master and its workers), read while they run."""
    peaks = {}
    for candidate in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{candidate}/status").read_text()
        except OSError:
            continue  # ended meanwhile
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        if found:
            peaks[candidate] = int(found[1]) / 1024
    return peaks


def web_memory_row(stage, peaks):
    """The row of gunicorn's processes' peak RSS ({pid: MB}: the master, then its workers)."""
    master, *workers = peaks.values()
    highest = max(peaks.values())
    return (
        f"{stage}: peak RSS of each web process (gunicorn as serve.sh runs it)",
        f"workers {', '.join(f'{mb:,.0f}' for mb in workers)} MB, master {master:,.0f} MB",
        "≤ 300 MB each",
        highest <= 300,
    )


def _children(pid):
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children
