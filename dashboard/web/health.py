"""Health endpoints for load balancers and orchestrators (no login)."""

import logging
import time
from contextlib import suppress
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dashboard.dbrouter import OLAP
from dashboard.orders.selectors import OlapUnavailable, freshness
from dashboard.web.freshness import rounded_lag

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving requests; databases are not consulted."""
    return JsonResponse({"status": "ok"})


def check_database(alias: str) -> dict[str, bool | str | float]:
    started = time.perf_counter()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        # Details go to the log, not to an unauthenticated caller.
        logger.warning("readiness check: database %r is unavailable", alias, exc_info=True)
        connections[alias].close()
        return {"ok": False, "error": "unavailable"}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def capture_lag(olap_ok: bool) -> dict[str, float | None]:
    """How far the figures are behind the shop's database (None: unknown). Reported, never a
    reason to be unready: a lagging capture catches up, and taking the site out would not help."""
    behind = None
    if olap_ok:
        # A failure is logged by the selector; the lag is then unknown.
        with suppress(OlapUnavailable):
            behind = freshness().behind_seconds
    return {"behind_seconds": rounded_lag(behind)}


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Each database answers; 503 when any does not. With orders captured from the shop's
    database (ORDERS_SOURCE=cdc), how far behind it the figures are, too."""
    databases = {alias: check_database(alias) for alias in connections}
    ready = all(result["ok"] for result in databases.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable", "databases": databases}
    if settings.ORDERS_SOURCE == "cdc":
        body["capture"] = capture_lag(bool(databases[OLAP]["ok"]))
    return JsonResponse(body, status=200 if ready else 503)
