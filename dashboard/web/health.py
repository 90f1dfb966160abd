"""Health endpoints for load balancers and orchestrators (no login)."""

import logging
import time

from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Each database answers; 503 when any does not."""
    databases = {alias: check_database(alias) for alias in connections}
    ready = all(result["ok"] for result in databases.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "databases": databases}, status=200 if ready else 503
    )
