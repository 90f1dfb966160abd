"""Partial buckets of the trend (issue 20, point 6): a week or month the range covers only in
part carries "partial": true in /api/trend/ and the CSV, and the page draws it as partial
(hollow point, dashed line, lighter bar, "(partial)" in the table, a note) rather than as a
dip beside full buckets."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.support.browser import browser_page, wait_until
from tests.support.orders import insert_orders
from tests.web.test_browser_dashboard import PASSWORD, log_in

URL = reverse("dashboard:api-trend")
CSV = reverse("dashboard:api-trend-csv")
D = datetime.date


def every_day(first, last):
    """One order line of 10.00 per day from first to last, in California."""
    days = (last - first).days + 1
    return [(n + 1, 1, 1, Decimal("10.00"), first + datetime.timedelta(days=n), "CA") for n in range(days)]


def partial_of(body):
    return [(point["start"], point["partial"]) for point in body["points"]]


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_weeks_cut_by_the_range_are_partial(user_client):
    insert_orders(every_day(D(2025, 1, 1), D(2026, 6, 30)))
    # Wednesday 2025-03-05 to Tuesday 2025-09-30: weeks (more than 120 days).
    body = user_client.get(URL, {"start": "2025-03-05", "end": "2025-09-30"}).json()
    assert body["bucket"] == "week"
    points = partial_of(body)
    assert points[0] == ("2025-03-03", True)  # Monday 3rd: the range has only Wed to Sun
    assert points[-1] == ("2025-09-29", True)  # Monday 29th: the range has Mon and Tue
    assert all(not partial for _, partial in points[1:-1])
    # The partial weeks hold only the range's days: 5 and 2 days of 10.00, not 7.
    assert body["points"][0]["turnover"] == "50.00" and body["points"][-1]["turnover"] == "20.00"
    assert {point["turnover"] for point in body["points"][1:-1]} == {"70.00"}

    # A range of whole weeks (Monday to Sunday) has none.
    whole = user_client.get(URL, {"start": "2025-03-03", "end": "2025-09-28"}).json()
    assert whole["bucket"] == "week"
    assert not any(partial for _, partial in partial_of(whole))


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_months_cut_by_the_range_are_partial_in_json_and_csv(user_client):
    insert_orders(every_day(D(2023, 1, 1), D(2026, 6, 30)))
    query = {"start": "2023-01-15", "end": "2026-03-10"}
    body = user_client.get(URL, query).json()
    assert body["bucket"] == "month"
    points = partial_of(body)
    assert points[0] == ("2023-01-01", True) and points[-1] == ("2026-03-01", True)
    assert not any(partial for _, partial in points[1:-1])
    rows = list(csv.reader(io.StringIO(user_client.get(CSV, query).content.decode())))
    assert rows[0] == ["start", "turnover", "orders", "partial"]
    assert [(start, partial == "true") for start, _, _, partial in rows[1:]] == points
    whole = user_client.get(URL, {"start": "2023-01-01", "end": "2026-03-31"}).json()
    assert not any(partial for _, partial in partial_of(whole))


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_days_are_never_partial(user_client):
    insert_orders(every_day(D(2026, 1, 1), D(2026, 1, 31)))
    body = user_client.get(URL, {"start": "2026-01-03", "end": "2026-01-20"}).json()
    assert body["bucket"] == "day"
    assert not any(partial for _, partial in partial_of(body))


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_without_javascript_the_table_says_partial(user_client):
    insert_orders(every_day(D(2025, 1, 1), D(2025, 12, 31)))
    page = user_client.get("/", {"start": "2025-03-05", "end": "2025-09-30"}).content.decode()
    assert page.count('<span class="partial-mark"> (partial)</span>') == 2


TREND_PARTIAL = """
() => {
  const chart = Chart.getChart(document.getElementById("chart-trend"));
  const [line, bars] = chart.data.datasets;
  return {
    pointFill: line.pointBackgroundColor,
    barFill: bars.backgroundColor,
    firstSegmentDash: line.segment.borderDash({p0DataIndex: 0, p1DataIndex: 1}) || null,
    middleSegmentDash: line.segment.borderDash({p0DataIndex: 5, p1DataIndex: 6}) || null,
    note: !document.querySelector("#trend .trend-note").hidden,
    noteText: document.querySelector("#trend .trend-note").textContent,
    marked: [...document.querySelectorAll("#trend tbody tr")].map((row) =>
      Boolean(row.querySelector(".partial-mark"))),
  };
}
"""


@pytest.mark.browser
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_the_chart_draws_partial_weeks_as_partial(live_server, empty_orders):
    User.objects.create_user("analyst", password=PASSWORD)
    insert_orders(every_day(D(2025, 1, 1), D(2025, 12, 31)))
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.goto(live_server.url + "/?start=2025-03-05&end=2025-09-30")
        wait_until(page, "Chart.getChart(document.getElementById('chart-trend'))")
        wait_until(page, "document.getElementById('trend').getAttribute('aria-busy') === 'false'")
        state = page.evaluate(TREND_PARTIAL)
        assert watch.console_errors == []
    count = len(state["marked"])
    assert state["marked"] == [True] + [False] * (count - 2) + [True]
    fills = state["pointFill"]
    assert fills[0] == fills[-1] != fills[1]  # hollow at both ends
    bars = state["barFill"]
    assert bars[0] == bars[-1] != bars[1]  # lighter at both ends
    assert state["firstSegmentDash"] == [6, 4] and state["middleSegmentDash"] is None
    assert state["note"] and "week the range covers only in part" in state["noteText"]
