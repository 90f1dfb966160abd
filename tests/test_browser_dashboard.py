import datetime
import random
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from dashboard.models import Item
from tests.browser import browser_page
from tests.orders import insert_orders

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "a long test password"

# How many pixels of each canvas Chart.js painted, and how many bars it drew.
CHART_STATE = """
() => [...document.querySelectorAll("canvas[data-ranking]")].map((canvas) => {
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  const chart = Chart.getChart(canvas);
  return {name: canvas.dataset.ranking, painted, bars: chart ? chart.data.datasets[0].data.length : 0};
})
"""


@pytest.fixture
def sample_orders():
    rng = random.Random(11)
    day = datetime.date(2026, 5, 1)
    rows = []
    for orderid in range(1, 200):
        state = rng.choice(["CA", "TX", "NY", "FL", "WA", "IL", "OH"])
        for itemid in rng.sample(range(1, 12), rng.randint(1, 4)):
            price = Decimal(rng.randint(100, 50_000)) / 100
            rows.append((orderid, itemid, rng.randint(1, 9), price, day, state))
    insert_orders(rows)
    Item.objects.bulk_create([Item(itemid=n, name=f"Sample item {n}") for n in range(1, 12)])


@pytest.mark.django_db(databases=["default", "olap"], transaction=True)
def test_log_in_and_see_four_charts_drawn(live_server, sample_orders, empty_orders):
    User.objects.create_user("analyst", password=PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)

    with browser_page() as (page, watch):
        page.goto(live_server.url + "/")
        assert page.url.startswith(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill("analyst")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_server.url + "/")
        page.wait_for_function("document.querySelectorAll('canvas[data-ranking]').length === 4")
        page.wait_for_function("[...document.querySelectorAll('canvas')].every((c) => Chart.getChart(c))")
        charts = page.evaluate(CHART_STATE)
        page.screenshot(path=ARTIFACTS / "dashboard-desktop.png", full_page=True)
        heading = page.get_by_role("heading", level=1).text_content()

    assert heading == "Top 5 rankings"
    assert [chart["name"] for chart in charts] == [
        "states_by_turnover",
        "items_by_avg_qty",
        "items_by_total_qty",
        "items_by_turnover",
    ]
    for chart in charts:
        assert chart["bars"] == 5, chart
        assert chart["painted"] > 1000, chart  # bars, axes and labels, not a blank canvas
    assert watch.console_errors == []
    assert watch.outside_requests == []
