import datetime
import hashlib
import json
from base64 import b64encode
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.support import ROOT
from tests.support.orders import insert_orders

DAY = datetime.date(2026, 3, 10)

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])


URL = reverse("dashboard:index")


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_page_has_four_charts_each_with_a_data_table(user_client):
    insert_orders(
        [
            (1, 1, 2, Decimal("1234.50"), datetime.date(2026, 1, 1), "CA"),
            (2, 2, 1, Decimal("10.00"), datetime.date(2026, 1, 1), "TX"),
        ]
    )
    response = user_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("states_by_turnover", "items_by_avg_qty", "items_by_total_qty", "items_by_turnover"):
        assert f'<canvas id="chart-{name}"' in html
        assert f'href="/api/rankings/{name}.csv" data-base="/api/rankings/{name}.csv" download>CSV' in html
    assert html.count('role="img"') == 5  # the four rankings and the trend
    assert html.count('<table class="data">') == 4
    assert '<td class="num">$2,469.00</td>' in html  # California's turnover, to the cent
    assert 'aria-label="States by turnover: California $2,469.00; Texas $10.00"' in html

    embedded = json.loads(_embedded_json(html))
    california = {"key": "CA", "label": "California", "value": "2469.00", "previous_rank": None}
    assert embedded["rankings"]["states_by_turnover"][0] == california


def _embedded_json(html):
    opening = '<script id="rankings-data" type="application/json">'
    start = html.index(opening) + len(opening)
    return html[start : html.index("</script>", start)]


def test_empty_rankings_say_so(user_client):
    html = user_client.get(URL).content.decode()
    assert html.count("No orders yet.") == 4
    assert html.count('<div class="chart-box" hidden>') == 4


def test_chartjs_is_loaded_with_its_integrity_hash(user_client):
    html = user_client.get(URL).content.decode()
    tag = f'<script src="{settings.CHARTJS_URL}" integrity="{settings.CHARTJS_INTEGRITY}"'
    assert f'{tag} crossorigin="anonymous"' in html


def test_pinned_chartjs_hash_matches_the_self_hosted_file():
    # The CDN and the self-hosted copy are the same npm file, so one hash covers both.
    served = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
    digest = b64encode(hashlib.sha384(served.read_bytes()).digest()).decode()
    assert f"sha384-{digest}" == settings.CHARTJS_INTEGRITY
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"]["chart.js"] == settings.CHARTJS_VERSION


def test_date_filter_narrows_the_page_and_keeps_the_form_values(user_client):
    insert_orders(
        [
            (1, 1, 1, Decimal("5.00"), datetime.date(2026, 1, 1), "CA"),
            (2, 1, 1, Decimal("7.00"), datetime.date(2026, 2, 1), "TX"),
        ]
    )
    html = user_client.get(URL, {"start": "2026-02-01", "end": "2026-02-28"}).content.decode()
    assert 'name="start" value="2026-02-01"' in html
    assert "Orders dated from 2026-02-01 to 2026-02-28" in html
    assert 'aria-label="States by turnover: Texas $7.00"' in html


def test_empty_range_says_so(user_client):
    insert_orders([(1, 1, 1, Decimal("5.00"), datetime.date(2026, 1, 1), "CA")])
    html = user_client.get(URL, {"start": "2030-01-01"}).content.decode()
    assert html.count("No orders in this range.") == 4


def test_bad_filter_gets_400_with_a_message_on_the_page(user_client):
    response = user_client.get(URL, {"start": "2026-05-01", "end": "2026-04-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters can't be used: start must be on or before end." in html
    assert "<canvas" not in html


def test_presets_are_links_ending_today_and_the_current_one_is_marked(user_client):
    today = timezone.localdate()
    week_ago = today - datetime.timedelta(days=6)
    html = user_client.get(URL, {"start": week_ago.isoformat(), "end": today.isoformat()}).content.decode()
    week = f"start={week_ago}&amp;end={today}"
    assert (
        f'<a href="?{week}" data-start="{week_ago}" data-end="{today}" aria-current="true">Last 7 days</a>'
        in html
    )
    assert '<a href="?" data-start="" data-end="">All time</a>' in html
    assert f'href="/api/rankings/states_by_turnover.csv?start={week_ago}&amp;end={today}"' in html


def test_pages_carry_a_content_security_policy(user_client):
    policy = user_client.get(URL)["Content-Security-Policy"]
    assert policy.startswith("default-src 'self'; script-src 'self'")


def test_a_state_filter_shows_in_the_form_the_scope_and_a_chip_and_presets_keep_it(user_client):
    today = timezone.localdate()
    week_ago = today - datetime.timedelta(days=6)
    html = user_client.get(URL, {"state": "OR"}).content.decode()
    assert '<option value="OR" selected>Oregon</option>' in html
    assert "All orders in Oregon</p>" in html
    assert '<a class="chip" id="clear-state" href="?">State: <span>Oregon</span>' in html
    assert f'<a href="?start={week_ago}&amp;end={today}&amp;state=OR" data-start="{week_ago}"' in html
    assert 'href="/api/rankings/states_by_turnover.csv?state=OR"' in html
    unfiltered = user_client.get(URL).content.decode()
    assert 'id="clear-state" href="?" hidden>' in unfiltered


def test_headline_figures_and_state_links_are_on_the_page(user_client):
    insert_orders(
        [
            (1, 1, 3, Decimal("2.50"), DAY, "NV"),
            (1, 2, 1, Decimal("1000.00"), DAY, "NV"),
            (2, 1, 1, Decimal("0.75"), DAY, "UT"),
        ]
    )
    html = user_client.get(URL, {"start": DAY.isoformat()}).content.decode()
    # 3 * 2.50 + 1000.00 + 0.75 = 1008.25 over 2 orders, by hand.
    assert '<dd data-figure="turnover" data-kind="money">$1,008.25</dd>' in html
    assert '<dd data-figure="orders" data-kind="count">2</dd>' in html
    assert '<dd data-figure="lines" data-kind="count">3</dd>' in html
    assert '<dd data-figure="average_order_value" data-kind="money">$504.13</dd>' in html
    assert f'<a href="?start={DAY}&amp;state=NV" data-state="NV">Nevada</a>' in html
