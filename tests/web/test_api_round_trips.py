"""How many statements one /api/rankings/ answer sends to each database: the rankings, the
headline, the period just before and the state's place come from one OLAP statement; the
catalog is asked once for the item names and never sent back to main it never left; the
users' database once (the session, read with its user). A regression guard: each round trip
is about a millisecond of an answer that should take a few. And which rows that statement
reads."""

import datetime
from decimal import Decimal

import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support.orders import as_prepared, insert_orders
from tests.support.periods import CURRENT, ROWS

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = reverse("dashboard:api-rankings")


def statements(client, query):
    """({alias: [sql]} of one answer, its JSON); the change marker asked on each request."""
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in ("default", "olap", "catalog")}
    with override_settings(FRESHNESS_CACHE_MS=0):
        for capture in captured.values():
            capture.__enter__()
        try:
            response = client.get(URL, query)
        finally:
            for capture in captured.values():
                capture.__exit__(None, None, None)
    assert response.status_code == 200, response.content
    return {
        alias: [as_prepared(query["sql"]) for query in capture.captured_queries]
        for alias, capture in captured.items()
    }


@pytest.mark.parametrize(
    "query",
    [{}, CURRENT, {**CURRENT, "state": "CA"}, {"state": "TX"}, {"start": CURRENT["start"]}],
    ids=["unfiltered", "range", "range-and-state", "state", "open-range"],
)
def test_one_answer_is_one_olap_statement_after_the_change_marker(user_client, catalog, query):
    insert_orders(ROWS)
    user_client.get(URL, query)  # the session's first request may write it; count the next
    sent = statements(user_client, query)
    assert len(sent["olap"]) == 2, sent["olap"]
    assert "orders_rollups_version" in sent["olap"][0]
    assert len(sent["catalog"]) == 1 and "dashboard_item" in sent["catalog"][0], sent["catalog"]
    assert len(sent["default"]) == 1, sent["default"]  # the session, read with its user
    # All time reads the total rollups' rows as they are (one per key): nothing to group.
    assert ("GROUP BY" in sent["olap"][1]) == ("start" in query), sent["olap"][1]


@pytest.mark.parametrize("state", [None, "CA"])
def test_a_long_range_reads_spans_of_days_and_its_edges_day_by_day(user_client, catalog, state):
    insert_orders(ROWS)
    query = {"start": "2026-01-10", "end": "2026-04-09", **({"state": state} if state else {})}
    user_client.get(URL, query)
    statement = statements(user_client, query)["olap"][1]
    # The states: the longer spans of both periods from the span rollup, the days at their
    # edges by key from the day rollup; never every day of the range.
    assert "orders_state_span" in statement, statement
    assert '"orders_state_day" WHERE "dt" IN (' in statement, statement
    assert statement.count(' AND "days" = ') >= 2 * (1 if state else 2), statement
    # The items likewise; a state's items from its (state, day, item) rows, which have no spans.
    assert ("orders_item_span" in statement) == (state is None), statement
    assert ('"orders_item_day" WHERE "dt" IN (' in statement) == (state is None), statement


def test_the_figures_of_that_one_statement_are_the_answer(user_client, catalog):
    insert_orders(ROWS)
    body = user_client.get(URL, {**CURRENT, "state": "CA"}).json()
    # CA, March 1-10: orders 10 (item 1, 3 x 20.00) and 12 (item 2, 1 x 1.00); before it,
    # February 19-28: order 1 (item 2, 5 x 10.00). Every state over March 1-10: CA 61.00,
    # WA 30.00, TX 9.00, so CA ranks first of three.
    assert body["headline"]["turnover"] == "61.00"
    assert body["headline"]["orders"] == 2
    assert body["headline"]["previous"]["turnover"] == "50.00"
    assert body["state_place"] == {"rank": 1, "of": 3}
    assert [
        (entry["key"], entry["label"], entry["previous_rank"])
        for entry in body["rankings"]["items_by_turnover"]
    ] == [
        (1, "Teal Oak Mug", None),
        (2, "Jute Rug", 1),
    ]


def test_all_time_reads_each_item_rankings_top_five_through_its_index(user_client, catalog):
    # Eight items, each in several orders: every ranking has more items than it shows.
    day = datetime.date(2026, 3, 1)
    insert_orders(
        (order, item, order % 4 + item % 3, Decimal(f"{item}.25"), day, "CA")
        for order in range(1, 7)
        for item in range(1, 9)
    )
    user_client.get(URL)
    statement = statements(user_client, {})["olap"][1].split(" AS ", 1)[1]  # prepared, no values
    with connections["olap"].cursor() as cursor:
        cursor.execute(statement)
        kinds = [row[0] for row in cursor.fetchall()]
        # The planner would rather scan eight rows than use any index; told not to, it takes
        # the ranking indexes only if the statement's order and condition are theirs.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + statement)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert kinds.count("itemid") == 3 * 5, kinds  # five of eight, for each of three rankings
    for metric in ("turnover", "avg_qty", "total_qty"):
        assert f"Index Scan using orders_item_total_by_{metric} " in plan, plan
    assert "Sort" not in plan, plan
