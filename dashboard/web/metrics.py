"""Metrics for operators: GET /metrics in Prometheus' text format (prometheus-client).

- dashboard_request_duration_seconds{view}: a histogram of request latency, by the name of
  the route that answered (resolver_match.view_name; "static" for static files, which
  whitenoise serves before any route; "unmatched" when no route answered).
- dashboard_olap_errors_total{kind}: OLAP failures answered as errors, "unavailable" (503)
  or "timeout" (504).
- dashboard_rankings_cache_hits_total, dashboard_rankings_cache_misses_total: the short
  rankings cache (dashboard/web/cache.py).
- dashboard_capture_behind_seconds: with ORDERS_SOURCE=cdc, how far the figures are behind
  the shop's database, asked of the OLAP side when scraped (NaN when unknown or failing).

gen_data serves its own figures (lines per second) while it runs: `--metrics-port`.

Who may scrape: with METRICS_TOKEN set, only requests with `Authorization: Bearer <token>`
(401 without the header, 403 with a wrong one). Without it /metrics is closed (403), except
with DEBUG on, where loopback clients may scrape (a local development server): behind a
reverse proxy on the same host every client is loopback, so the address proves nothing in
production. `manage.py check --deploy` warns when the token is missing (dashboard.web.checks).
Never a login redirect.

gunicorn runs several worker processes, each with its own counters: with the environment
variable PROMETHEUS_MULTIPROC_DIR naming an empty directory (wiped before each start), every
worker writes its figures there and a scrape, whichever worker answers it, adds them all up
(prometheus-client's multiprocess mode). Without it, a scrape sees the process that answers.
"""

import hmac
import ipaddress
import math
import os
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dashboard.orders.selectors import OlapUnavailable, freshness

# Set for gunicorn's workers (see docs/operations.md); read once, as prometheus-client does.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

# The route's name (resolver_match.view_name): one value per URL pattern, however many URLs.
UNMATCHED = "unmatched"
STATIC = "static"

REQUEST_DURATION = Histogram(
    "dashboard_request_duration_seconds",
    "Time to answer a request, by the view that answered it (unmatched: no route).",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OLAP_ERRORS = Counter(
    "dashboard_olap_errors",
    "OLAP database failures answered as errors: unavailable (503) or timeout (504).",
    ["kind"],
)
RANKINGS_CACHE_HITS = Counter("dashboard_rankings_cache_hits", "Rankings served from the short cache.")
RANKINGS_CACHE_MISSES = Counter(
    "dashboard_rankings_cache_misses", "Rankings computed because the short cache had no entry."
)
CAPTURE_LAG = "dashboard_capture_behind_seconds"

OLAP_ERROR_KINDS = {503: "unavailable", 504: "timeout"}
for _kind in OLAP_ERROR_KINDS.values():
    OLAP_ERRORS.labels(kind=_kind)  # both series from the start, at 0


def count_olap_error(error: OlapUnavailable) -> None:
    OLAP_ERRORS.labels(kind=OLAP_ERROR_KINDS.get(error.status, "unavailable")).inc()


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    return STATIC if request.path.startswith(settings.STATIC_URL or "/static/") else UNMATCHED


class RequestLatencyMiddleware:
    """Times every request, by the view that answered it. First in MIDDLEWARE, so the time
    includes the other middleware (sessions, the catalog branch)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_DURATION.labels(view=view_label(request)).observe(time.perf_counter() - started)
        return response


def capture_lag() -> Iterator[Metric]:
    """dashboard_capture_behind_seconds, asked of the OLAP side now; only with capture. A
    failure is counted and makes the gauge NaN, never the scrape fail."""
    if settings.ORDERS_SOURCE != "cdc":
        return
    try:
        behind = freshness().behind_seconds
    except OlapUnavailable as error:  # the selector has logged it
        count_olap_error(error)
        behind = None
    yield GaugeMetricFamily(
        CAPTURE_LAG,
        "Seconds the figures are behind the shop's database (ORDERS_SOURCE=cdc; NaN: unknown).",
        value=math.nan if behind is None else behind,
    )


def _collected() -> Collector:
    """Every process's figures in multiprocess mode, else this process's."""
    if not MULTIPROCESS_DIR:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    return registry


class _Scrape:
    """What one scrape shows: the lag, asked first (a failure counted in this very scrape),
    then the counters and histograms."""

    def __init__(self) -> None:
        self.lag = list(capture_lag())

    def collect(self) -> Iterator[Metric]:
        yield from _collected().collect()
        yield from self.lag


def client_is_loopback(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def refusal(request: HttpRequest) -> HttpResponse | None:
    """Why this request may not scrape (401 or 403), or None."""
    token = settings.METRICS_TOKEN
    if not token:
        if settings.DEBUG and client_is_loopback(request):
            return None  # a local development server
        return HttpResponse(
            "Forbidden: /metrics is closed until METRICS_TOKEN is set "
            "(then send Authorization: Bearer <METRICS_TOKEN>).\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    header = request.headers.get("Authorization")
    if header is None:
        response = HttpResponse(
            "Authentication required: Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    return HttpResponse("Forbidden: wrong token.\n", status=403, content_type="text/plain; charset=utf-8")


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(generate_latest(_Scrape()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
