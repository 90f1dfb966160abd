"""What a new user found missing on the page and in the admin (issue 20, point 7): a drilled
state's card is a strip, not a mostly empty card; the catalog's branch control says what it
does; without JavaScript the chart spaces give way to the tables; the admin's sidebar has the
order browser on every page."""

import datetime
import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from playwright.sync_api import sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, browser_page, wait_until
from tests.support.orders import insert_orders
from tests.web.test_browser_dashboard import CHARTS_READY, DESKTOP, PASSWORD, log_in


def sample_rows():
    rng = random.Random(20)
    rows = []
    for orderid in range(1, 120):
        day = timezone.localdate() - datetime.timedelta(days=rng.randint(1, 60))
        state = rng.choice(["CA", "TX", "NY", "WA", "OR", "NV"])
        for itemid in rng.sample(range(1, 9), rng.randint(1, 3)):
            rows.append(
                (orderid, itemid, rng.randint(1, 9), Decimal(rng.randint(100, 50_000)) / 100, day, state)
            )
    return rows


# --- the server's page and admin --------------------------------------------------------------


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_the_branch_control_is_explained(user_client):
    html = user_client.get("/").content.decode()
    assert 'aria-describedby="catalog-branch-help"' in html
    assert 'id="catalog-branch-help"' in html
    help_text = html.split('id="catalog-branch-help">', 1)[1].split("</small>", 1)[0]
    assert "version control" in help_text and "Only your session" in help_text


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_the_drilled_states_card_is_marked_as_a_strip(user_client):
    insert_orders(sample_rows())
    drilled = user_client.get("/", {"state": "CA"}).content.decode()
    assert '<section class="chart-card drilled" data-ranking="states_by_turnover"' in drilled
    unfiltered = user_client.get("/").content.decode()
    assert "chart-card drilled" not in unfiltered


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
@pytest.mark.parametrize(
    "page", ["/admin/auth/user/", "/admin/dashboard/item/", "/admin/dashboard/branch/", "/admin/orders/"]
)
def test_the_admin_sidebar_links_the_order_browser(admin_client, page):
    response = admin_client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    sidebar = html.split('id="nav-sidebar"', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/admin/orders/"' in sidebar and ">Orders</a>" in sidebar


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_the_sidebar_offers_the_orders_only_to_who_may_see_them(client):
    staff = User.objects.create_user("staff", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(staff)
    sidebar = client.get("/admin/auth/user/").content.decode().split('id="nav-sidebar"', 1)[1]
    assert "/admin/orders/" not in sidebar.split("</nav>", 1)[0]
    staff.user_permissions.add(
        Permission.objects.get(codename="view_order", content_type__app_label="dashboard")
    )
    staff = User.objects.get(pk=staff.pk)  # permissions are cached per object
    client.force_login(staff)
    sidebar = client.get("/admin/auth/user/").content.decode().split('id="nav-sidebar"', 1)[1]
    assert "/admin/orders/" in sidebar.split("</nav>", 1)[0]


# --- in Chromium --------------------------------------------------------------------------------

# How much of each card is empty: its height less its visible children's and their gaps.
EMPTY_SPACE = """
() => Object.fromEntries([...document.querySelectorAll(".chart-card")].map((card) => {
  const style = getComputedStyle(card);
  let used = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
  for (const child of card.children) {
    if (child.offsetParent === null) continue;
    const box = getComputedStyle(child);
    used += child.getBoundingClientRect().height + parseFloat(box.marginTop) + parseFloat(box.marginBottom);
  }
  return [card.dataset.ranking, card.getBoundingClientRect().height - used];
}))
"""


@pytest.mark.browser
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_a_drilled_state_leaves_no_card_mostly_empty(live_server, empty_orders):
    User.objects.create_user("analyst", password=PASSWORD)
    insert_orders(sample_rows())
    with browser_page(viewport=DESKTOP) as (page, watch):
        log_in(page, live_server)
        page.goto(live_server.url + "/?state=CA")
        wait_until(page, CHARTS_READY)
        wait_until(page, "!document.getElementById('state-place').hidden")
        empty = page.evaluate(EMPTY_SPACE)
        card = page.locator('[data-ranking="states_by_turnover"]').bounding_box()
        other = page.locator('[data-ranking="items_by_turnover"]').bounding_box()
        assert watch.console_errors == []
    assert empty["states_by_turnover"] < 40, empty
    assert card["width"] > 1.5 * other["width"]  # across the grid
    assert max(empty.values()) < 40, empty  # nor any other card


@pytest.mark.browser
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_without_javascript_the_tables_show_and_no_blank_chart_space(live_server, empty_orders):
    User.objects.create_user("analyst", password=PASSWORD)
    insert_orders(sample_rows())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport=DESKTOP, java_script_enabled=False).new_page()
            page.goto(live_server.url + "/")
            page.get_by_label("Username").fill("analyst")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(live_server.url + "/")
            boxes = page.locator(".chart-box, .trend-box")
            assert boxes.count() == 5
            for index in range(5):
                assert boxes.nth(index).bounding_box() is None, index  # no blank space
            tables = page.locator(".chart-card table.data")
            assert tables.count() == 4
            for index in range(4):
                assert tables.nth(index).is_visible()
            assert page.locator("#trend table.data").is_visible()
            assert page.locator("#trend table.data tbody tr").count() > 0
        finally:
            browser.close()
    # And with JavaScript the charts are drawn in them as before.
    with browser_page(viewport=DESKTOP) as (page, _):
        log_in(page, live_server)
        wait_until(page, CHARTS_READY)
        assert page.locator(".chart-box:visible").count() == 4
        assert page.locator(".trend-box:visible").count() == 1
