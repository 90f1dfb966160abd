from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from dashboard.cache import cached
from dashboard.catalog_middleware import switch_branch
from dashboard.catalog_versions import VersionError, branch_names
from dashboard.export import ranking_csv
from dashboard.filters import InvalidFilters, parse_filters
from dashboard.headline import headline
from dashboard.olap.errors import OlapUnavailable, olap_errors
from dashboard.payload import rankings_payload
from dashboard.presets import preset_links
from dashboard.rankings import RANKING_NAMES, all_rankings, empty_rankings, rankings
from dashboard.us_states import state_choices


def cached_figures(filters, branch):
    """((the four rankings, the headline), when they were computed) for the filters, from
    the short cache; item labels come from the catalog `branch`."""
    source = settings.RANKINGS_SOURCE
    key = f"rankings:{source}:{filters.start}:{filters.end}:{filters.state}:{branch}"

    def compute():
        with olap_errors():
            return all_rankings(filters, source=source), headline(filters, source=source)

    return cached(key, compute)


def api_login_required(view):
    """Like login_required, but an API client gets a JSON 401 instead of a login redirect."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "Authentication required: log in at /accounts/login/."}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@login_required
def index(request):
    context = {
        "query": request.GET,
        "catalog_branch": request.catalog_branch,
        "catalog_branches": branch_names(),
        "chartjs_url": settings.CHARTJS_URL,
        "chartjs_integrity": settings.CHARTJS_INTEGRITY,
        "live_refresh_seconds": settings.LIVE_REFRESH_SECONDS,
    }
    try:
        filters = parse_filters(request.GET)
    except InvalidFilters as error:
        return render(request, "dashboard/index.html", {**context, "error": str(error)}, status=400)
    context["presets"] = preset_links(timezone.localdate(), filters)
    context["states"] = state_choices()
    context["filters"] = filters.as_dict()
    try:
        (four, figures), generated_at = cached_figures(filters, request.catalog_branch)
    except OlapUnavailable as error:
        # Logins, the admin and this page stay up; each chart shows its error state and the
        # page's live refresh recovers by itself once the OLAP side answers again.
        context.update(olap_error=str(error), rankings=empty_rankings(), payload=None)
        return render(request, "dashboard/index.html", context, status=error.status)
    context.update(
        rankings=four,
        headline=figures,
        generated_at=generated_at,
        payload=rankings_payload(
            four, headline=figures, generated_at=generated_at, filters=filters.as_dict()
        ),
    )
    return render(request, "dashboard/index.html", context)


@require_GET
@api_login_required
def api_rankings(request):
    try:
        filters = parse_filters(request.GET)
    except InvalidFilters as error:
        return JsonResponse({"error": str(error)}, status=400)
    try:
        (four, figures), generated_at = cached_figures(filters, request.catalog_branch)
    except OlapUnavailable as error:
        return JsonResponse({"error": str(error)}, status=error.status)
    payload = rankings_payload(four, headline=figures, generated_at=generated_at, filters=filters.as_dict())
    return JsonResponse(payload)


@require_GET
@api_login_required
def api_ranking_csv(request, name):
    if name not in RANKING_NAMES:
        raise Http404(f"No ranking called {name!r}.")
    try:
        filters = parse_filters(request.GET)
    except InvalidFilters as error:
        return JsonResponse({"error": str(error)}, status=400)
    try:
        with olap_errors():
            (ranking,) = rankings([name], filters, source=settings.RANKINGS_SOURCE)
    except OlapUnavailable as error:
        return JsonResponse({"error": str(error)}, status=error.status)
    parts = (filters.state, filters.start, filters.end)
    filename = "-".join([name, *(str(part) for part in parts if part)])
    response = HttpResponse(ranking_csv(ranking), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


@require_POST
@login_required
def switch_catalog_branch(request):
    """Show the dashboard (item labels) from another branch of the catalog, for this session."""
    try:
        switch_branch(request, request.POST.get("branch", ""))
    except VersionError as error:
        messages.error(request, str(error))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboard:index")
    return redirect(target)
