"""The trend, the comparison with the period just before and the ranks' movement, as a
person sees them in headless Chromium."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from dashboard.catalog.models import Item
from tests.support import ROOT
from tests.support.browser import browser_page, wait_until
from tests.support.orders import insert_orders, insert_orders_as_another_client
from tests.web.test_browser_dashboard import CHARTS_READY, DESKTOP, PASSWORD, PHONE, log_in

ARTIFACTS = ROOT / "test-artifacts"
MINUS = "\u2212"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]


def today():
    return timezone.localdate()


def ago(days):
    return today() - datetime.timedelta(days=days)


def rows():
    """The last 30 days (today-29 to today) against the 30 before (today-59 to today-30)."""
    return [
        # the previous 30 days: Texas leads, then California
        (1, 1, 4, Decimal("50.00"), ago(40), "TX"),
        (2, 2, 1, Decimal("100.00"), ago(35), "CA"),
        # the last 30 days: California leads, Washington is new, Texas falls to third
        (10, 2, 3, Decimal("100.00"), ago(10), "CA"),
        (11, 1, 1, Decimal("50.00"), ago(5), "TX"),
        (12, 3, 2, Decimal("40.00"), ago(1), "WA"),
        # long ago: only all time sees it
        (20, 4, 2, Decimal("10.00"), ago(200), "NY"),
    ]


@pytest.fixture
def orders():
    inserted = rows()
    insert_orders(inserted)
    Item.objects.bulk_create([Item(itemid=n, name=f"Sample item {n}") for n in range(1, 5)])
    return inserted


@pytest.fixture
def analyst():
    return User.objects.create_user("analyst", password=PASSWORD)


TREND_READY = "document.getElementById('trend').getAttribute('aria-busy') === 'false'"

# The trend's canvas: how many pixels Chart.js painted (0 when its box is hidden), and what
# its table (start, turnover, orders per row) and its axis title say.
TREND_STATE = """
() => {
  const canvas = document.getElementById("chart-trend");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  const chart = Chart.getChart(canvas);
  return {
    painted: document.querySelector("#trend .trend-box").hidden ? 0 : painted,
    heading: document.getElementById("title-trend").textContent,
    axis: chart ? chart.options.scales.y.title.text : null,
    rows: [...document.querySelectorAll("#trend tbody tr")].map((row) =>
      [...row.children].map((cell) => cell.textContent)),
  };
}
"""

# Hover the turnover point of the bucket starting `start`; what the tooltip then shows.
POINT_POSITION = """
(start) => {
  const chart = Chart.getChart(document.getElementById("chart-trend"));
  const point = chart.getDatasetMeta(0).data[chart.data.labels.indexOf(start)];
  return { x: point.x, y: point.y };
}
"""
TOOLTIP = """
() => {
  const tooltip = Chart.getChart(document.getElementById("chart-trend")).tooltip;
  const lines = tooltip.body.map((part) => part.lines).flat();
  return { opacity: tooltip.opacity, title: tooltip.title, lines: lines };
}
"""

# Each headline comparison: its visible text and its tooltip, or null when it is not shown.
DELTAS = """
() => Object.fromEntries([...document.querySelectorAll("#headline [data-delta]")].map((delta) => [
  delta.dataset.delta, delta.hidden ? null : { text: delta.innerText, title: delta.title },
]))
"""

# The states table: (rank, state, movement shown, movement read aloud) per row.
STATE_ROWS = """
() => [...document.querySelectorAll('.chart-card[data-ranking="states_by_turnover"] tbody tr')].map((row) => {
  const move = row.querySelector("td.move");
  return [row.cells[0].textContent, row.querySelector("th").textContent,
          move ? move.querySelector("[aria-hidden]").textContent : null,
          move ? move.querySelector(".visually-hidden").textContent : null];
})
"""


def money(amount):
    return f"${amount:,.2f}"


def percent(now, before):
    """By hand: the change in percent, to a tenth, with its sign."""
    change = ((now - before) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"+{change}%" if change > 0 else f"{MINUS}{-change}%"


def within(inserted, first, last):
    return [row for row in inserted if first <= row[4] <= last]


def test_a_preset_paints_the_trend_compares_and_moves(live_server, analyst, orders, empty_orders):
    current, before = within(orders, ago(29), today()), within(orders, ago(59), ago(30))
    turnover_now = sum(row[2] * row[3] for row in current)  # 300 + 50 + 80 = 430.00
    turnover_before = sum(row[2] * row[3] for row in before)  # 200 + 100 = 300.00
    aov_now = (turnover_now / 3).quantize(Decimal("0.01"))  # 143.33
    aov_before = (turnover_before / 2).quantize(Decimal("0.01"))  # 150.00
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(viewport=DESKTOP) as (page, watch):
        log_in(page, live_server)
        all_time = page.evaluate(DELTAS)
        all_time_rows = page.evaluate(STATE_ROWS)

        page.get_by_role("link", name="Last 30 days").click()
        page.wait_for_url(f"**/?start={ago(29).isoformat()}&end={today().isoformat()}")
        wait_until(page, CHARTS_READY)
        wait_until(page, TREND_READY)
        trend = page.evaluate(TREND_STATE)
        deltas = page.evaluate(DELTAS)
        state_rows = page.evaluate(STATE_ROWS)
        csv_href = page.locator("#trend a.csv").get_attribute("href")
        page.locator("#chart-trend").hover(position=page.evaluate(POINT_POSITION, ago(10).isoformat()))
        page.wait_for_timeout(200)
        tooltip = page.evaluate(TOOLTIP)
        page.locator("#trend").screenshot(path=ARTIFACTS / "trend-desktop.png")

    # All time has nothing before it: no comparison, no movement.
    assert all_time == {"turnover": None, "orders": None, "lines": None, "average_order_value": None}
    assert all(row[2] is None for row in all_time_rows)

    assert trend["painted"] > 1000, trend  # a line, bars and axes, not a blank canvas
    assert trend["heading"] == "Turnover and orders per day"
    assert trend["axis"] == "Turnover per day"
    assert len(trend["rows"]) == 30  # every day of the range, zeros included
    assert trend["rows"][0] == [ago(29).isoformat(), "$0.00", "0"]
    assert [ago(10).isoformat(), "$300.00", "1"] in trend["rows"]
    assert csv_href == f"/api/trend.csv?start={ago(29).isoformat()}&end={today().isoformat()}"
    assert tooltip["opacity"] > 0
    assert tooltip["lines"] == ["Turnover: $300.00", "Orders: 1"]
    assert str(ago(10).day) in tooltip["title"][0] and str(ago(10).year) in tooltip["title"][0]

    period = "vs the previous 30 days"
    assert deltas["turnover"]["text"] == f"▲ {percent(turnover_now, turnover_before)} {period}"
    assert deltas["turnover"]["text"] == f"▲ +43.3% {period}"
    assert deltas["turnover"]["title"] == (
        f"The previous 30 days ({ago(59).isoformat()} to {ago(30).isoformat()}): {money(turnover_before)}"
    )
    assert deltas["orders"]["text"] == f"▲ {percent(Decimal(3), Decimal(2))} {period}"
    assert deltas["lines"]["text"] == f"▲ +50.0% {period}"
    assert deltas["average_order_value"]["text"] == f"▼ {percent(aov_now, aov_before)} {period}"
    assert deltas["average_order_value"]["title"].endswith(money(aov_before))

    assert state_rows == [
        ["1", "California", "▲ 1", "up 1 place"],
        ["2", "Washington", "new", "new: not ranked in the previous 30 days"],
        ["3", "Texas", "▼ 2", "down 2 places"],
    ]
    assert watch.console_errors == []
    assert watch.outside_requests == []


def test_a_state_paints_its_own_trend(live_server, analyst, orders, empty_orders):
    texas = [row for row in orders if row[5] == "TX"]
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.select_option("select[name=state]", "TX")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**/?state=TX")
        wait_until(page, CHARTS_READY)
        wait_until(page, TREND_READY)
        trend = page.evaluate(TREND_STATE)
        deltas = page.evaluate(DELTAS)

    assert trend["painted"] > 1000, trend
    # All time in Texas: from its first order (40 days ago) to today, by day.
    assert trend["rows"][0] == [ago(40).isoformat(), "$200.00", "1"]
    assert len(trend["rows"]) == 41
    shown = [Decimal(row[1].strip("$").replace(",", "")) for row in trend["rows"]]
    assert sum(shown) == sum(row[2] * row[3] for row in texas)
    assert all(delta is None for delta in deltas.values())
    assert watch.console_errors == []


def test_a_range_with_nothing_before_it_says_new(live_server, analyst, orders, empty_orders):
    start, end = ago(45), ago(30)  # 16 days; the 16 before hold no orders
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.fill("input[name=start]", start.isoformat())
        page.fill("input[name=end]", end.isoformat())
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(f"**/?start={start.isoformat()}&end={end.isoformat()}")
        wait_until(page, CHARTS_READY)
        wait_until(page, TREND_READY)
        deltas = page.evaluate(DELTAS)
        state_rows = page.evaluate(STATE_ROWS)
        trend = page.evaluate(TREND_STATE)

    assert deltas["turnover"]["text"] == "▲ new: none in the previous 16 days"
    assert deltas["turnover"]["title"].endswith(": $0.00")
    assert deltas["average_order_value"]["title"].endswith(": no orders")
    assert state_rows == [
        ["1", "Texas", "new", "new: not ranked in the previous 16 days"],
        ["2", "California", "new", "new: not ranked in the previous 16 days"],
    ]
    assert trend["painted"] > 1000
    assert len(trend["rows"]) == 16
    assert watch.console_errors == []


def test_a_range_with_no_orders_shows_the_empty_trend(live_server, analyst, orders, empty_orders):
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.fill("input[name=start]", ago(3000).isoformat())
        page.fill("input[name=end]", ago(2990).isoformat())
        page.get_by_role("button", name="Apply").click()
        wait_until(page, TREND_READY)
        message = page.locator('#trend [data-trend-state="empty"]').inner_text()
        chart_hidden = page.locator("#trend .trend-box").is_hidden()
    assert message == "No orders to plot in this range."
    assert chart_hidden
    assert watch.console_errors == []


def test_an_order_committed_meanwhile_reaches_the_trend(live_server, analyst, orders, empty_orders, settings):
    settings.LIVE_REFRESH_SECONDS = 1
    last_row = "document.querySelector('#trend tbody tr:last-child').textContent"
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.get_by_role("link", name="Last 7 days").click()
        wait_until(page, TREND_READY)
        before = page.evaluate(last_row)
        insert_orders_as_another_client([(9000, 1, 2, Decimal("12.34"), today(), "ME")])
        wait_until(page, f"{last_row} !== {before!r}", timeout=15)
        after = page.evaluate(last_row)
    assert before == f"{today().isoformat()}$0.000"
    assert after == f"{today().isoformat()}$24.681"
    assert watch.console_errors == []


@pytest.mark.parametrize(
    ("name", "viewport", "scheme"),
    [("trend-phone", PHONE, "light"), ("trend-dark", DESKTOP, "dark")],
)
def test_the_trend_at_phone_width_and_in_the_dark(
    live_server, analyst, orders, empty_orders, name, viewport, scheme
):
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(viewport=viewport, color_scheme=scheme) as (page, watch):
        log_in(page, live_server)
        page.get_by_role("link", name="Last 90 days").click()
        wait_until(page, TREND_READY)
        trend = page.evaluate(TREND_STATE)
        deltas = page.evaluate(DELTAS)
        box = page.locator("#trend").bounding_box()
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        card = page.evaluate("getComputedStyle(document.getElementById('trend')).backgroundColor")
        page.locator("#trend").screenshot(path=ARTIFACTS / f"{name}.png")
        page.locator("#headline").screenshot(path=ARTIFACTS / f"{name}-headline.png")

    assert trend["painted"] > 1000, trend
    assert len(trend["rows"]) == 90
    # No orders 90 to 179 days ago: every figure is new against nothing.
    assert deltas["turnover"]["text"] == "▲ new: none in the previous 90 days"
    assert box["width"] <= viewport["width"]
    assert scroll_width <= viewport["width"]
    assert card == {"light": "rgb(255, 255, 255)", "dark": "rgb(30, 41, 59)"}[scheme]
    assert watch.console_errors == []
