"""The site served for real (gunicorn, as in production) on the test databases, and logged-in
HTTP clients of it: for tests of what many clients see while a database fails."""

import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

from django.conf import settings
from django.test import Client

from tests.support import ROOT
from tests.support.database_urls import database_env


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(workers=2, threads=8, log=None, **environment):
    """The site under gunicorn on a free loopback port, on the test databases (and any other
    `environment` variables); yields the port, and stops the server (killing it if need be)
    afterwards. `log`: a path that receives the server's log (stderr), else it is dropped."""
    port = free_port()
    env = {
        **os.environ,
        **database_env(),
        "DJANGO_SETTINGS_MODULE": "analytics_site.settings",
        # The tests' own key: sessions they create (Client.force_login) are valid there.
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "RANKINGS_CACHE_SECONDS": "0",  # every request asks the database
        **environment,
    }
    command = [sys.executable, "-m", "gunicorn", "analytics_site.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread"]
    log_file = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stderr=log_file)
    try:
        with listening(server, port, "gunicorn"):
            yield port
    finally:
        if log:
            log_file.close()


@contextmanager
def listening(server, port, what, log=None):
    """Wait (30 s at most) until the process `server` accepts connections on `port`; then
    yield, and stop it afterwards (SIGTERM; killed after 20 s). `log`: a file whose text
    explains a process that ended instead."""
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert server.poll() is None, f"{what} ended: {log.read_text() if log else ''}"
                assert time.monotonic() < deadline, f"{what} did not start"
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def session_cookie(user):
    """A session cookie for `user`, as logging in gives (the server shares the tests' key)."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def get(port, path, cookie, timeout=10):
    """(status, seconds) of one GET on a connection of its own, as a script or a browser
    behind a proxy asks; status None when no answer came at all."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return None, time.monotonic() - started
    finally:
        connection.close()
