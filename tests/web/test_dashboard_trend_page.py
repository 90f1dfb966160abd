"""The server-rendered page's trend table, the headline's comparison with the period just
before, and each ranking row's movement: what a reader without JavaScript gets."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.support.orders import insert_orders
from tests.support.periods import CURRENT, ROWS

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

PAGE = reverse("dashboard:index")
TREND = reverse("dashboard:api-trend")
D = datetime.date
MINUS = "\u2212"  # the comparison's sign for a fall, as typeset


def delta(html, figure):
    """(the comparison's text without tags, its title) under one headline figure; None when hidden."""
    found = re.search(
        rf'<dd class="delta[^"]*" data-delta="{figure}"( title="([^"]*)")?( hidden)?>(.*?)</dd>', html
    )
    assert found, figure
    if found.group(3):
        return None
    text = re.sub(r"<[^>]+>", "", found.group(4))
    return text, found.group(2)


def test_trend_table_has_a_row_per_day_of_the_range_as_the_api_says(user_client):
    insert_orders(ROWS)
    html = user_client.get(PAGE, CURRENT).content.decode()
    points = user_client.get(TREND, CURRENT).json()["points"]

    assert [point["start"] for point in points] == [f"2026-03-{day:02}" for day in range(1, 11)]
    body = html[html.index('<details class="trend-table"') : html.index("</details>")]
    rows = re.findall(
        r'<tr><th scope="row"><time datetime="([-\d]+)">[-\d]+</time></th>'
        r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td></tr>',
        body,
    )
    assert rows == [
        (point["start"], f"${Decimal(point['turnover']):,.2f}", f"{point['orders']:,}") for point in points
    ]
    # By hand: March 1st 3 x 20.00 in CA, the 3rd 9.00 in TX, the 5th 1.00, the 10th 2 x 15.00.
    assert rows[0] == ("2026-03-01", "$60.00", "1")
    assert rows[1] == ("2026-03-02", "$0.00", "0")  # a day with no orders is a zero
    assert rows[2] == ("2026-03-03", "$9.00", "1")
    assert rows[9] == ("2026-03-10", "$30.00", "1")
    assert '<th scope="col" class="bucket-heading">Day</th>' in body
    assert 'Turnover and orders per <span class="bucket">day</span>' in html
    assert (
        'href="/api/trend.csv?start=2026-03-01&amp;end=2026-03-10" data-base="/api/trend.csv" download>CSV'
        in html
    )
    assert '<canvas id="chart-trend" role="img"' in html
    assert '<script id="trend-data" type="application/json">' in html


def test_a_long_range_is_shown_by_week(user_client):
    insert_orders(ROWS)
    html = user_client.get(PAGE, {"start": "2025-11-01", "end": "2026-03-31"}).content.decode()
    assert '<th scope="col" class="bucket-heading">Week starting</th>' in html
    # The first week holds November 1st, a Saturday: it starts on Monday October 27th.
    assert '<time datetime="2025-10-27">2025-10-27</time>' in html


def test_headline_compares_with_the_previous_period(user_client):
    insert_orders(ROWS)
    html = user_client.get(PAGE, CURRENT).content.decode()
    # Turnover 100.00 against 70.00: +42.857...% -> +42.9%.
    assert delta(html, "turnover") == (
        "▲ +42.9% vs the previous 10 days",
        "The previous 10 days (2026-02-19 to 2026-02-28): $70.00",
    )
    # Orders and lines 4 against 3: +33.3%.
    assert delta(html, "orders")[0] == "▲ +33.3% vs the previous 10 days"
    assert delta(html, "lines")[0] == "▲ +33.3% vs the previous 10 days"
    # Average order value 25.00 against 23.33 (70.00 / 3): 1.67 / 23.33 = 7.16% -> +7.2%.
    assert delta(html, "average_order_value") == (
        "▲ +7.2% vs the previous 10 days",
        "The previous 10 days (2026-02-19 to 2026-02-28): $23.33",
    )


def test_a_fall_a_state_new_in_the_range_and_a_single_day(user_client):
    insert_orders(ROWS)
    texas = user_client.get(PAGE, {**CURRENT, "state": "TX"}).content.decode()
    # Texas: 9.00 and one order now, 20.00 and two orders before.
    assert delta(texas, "turnover")[0] == f"▼ {MINUS}55.0% vs the previous 10 days"
    assert delta(texas, "orders")[0] == f"▼ {MINUS}50.0% vs the previous 10 days"
    assert delta(texas, "average_order_value")[0] == f"▼ {MINUS}10.0% vs the previous 10 days"
    assert 'class="delta down"' in texas

    washington = user_client.get(PAGE, {**CURRENT, "state": "WA"}).content.decode()
    # Washington sold nothing before: no division by zero, it says so.
    assert delta(washington, "turnover") == (
        "▲ new: none in the previous 10 days",
        "The previous 10 days (2026-02-19 to 2026-02-28): $0.00",
    )
    assert delta(washington, "average_order_value")[1].endswith(": no orders")

    one_day = user_client.get(PAGE, {"start": "2026-03-01", "end": "2026-03-01"}).content.decode()
    # 60.00 on March 1st, nothing on February 28th in... TX sold 10.00 then.
    assert delta(one_day, "turnover") == (
        "▲ +500.0% vs the previous day",
        "The previous day (2026-02-28): $10.00",
    )


def test_all_time_and_an_open_range_show_no_comparison_and_no_movement(user_client):
    insert_orders(ROWS)
    for query in ({}, {"start": "2026-03-01"}):
        html = user_client.get(PAGE, query).content.decode()
        for figure in ("turnover", "orders", "lines", "average_order_value"):
            assert delta(html, figure) is None, (query, figure)
        assert '<td class="move' not in html
        assert html.count('<th scope="col" class="move" hidden>Change</th>') == 4


def movements(html, ranking):
    section = html[html.index(f'data-ranking="{ranking}"') :]
    section = section[: section.index("</table>")]
    return re.findall(
        r'<tr><td>(\d+)</td><th scope="row">(?:<a [^>]*>)?([^<]*)(?:</a>)?</th><td class="num">[^<]*</td>'
        r'<td class="move (\w+)" title="([^"]*)"><span aria-hidden="true">([^<]*)</span>'
        r'<span class="visually-hidden">([^<]*)</span></td></tr>',
        section,
    )


NEW_SPOKEN = "new: not ranked in the previous 10 days"


def test_each_ranking_row_shows_its_movement(user_client):
    insert_orders(ROWS)
    html = user_client.get(PAGE, CURRENT).content.decode()
    # Items by turnover before: item 2 (50.00), then items 1 and 3 (10.00 each; 1 first by id).
    # Now: item 1 (69.00), item 4 (30.00, new), item 2 (1.00).
    assert movements(html, "items_by_turnover") == [
        ("1", "Item 1", "up", "2nd in the previous 10 days", "▲ 1", "up 1 place"),
        ("2", "Item 4", "new", "Not ranked in the previous 10 days", "new", NEW_SPOKEN),
        ("3", "Item 2", "down", "1st in the previous 10 days", "▼ 2", "down 2 places"),
    ]
    # States before: CA 50.00, TX 20.00. Now: CA 61.00, WA 30.00 (new), TX 9.00 (was 2nd, now 3rd).
    assert [row[1:3] + row[4:5] for row in movements(html, "states_by_turnover")] == [
        ("California", "same", "="),
        ("Washington", "new", "new"),
        ("Texas", "down", "▼ 1"),
    ]
    assert html.count('<th scope="col" class="move">Change</th>') == 4
