"""A branch per session and one Dolt commit per request that changed the catalog."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.catalog import versions
from dashboard.catalog.models import Item
from tests.support.orders import insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)


@pytest.fixture
def ann(catalog):
    user = User.objects.create_superuser("ann", "ann@example.com", "x", first_name="Ann", last_name="Analyst")
    client = Client()
    client.force_login(user)
    return client


def switch(client, branch):
    return client.post(reverse("dashboard:switch-catalog-branch"), {"branch": branch, "next": "/"})


def rename_in_admin(client, itemid, name):
    item = Item.objects.get(itemid=itemid)
    return client.post(
        reverse("admin:dashboard_item_change", args=[itemid]),
        {"itemid": itemid, "name": name, "category": item.category},
    )


def test_a_request_that_changes_the_catalog_ends_in_one_commit_naming_the_user(ann):
    versions.create_branch("preview")
    assert switch(ann, "preview").status_code == 302
    main_head = versions.log(1)[0].commit_hash
    before = [commit.commit_hash for commit in _log_of("preview")]

    response = rename_in_admin(ann, 1, "Teal Oak Mug XL")

    assert response.status_code == 302
    after = _log_of("preview")
    assert [commit.commit_hash for commit in after[1:]] == before  # exactly one new commit
    assert after[0].message == "ann: changed item Teal Oak Mug XL (#1)"
    assert (after[0].committer, after[0].email) == ("Ann Analyst", "ann@example.com")
    # main did not move, and this connection is back on main after the request.
    assert versions.active_branch() == "main"
    assert versions.log(1)[0].commit_hash == main_head
    assert Item.objects.get(itemid=1).name == "Teal Oak Mug"
    assert versions.rows_at(Item, "preview")[1]["name"] == "Teal Oak Mug XL"


def test_a_request_that_changes_nothing_makes_no_commit(ann):
    head = versions.log(1)[0].commit_hash
    assert ann.get(reverse("admin:dashboard_item_changelist")).status_code == 200
    assert ann.get(reverse("admin:dashboard_item_change", args=[1])).status_code == 200
    assert versions.log(1)[0].commit_hash == head


@override_settings(ROOT_URLCONF="tests.support.catalog_write_urls")
def test_a_request_that_fails_commits_nothing_and_keeps_nothing(ann):
    head = versions.log(1)[0].commit_hash
    ann.raise_request_exception = False
    assert ann.get("/change-then-fail/").status_code == 500
    assert versions.log(1)[0].commit_hash == head
    assert not versions.has_changes()
    assert Item.objects.get(itemid=1).name == "Teal Oak Mug"


@override_settings(ROOT_URLCONF="tests.support.catalog_write_urls")
def test_bulk_writes_without_signals_end_in_one_commit_too(ann):
    before = [commit.commit_hash for commit in versions.log()]

    assert ann.get("/regroup-in-bulk/").status_code == 200

    after = versions.log()
    assert [commit.commit_hash for commit in after[1:]] == before  # exactly one new commit
    assert after[0].message == "ann: bulk changes to items"
    assert not versions.has_changes()
    committed = versions.rows_at(Item, after[0].commit_hash)
    assert {key: row["category"] for key, row in committed.items()} == {1: "Gifts", 2: "Gifts", 3: "Gifts"}


@override_settings(ROOT_URLCONF="tests.support.catalog_write_urls")
def test_a_bulk_write_in_a_failed_request_is_discarded(ann):
    head = versions.log(1)[0].commit_hash
    assert ann.get("/regroup-in-bulk-then-fail/").status_code == 400
    assert versions.log(1)[0].commit_hash == head
    assert not versions.has_changes()
    assert set(Item.objects.values_list("category", flat=True)) == {"Kitchen", "Home"}


def test_the_dashboard_labels_items_from_the_sessions_branch_only(ann, empty_orders):
    insert_orders([(1, 1, 2, Decimal("5.00"), datetime.date(2026, 1, 5), "CA")])
    versions.create_branch("rename")
    versions.checkout("rename")
    Item.objects.filter(itemid=1).update(name="Renamed Mug")
    versions.commit("rename the mug", "Ann <ann@example.com>")
    versions.checkout("main")
    bo = Client()
    bo.force_login(User.objects.create_user("bo"))

    switch(ann, "rename")
    ann_label = ann.get(reverse("dashboard:api-rankings")).json()["rankings"]["items_by_turnover"][0]["label"]
    bo_label = bo.get(reverse("dashboard:api-rankings")).json()["rankings"]["items_by_turnover"][0]["label"]
    page = ann.get("/").content.decode()

    assert ann_label == "Renamed Mug"
    assert bo_label == "Teal Oak Mug"
    assert '<option value="rename" selected>rename</option>' in page


def test_switching_to_a_missing_branch_says_so_and_a_deleted_branch_falls_back_to_main(ann):
    response = ann.post(reverse("dashboard:switch-catalog-branch"), {"branch": "nope"}, follow=True)
    assert "There is no branch &#x27;nope&#x27;." in response.content.decode()
    versions.create_branch("short-lived")
    switch(ann, "short-lived")
    versions.delete_branch("short-lived")
    page = ann.get("/").content.decode()
    assert '<option value="main" selected>main</option>' in page


def test_switching_branches_needs_a_login_and_a_post(client):
    assert client.post(reverse("dashboard:switch-catalog-branch"), {"branch": "main"}).status_code == 302
    assert client.get(reverse("dashboard:switch-catalog-branch")).status_code == 405


def _log_of(branch):
    versions.checkout(branch)
    try:
        return versions.log()
    finally:
        versions.checkout("main")
