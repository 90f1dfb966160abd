"""The dashboard's own database (DATABASE_URL: users, sessions) down for real (issue 20,
point 2): its cluster stopped under gunicorn while two clients poll. The API answers its
documented JSON 503 with Retry-After, the page the 503 page, the log says so in one line per
kind of failure and interval (not a traceback per request), and all comes back by itself
when the database does."""

import http.client
import json
import re
import threading
import time

import pytest
from django.contrib.auth.models import User

from tests.support.clusters import cluster
from tests.support.http import gunicorn, session_cookie

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]


def ask(port, path, cookie, accept="*/*"):
    """(status, headers, body) of one GET, or (None, {}, b"") when nothing answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers={"Cookie": cookie, "Accept": accept})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except (OSError, http.client.HTTPException):
        return None, {}, b""
    finally:
        connection.close()


def poll(port, cookie, stop, answers):
    while not stop.is_set():
        for path in ("/api/rankings/", "/", "/api/trend/"):
            answers.append((path, ask(port, path, cookie)[0]))
        time.sleep(0.05)


def test_with_the_users_database_stopped_the_site_answers_503_logs_little_and_recovers(tmp_path):
    cookie = session_cookie(User.objects.create_user("analyst"))
    log = tmp_path / "gunicorn.log"
    # DEBUG on, as scripts/serve.sh runs it: Django would answer its traceback page.
    with gunicorn(workers=2, threads=4, log=log, DEBUG="1") as port:
        assert ask(port, "/api/rankings/", cookie)[0] == 200
        assert ask(port, "/", cookie)[0] == 200
        stop, answers = threading.Event(), []
        cluster("oltp", "stop")
        try:
            pollers = [threading.Thread(target=poll, args=(port, cookie, stop, answers)) for _ in range(2)]
            for poller in pollers:
                poller.start()
            # Many requests answered while it is down (asserted below), waited for, not slept.
            deadline = time.monotonic() + 60
            while len(answers) < 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            api_status, api_headers, api_body = ask(port, "/api/rankings/", cookie)
            csv_status, _, csv_body = ask(port, "/api/trend.csv", cookie)
            page_status, page_headers, page_body = ask(port, "/", cookie, accept="text/html")
            stop.set()
            for poller in pollers:
                poller.join(30)
        finally:
            stop.set()
            cluster("oltp", "start")
        # Back by itself, no restart: the first requests after the start may still find it coming up.
        deadline, back = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            back = (ask(port, "/api/rankings/", cookie)[0], ask(port, "/", cookie)[0])
            if back == (200, 200):
                break
            time.sleep(0.1)
    assert back == (200, 200)

    assert api_status == 503 and api_headers["Retry-After"] == "5"
    assert api_headers["Content-Type"] == "application/json"
    assert json.loads(api_body) == {
        "error": "A database the site needs is unavailable; try again in a moment."
    }
    assert csv_status == 503 and json.loads(csv_body)["error"]
    assert page_status == 503 and page_headers["Retry-After"] == "5"
    assert b"Temporarily unavailable" in page_body
    statuses = {status for _, status in answers}
    assert statuses == {503}, statuses  # never a 500, never no answer
    assert len(answers) > 50

    lines = log.read_text(errors="replace").splitlines()
    assert not any("Traceback" in line for line in lines), "\n".join(lines[:40])
    failures = [line for line in lines if "database unavailable" in line]
    assert failures, "\n".join(lines[:40])
    # One line per kind of failure and interval in each worker: a handful, not one per request.
    assert len(failures) <= 6, "\n".join(failures)
    gunicorn_own = re.compile(r"^\[\d{4}-\d\d-\d\d |UserWarning: No directory at|^  mw_instance = ")
    others = [line for line in lines if line not in failures and not gunicorn_own.search(line)]
    assert others == [], "\n".join(others[:40])
