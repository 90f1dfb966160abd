"""The dashboard as a person uses it, in headless Chromium."""

import csv
import datetime
import io
import json
import random
import time
from contextlib import contextmanager
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import sync_playwright

from dashboard.catalog.models import Item
from tests.support import ROOT
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, LOCAL_HOSTS, PageWatch, browser_page, wait_until
from tests.support.orders import another_client, insert_orders, insert_orders_as_another_client

ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "a long test password"
NAMES = ["states_by_turnover", "items_by_avg_qty", "items_by_total_qty", "items_by_turnover"]

# For each chart: the ranking, how many pixels Chart.js painted, and the bars' labels.
CHART_STATE = """
() => [...document.querySelectorAll(".chart-card")].map((card) => {
  const canvas = card.querySelector("canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  const chart = Chart.getChart(canvas);
  return {
    name: card.dataset.ranking,
    painted: card.querySelector(".chart-box").hidden ? 0 : painted,
    labels: chart ? chart.data.labels : [],
  };
})
"""
CHARTS_READY = (
    "[...document.querySelectorAll('.chart-card')].every((c) => c.getAttribute('aria-busy') === 'false')"
)


def today():
    return timezone.localdate()


@pytest.fixture
def orders():
    """Old orders in CA/TX/NY; this week's orders only in WA and OR, from other items."""
    rng = random.Random(11)
    rows = []
    for orderid in range(1, 150):
        day = today() - datetime.timedelta(days=rng.randint(30, 300))
        state = rng.choice(["CA", "TX", "NY"])
        for itemid in rng.sample(range(1, 8), rng.randint(1, 3)):
            rows.append(
                (orderid, itemid, rng.randint(1, 9), Decimal(rng.randint(100, 50_000)) / 100, day, state)
            )
    for orderid in range(500, 530):
        day = today() - datetime.timedelta(days=rng.randint(0, 6))
        for itemid in rng.sample(range(20, 27), 2):
            rows.append(
                (
                    orderid,
                    itemid,
                    rng.randint(1, 9),
                    Decimal(rng.randint(100, 9_000)) / 100,
                    day,
                    rng.choice(["WA", "OR"]),
                )
            )
    insert_orders(rows)
    Item.objects.bulk_create([Item(itemid=n, name=f"Sample item {n}") for n in range(1, 30)])
    return rows


def log_in(page, live_server):
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("analyst")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")
    wait_until(page, "[...document.querySelectorAll('canvas')].every((c) => Chart.getChart(c))")


def state_labels(page):
    return next(
        chart["labels"] for chart in page.evaluate(CHART_STATE) if chart["name"] == "states_by_turnover"
    )


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]


# No ORM call may happen inside a browser_page() block: Playwright runs an event loop in
# this thread, where Django would refuse it (or, allowed, open a connection nobody closes).
@pytest.fixture
def analyst():
    return User.objects.create_user("analyst", password=PASSWORD)


DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("device", "viewport", "scheme"),
    [("desktop", DESKTOP, "light"), ("phone", PHONE, "light"), ("desktop-dark", DESKTOP, "dark")],
)
def test_log_in_and_see_four_charts_drawn(
    live_server, analyst, orders, empty_orders, device, viewport, scheme
):
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(viewport=viewport, color_scheme=scheme) as (page, watch):
        log_in(page, live_server)
        charts = page.evaluate(CHART_STATE)
        page.screenshot(path=ARTIFACTS / f"dashboard-{device}.png", full_page=True)
        heading = page.get_by_role("heading", level=1).text_content()
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")

    assert heading == "Top 5 rankings"
    assert [chart["name"] for chart in charts] == NAMES
    for chart in charts:
        assert len(chart["labels"]) == 5, chart
        assert chart["painted"] > 1000, chart  # bars, axes and labels, not a blank canvas
    assert scroll_width <= viewport["width"]  # nothing forces sideways scrolling
    assert background == {"light": "rgb(248, 250, 252)", "dark": "rgb(15, 23, 42)"}[scheme]
    assert watch.console_errors == []
    assert watch.outside_requests == []


def test_presets_and_custom_range_change_charts_and_url_and_back_restores(
    live_server, analyst, orders, empty_orders
):
    week_start = (today() - datetime.timedelta(days=6)).isoformat()
    with browser_page() as (page, watch):
        log_in(page, live_server)
        all_time = state_labels(page)

        page.get_by_role("link", name="Last 7 days").click()
        page.wait_for_url(f"**/?start={week_start}&end={today().isoformat()}")
        wait_until(page, CHARTS_READY)
        week = state_labels(page)
        assert page.get_by_role("link", name="Last 7 days").get_attribute("aria-current") == "true"
        assert page.input_value("input[name=start]") == week_start

        far_past = (today() - datetime.timedelta(days=3000)).isoformat()
        page.fill("input[name=start]", far_past)
        page.fill("input[name=end]", (today() - datetime.timedelta(days=2900)).isoformat())
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(f"**/?start={far_past}&end=*")
        wait_until(page, CHARTS_READY)
        empty_messages = page.locator('[data-state="empty"]:visible').all_text_contents()

        page.go_back()
        page.wait_for_url(f"**/?start={week_start}&end={today().isoformat()}")
        wait_until(page, CHARTS_READY)
        back_to_week = state_labels(page)
        page.go_back()
        wait_until(page, CHARTS_READY)
        back_to_all = state_labels(page)
        final_url = page.url

    assert set(all_time) == {"California", "Texas", "New York", "Washington", "Oregon"}
    assert set(week) == {"Washington", "Oregon"}
    assert empty_messages == ["No orders in this range."] * 4
    assert back_to_week == week
    assert back_to_all == all_time
    assert final_url == live_server.url + "/"
    assert watch.console_errors == []
    assert watch.outside_requests == []


# Where Chart.js drew a bar: the middle of the bar for `label`, in the canvas's CSS pixels.
BAR_POSITION = """
([canvasId, label]) => {
  const chart = Chart.getChart(document.getElementById(canvasId));
  const bar = chart.getDatasetMeta(0).data[chart.data.labels.indexOf(label)];
  return { x: (bar.x + bar.base) / 2, y: bar.y };
}
"""


def headline_text(page):
    return {
        figure: page.locator(f'#headline [data-figure="{figure}"]').text_content()
        for figure in ("turnover", "orders", "lines", "average_order_value")
    }


def test_clicking_a_state_bar_filters_every_chart_and_the_headline(
    live_server, analyst, orders, empty_orders
):
    texas = [row for row in orders if row[5] == "TX"]
    turnover = sum(row[2] * row[3] for row in texas)
    order_count = len({row[0] for row in texas})
    week = {"start": (today() - datetime.timedelta(days=6)).isoformat(), "end": today().isoformat()}
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(viewport=DESKTOP) as (page, watch):
        log_in(page, live_server)
        position = page.evaluate(BAR_POSITION, ["chart-states_by_turnover", "Texas"])
        page.locator("#chart-states_by_turnover").click(position=position)
        page.wait_for_url("**/?state=TX")
        wait_until(page, CHARTS_READY)
        page.screenshot(path=ARTIFACTS / "dashboard-state-filter.png", full_page=True)
        states = state_labels(page)
        figures = headline_text(page)
        chip = page.locator("#clear-state").inner_text()
        selected = page.input_value("select[name=state]")
        scope = page.locator("#scope").text_content()

        # A preset keeps the state; Texas sold nothing this week.
        page.get_by_role("link", name="Last 7 days").click()
        page.wait_for_url(f"**/?start={week['start']}&end={week['end']}&state=TX")
        wait_until(page, CHARTS_READY)
        empty_messages = page.locator('[data-state="empty"]:visible').all_text_contents()

        # The chip clears the state, keeping the dates; by keyboard, a state in the table filters.
        page.locator("#clear-state").click()
        page.wait_for_url(f"**/?start={week['start']}&end={week['end']}")
        wait_until(page, CHARTS_READY)
        page.locator('.chart-card[data-ranking="states_by_turnover"] table a', has_text="Oregon").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/?start={week['start']}&end={week['end']}&state=OR")
        wait_until(page, CHARTS_READY)
        oregon = state_labels(page)

    assert states == ["Texas"]
    assert figures["turnover"] == f"${turnover:,.2f}"
    assert figures["orders"] == f"{order_count:,}"
    assert figures["lines"] == f"{len(texas):,}"
    assert figures["average_order_value"] == f"${(turnover / order_count).quantize(Decimal('0.01')):,.2f}"
    assert chip.startswith("State: Texas")
    assert selected == "TX"
    assert scope == "All orders in Texas"
    assert empty_messages == ["No orders in this range."] * 4
    assert oregon == ["Oregon"]
    assert watch.console_errors == []
    assert watch.outside_requests == []


def test_each_csv_equals_the_api(live_server, analyst, orders, empty_orders):
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.get_by_role("link", name="Last 30 days").click()
        wait_until(page, CHARTS_READY)
        query = page.url.split("?", 1)[1]
        api = json.loads(page.request.get(f"{live_server.url}/api/rankings/?{query}").text())
        exports = {}
        for name in NAMES:
            href = page.locator(f'.chart-card[data-ranking="{name}"] a.csv').get_attribute("href")
            assert href == f"/api/rankings/{name}.csv?{query}"
            exports[name] = list(csv.reader(io.StringIO(page.request.get(live_server.url + href).text())))

    for name in NAMES:
        expected = [["rank", "key", "label", "value"]] + [
            [str(rank), str(entry["key"]), entry["label"], str(entry["value"])]
            for rank, entry in enumerate(api["rankings"][name], 1)
        ]
        assert exports[name] == expected
        assert len(expected) > 1
    assert watch.outside_requests == []


def test_rows_inserted_meanwhile_appear_through_live_refresh(
    live_server, analyst, orders, empty_orders, settings
):
    settings.LIVE_REFRESH_SECONDS = 1
    with browser_page() as (page, watch):
        log_in(page, live_server)
        assert "Maine" not in state_labels(page)
        insert_orders_as_another_client([(9000, 1, 1, Decimal("99999999.00"), today(), "ME")])
        wait_until(
            page,
            "Chart.getChart(document.querySelector('#chart-states_by_turnover')).data.labels[0] === 'Maine'",
            timeout=15,
        )
        row = page.locator('.chart-card[data-ranking="states_by_turnover"] tbody tr').first.text_content()
        updated = page.text_content("#last-updated")

        page.uncheck("#live-refresh")
        insert_orders_as_another_client([(9001, 1, 1, Decimal("999999999.00"), today(), "VT")])
        page.wait_for_timeout(2500)
        still_maine = state_labels(page)[0]

    assert "Maine" in row and "$99,999,999.00" in row
    assert updated.startswith("Updated ")
    assert still_maine == "Maine"  # live refresh switched off: no update
    assert watch.console_errors == []


# The headline's order count, as the page shows it.
HEADLINE_ORDERS = "document.querySelector('#headline [data-figure=orders]').textContent"


@contextmanager
def browser_page_with_http_cache():
    """Yield (page, watch, the statuses of the API's answers as they came over the network).

    Unlike browser_page, nothing is routed: Playwright turns the browser's HTTP cache off for
    routed requests, and revalidating the cached API answer is what the page relies on here.
    Requests that would leave the machine are recorded, not blocked (tests serve Chart.js).
    """
    watch, api_requests, api_statuses = PageWatch(), set(), []

    def request(request):
        if urlsplit(request.url).hostname not in LOCAL_HOSTS:
            watch.outside_requests.append(request.url)

    # DevTools see a 304 as such; Playwright and the page see the cached 200 it revalidates.
    def sent(event):
        if "/api/rankings/" in event["request"]["url"]:
            api_requests.add(event["requestId"])

    def received(event):
        if event["requestId"] in api_requests:
            api_statuses.append(event["statusCode"])

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport=DESKTOP).new_page()
            page.on("request", request)
            # Script errors only: unrouted, Chromium logs its own notes of requests too.
            page.on("pageerror", lambda error: watch.console_errors.append(str(error)))
            devtools = page.context.new_cdp_session(page)
            devtools.send("Network.enable")
            devtools.on("Network.requestWillBeSent", sent)
            devtools.on("Network.responseReceivedExtraInfo", received)
            yield page, watch, api_statuses
        finally:
            browser.close()


def test_an_order_committed_elsewhere_shows_in_the_headline_within_3_seconds(
    live_server, analyst, orders, empty_orders, settings
):
    # Default settings, the short rankings cache on as in production (the tests turn it off).
    assert settings.LIVE_REFRESH_SECONDS == 1
    settings.RANKINGS_CACHE_SECONDS = 3
    cache.clear()
    # An order counts once per state and day it has lines in.
    order_count = len({(row[0], row[5], row[4]) for row in orders})
    try:
        with browser_page_with_http_cache() as (page, watch, api_statuses):
            log_in(page, live_server)
            before = page.evaluate(HEADLINE_ORDERS)
            # Polls of unchanged figures: the browser revalidates and the server answers 304
            # (until the time bucket of the cache rolls over, every 3 s).
            deadline = time.monotonic() + 8
            while 304 not in api_statuses and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            idle_statuses = list(api_statuses)
            insert_orders_as_another_client([(9100, 1, 1, Decimal("10.00"), today(), "ME")])
            committed = time.monotonic()
            while page.evaluate(HEADLINE_ORDERS) == before:
                assert time.monotonic() - committed < 10, "the order never showed"
                page.wait_for_timeout(20)
            seconds = time.monotonic() - committed
            after = page.evaluate(HEADLINE_ORDERS)
    finally:
        cache.clear()

    assert before == f"{order_count:,}"
    assert after == f"{order_count + 1:,}"
    assert seconds < 3, f"the order showed after {seconds:.2f} s"
    assert 304 in idle_statuses, idle_statuses  # the browser revalidated; nothing was recomputed
    assert watch.console_errors == []
    assert watch.outside_requests == []


def test_failures_show_an_error_state_and_the_page_recovers(
    live_server, analyst, orders, empty_orders, settings
):
    settings.LIVE_REFRESH_SECONDS = 1
    # The tables are renamed under the statements that read them; the rollups' mirror, which
    # hears of changes to their rows and not of DDL, would keep answering (a server that goes
    # down fails it too: tests/orders/test_mirror.py).
    settings.RANKINGS_MIRROR_CELLS = 0
    rollups = ("orders_state_total", "orders_state_day", "orders_state_span")
    with browser_page() as (page, watch):
        log_in(page, live_server)
        before = state_labels(page)
        with another_client() as cursor:  # the OLAP side loses the tables the API reads
            for table in rollups:
                cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
        try:
            wait_until(page, "document.getElementById('status').textContent.startsWith(\"Couldn't refresh\")")
            kept = state_labels(page)
            charts_still_shown = page.locator(".chart-box:visible").count()

            page.get_by_role("link", name="Last 7 days").click()
            wait_until(page, "document.querySelectorAll('[data-state=error]:not([hidden])').length === 4")
            load_error = page.text_content("#status")
        finally:
            with another_client() as cursor:
                for table in rollups:
                    cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")
        page.locator('.chart-card[data-ranking="items_by_turnover"] button.retry').click()
        wait_until(page, CHARTS_READY)
        wait_until(page, "document.querySelectorAll('.chart-box:not([hidden])').length === 4")
        recovered = state_labels(page)
        status_after = page.text_content("#status")

    assert kept == before  # a failed refresh keeps the last good figures on screen
    assert charts_still_shown == 4
    assert load_error.startswith("Couldn't load the rankings:")
    assert set(recovered) == {"Washington", "Oregon"}
    assert status_after == ""
    # The only console errors are the browser's own notes of the failed requests.
    assert all("status of 503" in error for error in watch.console_errors), watch.console_errors
    assert watch.outside_requests == []


def test_controls_work_by_keyboard(live_server, analyst, orders, empty_orders):
    week_start = (today() - datetime.timedelta(days=6)).isoformat()
    with browser_page() as (page, watch):
        log_in(page, live_server)
        page.focus("a.brand")
        focused = []
        for _ in range(8):
            page.keyboard.press("Tab")
            focused.append(
                page.evaluate("document.activeElement.textContent.trim() || document.activeElement.name")
            )
            if focused[-1] == "Last 7 days":
                break
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/?start={week_start}&end=*")
        wait_until(page, CHARTS_READY)
        week = state_labels(page)

        page.focus("#live-refresh")
        page.keyboard.press("Space")
        live_after_space = page.is_checked("#live-refresh")

    assert "Last 7 days" in focused
    assert set(week) == {"Washington", "Oregon"}
    assert live_after_space is False
    assert watch.console_errors == []


def test_admin_works_under_the_content_security_policy(live_server, empty_orders):
    User.objects.create_superuser("boss", password=PASSWORD)
    Item.objects.create(itemid=1, name="Teal Oak Mug")
    with browser_page() as (page, watch):
        page.goto(live_server.url + "/admin/")
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Items").click()
        page.get_by_role("link", name="1", exact=True).click()
        name = page.input_value("#id_name")
    assert name == "Teal Oak Mug"
    assert watch.console_errors == []
