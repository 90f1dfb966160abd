"""The dashboard's views: each parses the request, asks the selectors, and renders HTML, JSON
or CSV. Errors are answered in one place, dashboard.web.decorators."""

from dataclasses import replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from dashboard.catalog.selectors import CatalogRequest, CatalogUnavailable, branch_names
from dashboard.catalog.services import VersionError, switch_branch
from dashboard.orders.selectors import (
    RANKING_NAMES,
    Headline,
    OrderFilters,
    Trend,
    figures,
    shop_names_items,
    trend,
)
from dashboard.us_states import state_choices
from dashboard.web.cache import cached
from dashboard.web.decorators import answers_errors, api_view
from dashboard.web.export import ranking_csv, trend_csv
from dashboard.web.filters import parse_filters
from dashboard.web.freshness import (
    SHOW_LAG_AFTER_SECONDS,
    Marker,
    change_marker,
    figures_key,
    lag_notice,
    rankings_etag,
)
from dashboard.web.payload import rankings_payload, trend_payload
from dashboard.web.presets import preset_links
from dashboard.web.rankings import Ranking, empty_rankings, labelled, rankings

INDEX = "dashboard/index.html"


# The four rankings, the headline, the headline of the period just before (None for all
# time), and the filtered state's (place, of) among all states (None without a state).
Figures = tuple[list[Ranking], Headline, Headline | None, tuple[int, int] | None]


def cached_figures(filters: OrderFilters, branch: str, marker: Marker) -> tuple[Figures, datetime]:
    """((the four rankings, the headline, the headline of the period just before or None),
    when they were computed) for the filters, from the short cache; item labels come from
    the catalog `branch`. Keyed by the change marker too, so figures that changed are
    computed afresh at once."""
    source = settings.RANKINGS_SOURCE
    key = f"rankings:{figures_key(marker, filters, branch)}"

    def compute() -> Figures:
        # The rankings, both headlines and the places together: from the rollups, one query.
        found = figures(filters, source)
        return labelled(found), found.headline, found.previous_headline, found.state_place

    return cached(key, compute)


def revalidate_each_time(response: HttpResponse, etag: str) -> HttpResponse:
    """A browser may keep the answer but must ask (If-None-Match) before each use."""
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


# The request headers that can make Django's conditional answer anything but the response
# itself, given an ETag and no Last-Modified (If-Modified-Since alone never does).
CONDITIONS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")


def not_modified(request: HttpRequest, etag: str) -> HttpResponse | None:
    """The 304 (or 412 for an If-Match that fails) a conditional request gets when `etag` is
    current; None when the answer must be computed."""
    if not any(header in request.META for header in CONDITIONS):
        return None  # an unconditional request: no response built only to be dropped
    # Given a response, Django answers with it unless a precondition decides otherwise.
    conditional = get_conditional_response(
        request, etag=etag, response=revalidate_each_time(HttpResponse(), etag)
    )
    return conditional if conditional is not None and conditional.status_code != 200 else None


def csv_download(body: str, name: str, filters: OrderFilters) -> HttpResponse:
    """A CSV attachment named after what it holds and its filters, e.g. trend-CA-2026-03-01.csv."""
    parts = (filters.state, filters.start, filters.end)
    filename = "-".join([name, *(str(part) for part in parts if part)])
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def page_context(request: CatalogRequest, filters: OrderFilters | None = None) -> dict[str, Any]:
    """What every rendering of the page shows; with valid filters, their presets too."""
    try:
        branches = branch_names()
    except CatalogUnavailable:  # the page still shows the figures, items by id
        branches = [request.catalog_branch]
    context = {
        "query": request.GET,
        # A mapped shop names its items itself (its product titles): no catalog branch to pick.
        "shop_names_items": shop_names_items(),
        "catalog_branch": request.catalog_branch,
        "catalog_branches": branches,
        "chartjs_url": settings.CHARTJS_URL,
        "chartjs_integrity": settings.CHARTJS_INTEGRITY,
        "live_refresh_seconds": settings.LIVE_REFRESH_SECONDS,
        "show_lag_after_seconds": SHOW_LAG_AFTER_SECONDS,
    }
    if filters is not None:
        context.update(
            presets=preset_links(timezone.localdate(), filters),
            states=state_choices(),
            filters=filters.as_dict(),
        )
    return context


def page_error(request: CatalogRequest, message: str, status: int) -> HttpResponse:
    """The page with what went wrong: bad filters above the form, or (the OLAP side failing)
    every chart in its error state, which the page's live refresh recovers from by itself.
    Logins, the admin and this page stay up either way."""
    if status == 400:
        # The form and the presets (none of them current) stay, to get back to valid filters.
        context = page_context(request, OrderFilters())
        context["presets"] = [replace(preset, current=False) for preset in context["presets"]]
        return render(request, INDEX, {**context, "error": message}, status=status)
    context = page_context(request, parse_filters(request.GET))
    context.update(olap_error=message, rankings=empty_rankings(), payload=None, trend_payload=None)
    return render(request, INDEX, context, status=status)


def figures_and_payload(
    filters: OrderFilters, branch: str, marker: Marker
) -> tuple[Figures, datetime, dict[str, Any]]:
    """The figures (from the short cache), when they were computed, and their JSON payload:
    what the page draws and the API answers."""
    (four, figures, previous, place), generated_at = cached_figures(filters, branch, marker)
    payload = rankings_payload(
        four,
        headline=figures,
        previous=previous,
        state_place=place,
        generated_at=generated_at,
        filters=filters.as_dict(),
        behind_seconds=marker.behind_seconds,
    )
    return (four, figures, previous, place), generated_at, payload


@require_GET
@login_required
@answers_errors(page_error)
def index(request: CatalogRequest) -> HttpResponse:
    filters = parse_filters(request.GET)
    marker = change_marker()
    (four, figures, previous, _), generated_at, payload = figures_and_payload(
        filters, request.catalog_branch, marker
    )
    points, trend_generated_at = cached_trend(filters, marker)
    context = page_context(request, filters)
    context.update(
        trend=points,
        trend_payload=trend_payload(points, generated_at=trend_generated_at, filters=filters.as_dict()),
        trend_etag=rankings_etag(marker, filters, "trend"),
        rankings=four,
        headline=figures,
        previous_headline=previous,
        generated_at=generated_at,
        payload=payload,
        etag=rankings_etag(marker, filters, request.catalog_branch),
        lag=lag_notice(marker.behind_seconds),
    )
    return render(request, INDEX, context)


@require_GET
@api_view
def api_rankings(request: CatalogRequest) -> HttpResponse:
    """The figures as JSON. A poll whose If-None-Match names the current ETag gets 304 with
    no body, for the price of the change marker: the figures are not computed."""
    filters = parse_filters(request.GET)
    marker = change_marker()
    etag = rankings_etag(marker, filters, request.catalog_branch)
    if unchanged := not_modified(request, etag):
        return unchanged
    _, _, payload = figures_and_payload(filters, request.catalog_branch, marker)
    return revalidate_each_time(JsonResponse(payload), etag)


@require_GET
@api_view
def api_ranking_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in RANKING_NAMES:
        raise Http404(f"No ranking called {name!r}.")
    filters = parse_filters(request.GET)
    (ranking,) = rankings([name], filters, source=settings.RANKINGS_SOURCE)
    return csv_download(ranking_csv(ranking), name, filters)


def cached_trend(filters: OrderFilters, marker: Marker) -> tuple[Trend, datetime]:
    key = f"trend:{figures_key(marker, filters, '')}"
    return cached(key, lambda: trend(filters, timezone.localdate()))


@require_GET
@api_view
def api_trend(request: HttpRequest) -> HttpResponse:
    """Turnover and orders per day, week or month over the filters' range (JSON), with the
    rankings' ETag rules: a poll that finds nothing new gets 304."""
    filters = parse_filters(request.GET)
    marker = change_marker()
    etag = rankings_etag(marker, filters, "trend")
    if unchanged := not_modified(request, etag):
        return unchanged
    points, generated_at = cached_trend(filters, marker)
    payload = trend_payload(points, generated_at=generated_at, filters=filters.as_dict())
    return revalidate_each_time(JsonResponse(payload), etag)


@require_GET
@api_view
def api_trend_csv(request: HttpRequest) -> HttpResponse:
    filters = parse_filters(request.GET)
    points, _ = cached_trend(filters, change_marker())
    return csv_download(trend_csv(points), "trend", filters)


@require_POST
@login_required
def switch_catalog_branch(request: HttpRequest) -> HttpResponse:
    """Show the dashboard (item labels) from another branch of the catalog, for this session."""
    try:
        switch_branch(request, request.POST.get("branch", ""))
    except VersionError as error:
        messages.error(request, str(error))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboard:index")
    return redirect(target)
