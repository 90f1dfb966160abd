import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connections
from django.test.utils import CaptureQueriesContext

from dashboard.catalog.models import Item
from dashboard.catalog.selectors import CatalogUnavailable
from dashboard.orders.browser import NEWEST_FIRST, PAGE, page_query
from dashboard.orders.engine import POSTGRESQL, RISINGWAVE
from dashboard.orders.schema import CREATE_NEWEST_FIRST_INDEX
from dashboard.web.templatetags import dashboard_format
from tests.support.orders import insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = "/admin/orders/"
DAY = datetime.date(2026, 4, 1)


@pytest.fixture
def viewer(client):
    user = User.objects.create_user("clerk", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_order", content_type__app_label="dashboard")
    )
    client.force_login(user)
    return client


@pytest.fixture
def lines():
    rows = []
    for orderid in range(1, 41):
        for itemid in (1, 2, 3):
            state = "CA" if orderid % 2 else "TX"
            rows.append(
                (orderid, itemid, itemid, Decimal("1.50"), DAY + datetime.timedelta(days=orderid % 5), state)
            )
    insert_orders(rows)
    return rows


def shown(response):
    return [
        (int(o), int(i))
        for o, i in re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td>", response.content.decode())
    ]


def test_pages_walk_every_line_newest_first_without_counting(viewer, lines):
    seen, url = [], URL
    with CaptureQueriesContext(connections["olap"]) as queries:
        while url:
            response = viewer.get(url)
            assert response.status_code == 200
            page = shown(response)
            assert len(page) <= PAGE
            seen += page
            older = re.search(r'href="\?(before=[\d-]+)"', response.content.decode())
            url = f"{URL}?{older[1]}" if older else None
    assert seen == sorted(((o, i) for o, i, *_ in lines), reverse=True)
    assert not any("COUNT(" in query["sql"].upper() for query in queries)


def test_search_by_order_id_and_filter_by_state_and_date(viewer, lines):
    assert shown(viewer.get(URL, {"q": "7"})) == [(7, 3), (7, 2), (7, 1)]
    texas = shown(viewer.get(URL, {"state": "TX"}))
    assert texas and all(orderid % 2 == 0 for orderid, _ in texas)
    day = (DAY + datetime.timedelta(days=3)).isoformat()
    on_day = shown(viewer.get(URL, {"start": day, "end": day}))
    assert sorted({orderid % 5 for orderid, _ in on_day}) == [3]


def test_bad_input_gets_a_message_not_an_error(viewer):
    response = viewer.get(URL, {"q": "seven", "start": "2026-13-01"})
    assert response.status_code == 400
    assert "Check the fields marked below." in response.content.decode()


def test_staff_without_the_permission_are_refused(client):
    client.force_login(User.objects.create_user("intern", is_staff=True))
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_go_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_index_links_to_it(viewer):
    assert f'href="{URL}"' in viewer.get("/admin/").content.decode()


def test_a_page_straddling_an_order_continues_within_it(viewer, lines):
    # The last line shown was (20, 2): the next page starts with (20, 1), then order 19.
    assert shown(viewer.get(URL, {"before": "20-2"}))[:4] == [(20, 1), (19, 3), (19, 2), (19, 1)]
    assert shown(viewer.get(URL, {"before": "20-1", "state": "TX"}))[:2] == [(18, 3), (18, 2)]
    assert shown(viewer.get(URL, {"before": "1-1"})) == []


@pytest.fixture
def many_lines():
    """A few thousand order lines, analyzed, so the planner chooses as it would at scale."""
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders (orderid, itemid, qty, price, dt, state) "
            "SELECT o, i, 1, 1.50, DATE '2026-04-01' + (o % 90), "
            "(ARRAY['CA', 'TX', 'NY', 'WA'])[1 + o % 4] "
            "FROM generate_series(1, 1500) AS o, generate_series(1, 3) AS i"
        )
        cursor.execute("ANALYZE orders")


@pytest.mark.parametrize(
    "filters",
    [{}, {"before": (700, 2)}, {"before": (700, 2), "state": "TX"}, {"before": (100, 1)}],
    ids=["first-page", "older-page", "older-page-in-a-state", "near-the-oldest"],
)
def test_every_page_is_a_backward_read_of_the_primary_key_on_postgresql(many_lines, filters):
    plan = page_query(**filters).explain()
    assert "Index Scan Backward using orders_pkey on orders" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan
    if "before" in filters:
        # The scan starts at the page, not at the newest line.
        last_order, last_item = filters["before"]
        assert f"Index Cond: (ROW(orderid, itemid) < ROW({last_order}, {last_item}))" in plan, plan


@pytest.mark.parametrize(
    "filters", [{"orderid": 7}, {"before": (3, 1)}], ids=["one-order", "the-oldest-lines"]
)
def test_a_handful_of_lines_is_found_through_the_primary_key_on_postgresql(many_lines, filters):
    # Fewer lines than a page: the planner may fetch them by the key and sort those few.
    plan = page_query(**filters).explain()
    assert "on orders_pkey" in plan, plan
    assert "Seq Scan" not in plan, plan


def top_level_conjuncts(where):
    """The conditions joined by AND at the top level of a WHERE clause's text."""
    while where.startswith("(") and where.endswith(")"):
        depth = 0
        for position, character in enumerate(where):
            depth += {"(": 1, ")": -1}.get(character, 0)
            if depth == 0 and position < len(where) - 1:
                break  # the first parenthesis closes before the end: not one group
        else:
            where = where[1:-1]
            continue
        break
    parts, depth, start = [], 0, 0
    for position, character in enumerate(where):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth == 0 and where.startswith(" AND ", position):
            parts.append(where[start:position])
            start = position + len(" AND ")
    return [*parts, where[start:]]


def test_risingwave_reads_each_page_as_one_range_of_its_descending_index():
    """What RisingWave's planner needs to read a page from orders_newest_first and stop after
    it: an ORDER BY that is the index's key exactly (TopNOnIndexRule matches the order,
    directions included), and the keyset condition one range on orderid with no OR at the
    top level (several scan ranges are read in no particular order)."""
    sql, params = page_query(engine=RISINGWAVE, before=(20, 2), state="TX").query.sql_with_params()
    index_key = CREATE_NEWEST_FIRST_INDEX.split(" ON orders ")[1]
    assert index_key == "(orderid DESC, itemid DESC)"
    assert index_key == "(" + ", ".join(f"{field.removeprefix('-')} DESC" for field in NEWEST_FIRST) + ")"
    # Django orders by the selected columns' positions: orderid and itemid, which RisingWave
    # binds as those output columns (src/frontend/src/binder/query.rs, ordinal ORDER BY).
    assert sql.startswith('SELECT "orders"."orderid" AS "orderid", "orders"."itemid" AS "itemid", ')
    where, order = sql.split(" WHERE ", 1)[1].split(" ORDER BY ", 1)
    assert order == "1 DESC, 2 DESC LIMIT 51"
    conjuncts = top_level_conjuncts(where)
    assert sorted(conjuncts) == sorted(
        [
            '"orders"."state" = %s',
            '"orders"."orderid" <= %s',
            '("orders"."orderid" < %s OR "orders"."itemid" < %s)',
        ]
    )
    assert params == ("TX", 20, 20, 2)
    assert "ROW(" not in sql.upper() and '", "' not in where  # no row comparison


def test_risingwave_s_keyset_condition_pages_exactly_like_postgresql_s(lines):
    # Run for real here: both forms give the same pages, at every key and with filters.
    keys = sorted(((orderid, itemid) for orderid, itemid, *_ in lines), reverse=True)
    for before in [*keys[::7], keys[-1], (41, 1), (20, 9)]:
        for filters in ({}, {"state": "TX"}, {"orderid": 20}):
            expected = list(page_query(engine=POSTGRESQL, before=before, **filters))
            assert list(page_query(engine=RISINGWAVE, before=before, **filters)) == expected
            assert expected == sorted(expected, reverse=True)
            assert all((orderid, itemid) < before for orderid, itemid, *_ in expected)


def test_it_says_what_it_orders_by_and_picks_dates_with_date_inputs(viewer, lines):
    html = viewer.get(URL, {"start": "2026-04-02"}).content.decode()
    assert "by order id, newest order ids first" in html
    assert "newest first." not in html
    assert '<input type="date" name="start" value="2026-04-02" id="id_start">' in html
    assert '<input type="date" name="end" id="id_end">' in html
    assert '<option value="PR">Puerto Rico</option>' in html


def test_item_names_show_beside_their_ids_from_one_catalog_lookup(viewer, lines):
    Item.objects.bulk_create([Item(itemid=1, name="Teal Oak Mug"), Item(itemid=2, name="Jute Rug")])
    with CaptureQueriesContext(connections["catalog"]) as catalog_queries:
        html = viewer.get(URL, {"q": "7"}).content.decode()
    assert "<tr><td>7</td><td>3</td><td>—</td>" in html  # item 3 has no name
    assert "<tr><td>7</td><td>2</td><td>Jute Rug</td>" in html
    assert "<tr><td>7</td><td>1</td><td>Teal Oak Mug</td>" in html
    assert len([query for query in catalog_queries if "item" in query["sql"].lower()]) == 1
    assert shown(viewer.get(URL, {"q": "7"})) == [(7, 3), (7, 2), (7, 1)]


def test_with_the_catalog_unreadable_items_show_by_id_and_the_page_says_so(viewer, lines, monkeypatch):
    def unreadable(itemids):
        raise CatalogUnavailable("The item catalog cannot be read right now (item names).")

    monkeypatch.setattr(dashboard_format, "item_names", unreadable)
    response = viewer.get(URL, {"q": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Item names can't be read from the catalog right now" in html
    assert shown(response) == [(7, 3), (7, 2), (7, 1)]
