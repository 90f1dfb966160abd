"""Polling is nearly free: the API answers 304 from a change marker (the OLAP side's version
and a time bucket) without computing the figures, and a committed order changes the ETag and
shows at once, cache or no cache."""

import datetime
import time
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.web.freshness import forget_kept_answer
from tests.support.orders import insert_orders, insert_orders_as_another_client

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

URL = reverse("dashboard:api-rankings")
DAY = datetime.date(2026, 2, 2)


@pytest.fixture
def rankings_cache():
    """The short rankings cache on, as in production, and empty before and after."""
    cache.clear()
    with override_settings(RANKINGS_CACHE_SECONDS=3):
        yield
    cache.clear()


def start_of_a_time_bucket(seconds):
    """Wait for a fresh time bucket of the marker, so the next few requests share one."""
    time.sleep(seconds - time.time() % seconds + 0.02)


def in_one_time_bucket(requests, seconds=1):
    """What `requests()` answers, run from the start of a time bucket of the marker until it
    ends in the same one: on a busy machine a few requests can outlast a 1 s bucket, and a
    new bucket rightly changes the ETag, which is not what these tests are about. The
    process's kept freshness answer is dropped at the start, or the first request could take
    the bucket of one asked just before it (by an earlier test) and the next, once that
    answer is 250 ms old, the new bucket (a failure seen in CI)."""
    for _ in range(5):
        start_of_a_time_bucket(seconds)
        forget_kept_answer()
        bucket = int(time.time() // seconds)
        answered = requests()
        if int(time.time() // seconds) == bucket:
            return answered
    raise AssertionError("five tries, and the requests never fitted in one time bucket")


def test_same_etag_while_nothing_changes_and_the_browser_must_revalidate(user_client):
    insert_orders([(1, 1, 2, Decimal("5.00"), DAY, "CA")])
    # The tests' RANKINGS_CACHE_SECONDS=0 gives buckets of 1 s.
    first, second = in_one_time_bucket(lambda: (user_client.get(URL), user_client.get(URL)))
    assert first.status_code == second.status_code == 200
    assert first["ETag"] == second["ETag"]
    assert first["ETag"].startswith('W/"')
    assert set(first["Cache-Control"].split(", ")) == {"private", "no-cache"}


def test_if_none_match_gets_304_with_no_body_and_only_the_freshness_query(user_client):
    insert_orders([(1, 1, 2, Decimal("5.00"), DAY, "CA")])

    def revalidated():
        etag = user_client.get(URL)["ETag"]
        with CaptureQueriesContext(connections["olap"]) as olap:
            response = user_client.get(URL, headers={"if-none-match": etag})
        return etag, olap, response

    with override_settings(FRESHNESS_CACHE_MS=0):  # each request asks: count that query
        etag, olap, response = in_one_time_bucket(revalidated)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-cache"}
    assert len(olap.captured_queries) == 1, olap.captured_queries
    assert "orders_rollups_version" in olap.captured_queries[0]["sql"]


def test_if_match_is_a_precondition_the_figures_must_meet(user_client):
    insert_orders([(1, 1, 2, Decimal("5.00"), DAY, "CA")])
    # The figures' ETags are weak, and If-Match compares strongly: only "*" passes.
    assert user_client.get(URL, headers={"if-match": "*"}).status_code == 200
    failed = user_client.get(URL, headers={"if-match": '"some-other-version"'})
    assert failed.status_code == 412
    assert failed.content == b""


def test_polls_inside_the_freshness_cache_cost_no_olap_query(user_client):
    insert_orders([(1, 1, 2, Decimal("5.00"), DAY, "CA")])

    def polled():
        etag = user_client.get(URL)["ETag"]
        with CaptureQueriesContext(connections["olap"]) as olap:
            polls = [user_client.get(URL, headers={"if-none-match": etag}) for _ in range(5)]
        return olap, polls

    with override_settings(FRESHNESS_CACHE_MS=60_000):  # long enough for a slow machine
        olap, polls = in_one_time_bucket(polled)
    assert [poll.status_code for poll in polls] == [304] * 5
    assert olap.captured_queries == []


def test_other_filters_or_another_etag_get_the_figures(user_client):
    insert_orders([(1, 1, 2, Decimal("5.00"), DAY, "CA")])

    def asked():
        etag = user_client.get(URL)["ETag"]
        other_filters = user_client.get(URL, {"state": "CA"}, headers={"if-none-match": etag})
        other_etag = user_client.get(URL, headers={"if-none-match": 'W/"something else"'})
        return etag, other_filters, other_etag

    etag, other_filters, other_etag = in_one_time_bucket(asked)
    assert other_filters.status_code == 200 and other_filters["ETag"] != etag
    assert other_etag.status_code == 200 and other_etag["ETag"] == etag
    assert other_etag.json()["headline"]["turnover"] == "10.00"


def test_errors_are_answered_as_before_whatever_the_etag(user_client):
    anonymous = Client().get(URL, headers={"if-none-match": "*"})
    assert anonymous.status_code == 401
    bad = user_client.get(URL, {"start": "yesterday"}, headers={"if-none-match": "*"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "start: must be a date like 2026-01-31"}


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_the_olap_side_down_is_a_503_for_polls_too(user_client, olap_unreachable):
    response = user_client.get(URL, headers={"if-none-match": 'W/"from before"'})
    assert response.status_code == 503
    assert response.json() == {"error": "The analytics database is unavailable; try again in a moment."}
    assert response["Retry-After"] == "5"


@pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)
def test_a_committed_order_changes_the_etag_and_shows_at_once_with_the_cache_on(
    user_client, rankings_cache, empty_orders
):
    insert_orders([(1, 1, 2, Decimal("5.00"), DAY, "CA")])
    start_of_a_time_bucket(3)
    before = user_client.get(URL)
    assert user_client.get(URL, headers={"if-none-match": before["ETag"]}).status_code == 304

    insert_orders_as_another_client([(2, 1, 1, Decimal("99.00"), DAY, "TX")])
    committed = time.monotonic()
    # The marker is reused for FRESHNESS_CACHE_MS (250 ms); the figures are cached for 3 s.
    while (after := user_client.get(URL, headers={"if-none-match": before["ETag"]})).status_code == 304:
        assert time.monotonic() - committed < 1, "the new order did not show within 1 s"
        time.sleep(0.02)

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert time.monotonic() - committed < 1  # not the 3 s of the cache
    assert [entry["key"] for entry in after.json()["rankings"]["states_by_turnover"]] == ["TX", "CA"]
    assert after.json()["headline"]["orders"] == 2
    # And the new figures are cached under the new marker: polls are 304 again.
    assert user_client.get(URL, headers={"if-none-match": after["ETag"]}).status_code == 304


def test_the_payload_says_how_far_behind_the_figures_are(user_client):
    body = user_client.get(URL).json()
    # Orders written straight to the OLAP side (ORDERS_SOURCE=direct): no lag to tell.
    assert body["freshness"] == {"behind_seconds": None}
