"""A database the site needs refusing or dropping connections while it serves requests (the
users-and-sessions database above all): every request then answers what the docs promise,
the API a JSON 503 and the pages the 503 page, both with Retry-After, whether DEBUG is on or
off, and the log gets one line per kind of failure and interval, not a traceback per request.
Recovery needs nothing: a broken connection is closed, and the next request connects afresh.

- DatabaseOutageMiddleware (after the auth middleware, before the catalog's): loads the
  session and its user up front when the request carries a session cookie, and answers 503
  if the database fails there; its process_exception does the same for a view that fails on
  a database error Django raised (login_required reading the user, the login throttle, the
  admin).
- server_error (the site's handler500, through dashboard.web.decorators) answers the same for
  what surfaced anywhere else.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

# Seconds a client should wait before asking again after a 503 or 504: about what a
# restarting database needs, and the page's own backoff starts there too.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "A database the site needs is unavailable; try again in a moment."
# Each process logs a kind of failure at most once per interval, with how many it left out.
LOG_INTERVAL_SECONDS = 60
DATABASE_ERRORS = (OperationalError, InterfaceError)


class OncePerInterval:
    """Logs each kind of failure (its class and the first line of its message) once per
    `interval` seconds in this process, saying how many of that kind it left out since."""

    def __init__(self, interval: float = LOG_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[float, int]] = {}  # kind -> (last logged at, left out since)

    def report(self, error: BaseException) -> None:
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        kind = f"{type(error).__name__}: {first_line}"
        now = time.monotonic()
        with self.lock:
            logged_at, left_out = self.seen.get(kind, (None, 0))
            if logged_at is not None and now - logged_at < self.interval:
                self.seen[kind] = (logged_at, left_out + 1)
                return
            self.seen[kind] = (now, 0)
        since = f"; {left_out} more since the last report" if left_out else ""
        logger.error(
            "database unavailable, answering 503 (%s)%s; next report of this kind in %d s at the earliest",
            kind,
            since,
            self.interval,
        )


reports = OncePerInterval()


def answer_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 (JSON for the API, the 503 page otherwise) with Retry-After; the broken
    connections are closed so the next request connects afresh."""
    reports.report(error)
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"error": UNAVAILABLE}, status=503)
    else:
        # Rendered without the request: its context processors would read the session.
        page = loader.get_template("503.html").render({"message": UNAVAILABLE})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Reported above, once per interval: Django logs every other 5xx answer, one per request.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            try:
                # The session and its user, from the users' database: what every later step
                # (the catalog's branch, login_required, the admin) reads first.
                _ = request.user.is_authenticated
            except DATABASE_ERRORS as error:
                return answer_unavailable(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return answer_unavailable(request, exception)
        return None
