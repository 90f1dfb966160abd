"""The page with bad filters (issue 20, point 3): the error message, the date presets and the
form, and no script error, in a real Chromium; a preset then leads back to the figures."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.support.browser import browser_page, wait_until
from tests.support.orders import insert_orders
from tests.web.test_browser_dashboard import CHARTS_READY, PASSWORD, log_in

BAD = "/?start=2024-13-45&state=XX"


@pytest.mark.django_db(databases=["default", "olap", "catalog"])
def test_the_server_renders_presets_and_form_with_the_error(user_client):
    response = user_client.get(BAD)
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters can&#x27;t be used" in html or "These filters can't be used" in html
    for label in ("Last 7 days", "Last 30 days", "Last 90 days", "All time"):
        assert label in html, label
    assert 'aria-current="true"' not in html  # no preset is the current view
    assert '<form class="filters"' in html and '<option value="CA"' in html


@pytest.mark.browser
@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_bad_filters_show_the_error_presets_and_form_without_a_script_error(live_server, empty_orders):
    User.objects.create_user("analyst", password=PASSWORD)
    insert_orders([(1, 1, 2, Decimal("10.00"), timezone.localdate() - datetime.timedelta(days=2), "CA")])
    with browser_page() as (page, _):
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        log_in(page, live_server)
        page.goto(live_server.url + BAD)
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)  # the deferred script has run
        assert script_errors == []
        alert = page.get_by_role("alert")
        assert "These filters can't be used" in alert.inner_text()
        presets = page.get_by_role("navigation", name="Date presets").get_by_role("link")
        assert presets.all_inner_texts() == ["Last 7 days", "Last 30 days", "Last 90 days", "All time"]
        assert page.locator("form.filters").is_visible()
        assert page.get_by_label("State").is_visible()
        page.get_by_role("link", name="Last 7 days").click()
        page.wait_for_url("**/?start=*")
        wait_until(page, CHARTS_READY)
        assert page.locator('[data-figure="orders"]').inner_text() == "1"
        assert script_errors == []
