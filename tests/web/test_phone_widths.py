"""Phones, 360 and 390 px wide, in a real Chromium (issue 20, point 4): nothing is wider than
the screen, on the dashboard with a range of both ends (its tables then have a Change column)
and in the admin's order browser. The rankings' tables fit their cards whole, Change column
included; on a narrower screen a table still scrolls inside its card."""

import datetime
import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.support.browser import browser_page, wait_until
from tests.support.orders import insert_orders
from tests.web.test_browser_dashboard import CHARTS_READY, PASSWORD, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True),
]

WIDTHS = [360, 390]
# Long state names, so the states table is as wide as it gets.
STATES = ["MA", "NH", "DC", "NC", "SC", "CA", "PA", "WV"]

# Whatever sticks out: the page wider than the screen, and any element reaching past its right edge.
OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    const scrolled = element.parentElement && element.parentElement.closest(".scroll-x, .results");
    if (box.width === 0 || scrolled) continue;
    const name = `${element.tagName.toLowerCase()}.${element.className}`;
    if (box.right > width + 0.5) out.push(`${name} ${Math.round(box.right)}`);
  }
  return { page: document.documentElement.scrollWidth, screen: width, out: out.slice(0, 10) };
}
"""

# The rankings' tables that scroll sideways inside their cards: [ranking, table width, room].
TABLES_SCROLLED = """
() => [...document.querySelectorAll(".chart-card .scroll-x")]
  .filter((box) => box.scrollWidth > box.clientWidth)
  .map((box) => [box.closest(".chart-card").dataset.ranking, box.scrollWidth, box.clientWidth])
"""


def rows():
    rng = random.Random(4)
    today = timezone.localdate()
    result = []
    for orderid in range(1, 200):
        day = today - datetime.timedelta(days=rng.randint(0, 59))
        for itemid in rng.sample(range(1, 9), rng.randint(1, 3)):
            price = Decimal(rng.randint(100, 9_999_999)) / 100
            result.append((orderid, itemid, rng.randint(1, 99), price, day, rng.choice(STATES)))
    return result


@pytest.mark.parametrize("width", WIDTHS)
def test_the_dashboard_with_a_range_of_both_ends_fits_a_phone(live_server, empty_orders, width):
    User.objects.create_user("analyst", password=PASSWORD)
    insert_orders(rows())
    today = timezone.localdate()
    start = today - datetime.timedelta(days=29)
    with browser_page(viewport={"width": width, "height": 800}) as (page, watch):
        log_in(page, live_server)
        page.goto(f"{live_server.url}/?start={start}&end={today}")
        wait_until(page, CHARTS_READY)
        wait_until(page, "!document.querySelector('.chart-card th.move').hidden")  # the Change column
        found = page.evaluate(OVERFLOW)
        assert found["page"] <= found["screen"], found
        assert found["out"] == [], found
        # Each ranking's table fits its card whole, its Change column included: a table
        # scrolled sideways hides that column past the card's edge, with nothing to say so.
        assert page.evaluate(TABLES_SCROLLED) == [], "tables wider than their cards"
        card = page.locator('[data-ranking="states_by_turnover"]')
        card_box = card.bounding_box()
        table_box = card.locator("table.data").bounding_box()
        assert card_box["x"] + card_box["width"] <= width
        assert table_box["x"] >= card_box["x"]
        assert watch.console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_admin_order_browser_fits_a_phone(live_server, empty_orders, width):
    User.objects.create_superuser("boss", password=PASSWORD)
    insert_orders(rows())
    with browser_page(viewport={"width": width, "height": 800}) as (page, _):
        page.goto(live_server.url + "/admin/login/?next=/admin/orders/")
        page.get_by_label("Username").fill("boss")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_server.url + "/admin/orders/")
        assert page.locator("#result_list tbody tr").count() > 10
        found = page.evaluate(OVERFLOW)
        assert found["page"] <= found["screen"], found
        assert found["out"] == [], found
