"""One error path for every dashboard view: invalid filters and an unavailable OLAP side
become the documented answer, in the view's own format (JSON for the API and CSV exports,
the page for HTML), instead of a try/except in each view.

| what went wrong | status |
|---|---|
| not logged in (API) | 401 `{"error": ...}`; the page redirects to the login |
| a wrong or revoked API token (API) | 401 `{"error": ...}`, whatever the session |
| invalid filters | 400, naming the field and what it must be |
| OLAP unreachable / query past the statement timeout | 503 / 504, with Retry-After |
| any database refusing or losing a connection elsewhere | 503, with Retry-After (`server_error`) |

OLAP failures are counted for /metrics too (dashboard_olap_errors_total: unavailable, timeout).
"""

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from dashboard.orders.selectors import OlapUnavailable
from dashboard.tokens.services import user_for_token
from dashboard.web.filters import InvalidFilters
from dashboard.web.metrics import count_olap_error
from dashboard.web.unavailable import DATABASE_ERRORS, RETRY_AFTER_SECONDS, answer_unavailable

View = Callable[..., HttpResponse]
_Request = TypeVar("_Request", bound=HttpRequest)
# (request, the error's message, the status) -> the answer in the view's format.
Responder = Callable[[_Request, str, int], HttpResponse]


def answers_errors(respond: Responder[_Request]) -> Callable[[View], View]:
    """Decorate a view so that InvalidFilters answers 400 and OlapUnavailable 503 or 504,
    each through `respond`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: _Request, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except InvalidFilters as error:
                return respond(request, str(error), 400)
            except OlapUnavailable as error:
                count_olap_error(error)  # dashboard_olap_errors_total, by kind
                response = respond(request, str(error), error.status)
                response["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return response

        return wrapper

    return decorator


def json_error(request: HttpRequest, message: str, status: int) -> JsonResponse:
    return json_error_response(message, status)


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without one."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def unauthorized(message: str) -> JsonResponse:
    response = json_error_response(message, 401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def json_error_response(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def api_view(view: View) -> View:
    """An API view (JSON or CSV, read-only): a JSON 401 instead of a login redirect, and every
    error as `{"error": "..."}` with its status. A machine client authenticates with
    `Authorization: Bearer <API token>` (dashboard.tokens) instead of a session; only API
    views read that header, so a token never opens the pages or the admin."""
    answered = answers_errors(json_error)(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = bearer_token(request)
        if token is not None:
            user = user_for_token(token)
            if user is None:
                return unauthorized("Invalid or revoked API token.")
            request.user = user
        elif not request.user.is_authenticated:
            return unauthorized(
                "Authentication required: log in at /accounts/login/, "
                "or send Authorization: Bearer <API token>."
            )
        return answered(request, *args, **kwargs)

    return wrapper


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's handler500. A lost or refused connection to any database (users and
    sessions, the catalog, the OLAP side), wherever it surfaced, answers 503 with Retry-After
    like an OLAP outage (dashboard.web.unavailable, which also keeps the log to a line per
    kind of failure and interval): the site recovers by itself once the database is back.
    Anything else is a real 500."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return answer_unavailable(request, error)
    return defaults.server_error(request)
