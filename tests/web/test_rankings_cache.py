import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connections
from django.test import Client

from dashboard.catalog.models import Item
from dashboard.orders.schema import MIRROR_CHANNEL
from tests.support.mirror import change_unannounced, settled
from tests.support.orders import (
    another_client,
    insert_orders,
    insert_orders_as_another_client,
    lock_held_by_another_client,
)

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)

API = "/api/rankings/"


@pytest.fixture
def caching(settings):
    settings.RANKINGS_CACHE_SECONDS = 2
    cache.clear()
    yield
    cache.clear()


def waiting_rollup_queries():
    """Queries of the test database that are waiting for a lock on orders_state_total."""
    with another_client() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE %s",
            ["%orders_state_total%"],
        )
        return cursor.fetchone()[0]


@pytest.mark.slow
def test_identical_concurrent_requests_run_the_query_once(caching, empty_orders, settings):
    # The statements' path: the rollups' mirror answers without a query, and its own read
    # would wait on the lock below too.
    settings.RANKINGS_MIRROR_CELLS = 0
    insert_orders([(1, 1, 2, Decimal("5.00"), "2026-01-01", "CA")])
    user = User.objects.create_user("analyst")

    def request(_):
        client = Client()
        client.force_login(user)
        try:
            return client.get(API).json()
        finally:
            connections.close_all()  # this worker thread's own connections

    with ThreadPoolExecutor(max_workers=5) as pool:
        with lock_held_by_another_client("orders_state_total"):
            answers = pool.map(request, range(5))
            time.sleep(1.5)  # every request is in by now, each blocked one way or another
            waiting = waiting_rollup_queries()
        answers = list(answers)  # the lock is released: all five complete

    assert waiting == 1  # one query at the database; the other four wait for its answer
    assert len({answer["generated_at"] for answer in answers}) == 1
    assert answers[0]["rankings"]["states_by_turnover"][0]["value"] == "10.00"


def start_of_a_time_bucket(seconds):
    """Entries live until the marker's time bucket ends: start at the beginning of one."""
    time.sleep(seconds - time.time() % seconds + 0.02)


@pytest.mark.slow
def test_entries_expire_so_renamed_items_show_within_seconds(caching, user_client, empty_orders):
    Item.objects.create(itemid=1, name="Teal Oak Mug")
    insert_orders([(1, 1, 1, Decimal("1.00"), "2026-01-01", "CA")])
    start_of_a_time_bucket(2)
    first = user_client.get(API).json()
    # The catalog changes, not the orders: the OLAP side's version does not move.
    Item.objects.filter(itemid=1).update(name="Jute Rug")
    assert user_client.get(API).json() == first  # served from the cache
    time.sleep(2.2)
    fresh = user_client.get(API).json()
    assert fresh["rankings"]["items_by_turnover"][0]["label"] == "Jute Rug"


def test_new_orders_show_at_once_whatever_the_cache(caching, user_client, empty_orders, settings):
    settings.FRESHNESS_CACHE_MS = 0
    insert_orders([(1, 1, 1, Decimal("1.00"), "2026-01-01", "CA")])
    start_of_a_time_bucket(2)
    user_client.get(API)
    insert_orders_as_another_client([(2, 1, 1, Decimal("9.00"), "2026-01-01", "TX")])
    fresh = user_client.get(API).json()  # the OLAP side's version moved: computed afresh
    assert [entry["key"] for entry in fresh["rankings"]["states_by_turnover"]] == ["TX", "CA"]


def test_different_filters_are_cached_apart(caching, user_client, empty_orders):
    insert_orders(
        [(1, 1, 1, Decimal("1.00"), "2026-01-01", "CA"), (2, 1, 1, Decimal("2.00"), "2026-02-01", "TX")]
    )
    january = user_client.get(API, {"end": "2026-01-31"}).json()
    february = user_client.get(API, {"start": "2026-02-01"}).json()
    assert [e["key"] for e in january["rankings"]["states_by_turnover"]] == ["CA"]
    assert [e["key"] for e in february["rankings"]["states_by_turnover"]] == ["TX"]


@pytest.mark.slow
def test_figures_of_a_mirror_behind_the_version_are_not_kept_under_it(
    caching, user_client, empty_orders, settings, olap_cursor
):
    """The OLAP side's version shows a writer's change before the notice of its commit has
    reached this process's mirror of the rollups: what the mirror answers in between must not
    stay on show under that version until the cache's time bucket ends."""
    settings.RANKINGS_CACHE_SECONDS = 600  # one bucket for the whole test
    settings.FRESHNESS_CACHE_MS = 0
    insert_orders([(1, 1, 2, Decimal("5.00"), "2026-01-01", "CA")])
    settled()
    assert user_client.get(API).json()["headline"]["lines"] == 1
    # A commit seen by the version, and not yet by the mirror (its notice on the way).
    change_unannounced(olap_cursor)
    olap_cursor.execute("SELECT nextval('orders_rollups_version')")
    behind = user_client.get(API).json()
    olap_cursor.execute("SELECT pg_notify(%s, 'totals')", [MIRROR_CHANNEL])  # the notice comes
    settled()
    caught_up = user_client.get(API).json()

    assert behind["headline"]["lines"] == 1  # the mirror's, as it was
    assert caught_up["headline"]["lines"] == 99
