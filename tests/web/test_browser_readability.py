"""Small things a new user stumbled on, checked in headless Chromium: figures that must not
break, names that must be readable whole, the chosen state's place, the site's icon."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from dashboard.catalog.models import Item
from tests.support.browser import browser_page, wait_until
from tests.support.orders import insert_orders
from tests.web.test_browser_dashboard import (
    ARTIFACTS,
    BAR_POSITION,
    CHART_STATE,
    CHARTS_READY,
    PASSWORD,
    log_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]

DAY = datetime.date(2026, 5, 4)
LONG_NAME = "Handwoven Extra Large Teal Oak Serving Tray with Brass Knobs"
SMALL_PHONE = {"width": 360, "height": 740}


@pytest.fixture
def analyst():
    return User.objects.create_user("analyst", password=PASSWORD)


@pytest.fixture
def big_orders(empty_orders):
    """$45,026,699.69 of turnover over five states, and an item with a 60-character name."""
    assert len(LONG_NAME) == 60
    insert_orders(
        [
            (1, 1, 1, Decimal("45000000.00"), DAY, "CA"),
            (2, 2, 1, Decimal("16000.00"), DAY, "NY"),
            (3, 3, 3, Decimal("3333.23"), DAY, "TX"),
            (4, 4, 2, Decimal("200.00"), DAY, "WA"),
            (5, 5, 1, Decimal("300.00"), DAY, "OR"),
        ]
    )
    Item.objects.bulk_create(
        [Item(itemid=1, name=LONG_NAME)] + [Item(itemid=n, name=f"Sample item {n}") for n in range(2, 6)]
    )


# For each headline figure: its text, on how many lines it is drawn, and whether it stays
# inside its card.
FIGURE_LAYOUT = """
() => [...document.querySelectorAll("#headline dd[data-figure]")].map((figure) => {
  const text = document.createRange();
  text.selectNodeContents(figure);
  const card = figure.parentElement.getBoundingClientRect();
  const drawn = text.getBoundingClientRect();
  return {
    text: figure.textContent,
    lines: new Set([...text.getClientRects()].map((rect) => Math.round(rect.top))).size,
    inside: drawn.left >= card.left - 0.5 && drawn.right <= card.right + 0.5,
  };
})
"""


def test_headline_figures_never_break_at_phone_width(live_server, analyst, big_orders):
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(viewport=SMALL_PHONE) as (page, watch):
        log_in(page, live_server)
        figures = page.evaluate(FIGURE_LAYOUT)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=ARTIFACTS / "dashboard-phone-360.png", full_page=True)
        page.locator("#headline").screenshot(path=ARTIFACTS / "headline-phone-360.png")

    assert figures[0]["text"] == "$45,026,699.69"
    for figure in figures:
        assert figure["lines"] == 1, figure
        assert figure["inside"], figure
    assert scroll_width <= SMALL_PHONE["width"]
    assert watch.console_errors == []


# The tooltip of the bar for `label` in chart `canvasId`: its title lines and its width,
# and the chart's width and the label its axis shows.
TOOLTIP = """
([canvasId, label]) => {
  const chart = Chart.getChart(document.getElementById(canvasId));
  const index = chart.data.labels.indexOf(label);
  return {
    visible: chart.tooltip.opacity > 0,
    title: chart.tooltip.title,
    tooltipWidth: chart.tooltip.width,
    chartWidth: chart.width,
    tick: chart.scales.y.ticks[index].label,
  };
}
"""


@pytest.mark.parametrize("viewport", [SMALL_PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_a_long_item_name_is_whole_in_the_tooltip(live_server, analyst, big_orders, viewport):
    chart = "chart-items_by_turnover"
    with browser_page(viewport=viewport) as (page, watch):
        log_in(page, live_server)
        page.locator(f"#{chart}").scroll_into_view_if_needed()
        position = page.evaluate(BAR_POSITION, [chart, LONG_NAME])
        page.locator(f"#{chart}").hover(position=position)
        wait_until(page, f"Chart.getChart(document.getElementById('{chart}')).tooltip.opacity > 0")
        tooltip = page.evaluate(TOOLTIP, [chart, LONG_NAME])
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(f"#{chart}").screenshot(path=ARTIFACTS / f"tooltip-long-name-{viewport['width']}.png")

    assert " ".join(tooltip["title"]) == LONG_NAME
    assert tooltip["tooltipWidth"] <= tooltip["chartWidth"]  # wrapped to fit the chart
    assert tooltip["tick"] != LONG_NAME and tooltip["tick"].endswith("\u2026")  # the axis keeps it short
    assert watch.console_errors == []


def states_chart(page):
    return next(chart for chart in page.evaluate(CHART_STATE) if chart["name"] == "states_by_turnover")


def test_a_chosen_state_shows_its_place_among_all_states(live_server, analyst, big_orders):
    card = '.chart-card[data-ranking="states_by_turnover"]'
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.locator(f"{card} table a", has_text="Texas").click()
        page.wait_for_url("**/?state=TX")
        wait_until(page, CHARTS_READY)
        sentence = page.locator("#state-place").inner_text()
        chart_hidden = page.locator(f"{card} .chart-box").is_hidden()
        rank_cell = page.locator(f"{card} tbody td").first.text_content()
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(card).screenshot(path=ARTIFACTS / "dashboard-state-place.png")

        page.get_by_role("link", name="All time").click()  # a preset keeps the state
        page.locator("#clear-state").click()
        page.wait_for_url(live_server.url + "/")
        wait_until(page, CHARTS_READY)
        cleared = page.locator("#state-place").is_hidden()
        after = states_chart(page)

        # Loaded with a state, the server draws the sentence; the script keeps it.
        page.goto(live_server.url + "/?state=OR")
        wait_until(page, CHARTS_READY)
        loaded = page.locator("#state-place").inner_text()
        page.locator("#clear-state").click()
        wait_until(page, CHARTS_READY)
        wait_until(page, "!document.querySelector('#chart-states_by_turnover').closest('.chart-box').hidden")
        page.wait_for_timeout(300)  # the chart, drawn while hidden, resizes to its box
        drawn_later = states_chart(page)

    assert sentence == "Texas ranks 3rd of 5 states by turnover over all time."
    assert chart_hidden
    assert rank_cell == "3"
    assert cleared
    assert after["painted"] > 1000 and len(after["labels"]) == 5
    assert loaded == "Oregon ranks 5th of 5 states by turnover over all time."
    assert drawn_later["painted"] > 1000 and len(drawn_later["labels"]) == 5
    assert watch.console_errors == []


def test_the_dashboard_and_the_admin_link_an_icon_that_loads(live_server, analyst, big_orders):
    # Headless Chromium fetches no icons by itself, so the test follows the links.
    icon_links = "[...document.querySelectorAll('link[rel=icon]')].map((link) => link.href)"
    with browser_page() as (page, watch):
        log_in(page, live_server)
        on_dashboard = page.evaluate(icon_links)
        page.goto(live_server.url + "/admin/login/")
        on_admin = page.evaluate(icon_links)
        icon = page.request.get(on_dashboard[0])
        status, kind = icon.status, icon.headers["content-type"]

    assert on_dashboard == on_admin == [live_server.url + "/static/dashboard/favicon.svg"]
    assert status == 200 and kind.startswith("image/svg+xml")
    assert watch.console_errors == []
