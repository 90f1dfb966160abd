"""The catalog's branches in the admin: list, create, switch, merge, delete, log and diff."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from dashboard.catalog import versions
from dashboard.catalog.models import Item

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)

CHANGELIST = reverse("admin:dashboard_branch_changelist")


def staff(username, *codenames):
    user = User.objects.create_user(username, f"{username}@example.com", "x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


EDITOR = ("view_branch", "add_branch", "delete_branch", "view_commit", "view_item", "change_item")


@pytest.fixture
def editor(catalog):
    return staff("ed", *EDITOR)


@pytest.fixture
def reviewer(catalog):
    return staff("rita", *EDITOR, "merge_into_main")


def action(client, name, *branches):
    return client.post(CHANGELIST, {"action": name, "_selected_action": list(branches)}, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def rename(client, itemid, name):
    item = Item.objects.get(itemid=itemid)
    url = reverse("admin:dashboard_item_change", args=[itemid])
    return client.post(url, {"itemid": itemid, "name": name, "category": item.category})


def test_create_switch_edit_review_and_merge_a_branch(editor, reviewer):
    response = editor.post(reverse("admin:dashboard_branch_add"), {"name": "spring", "start": "main"})
    assert response.status_code == 302
    assert "spring" in versions.branch_names()

    page = action(editor, "switch_to", "spring")
    assert "You now work on spring" in " ".join(messages_of(page))
    assert "✔ current" in page.content.decode()
    assert rename(editor, 1, "Spring Mug").status_code == 302

    diff = editor.get(reverse("admin:dashboard_branch_diff", args=["spring"])).content.decode()
    assert "<td>1</td><td>changed</td><td>name</td>" in diff
    assert "<td>Teal Oak Mug</td><td>Spring Mug</td>" in diff

    # Merging into main takes the dedicated permission.
    action(editor, "switch_to", "main")
    refused = action(editor, "merge_into_yours", "spring")
    assert "needs the permission" in " ".join(messages_of(refused))
    assert Item.objects.get(itemid=1).name == "Teal Oak Mug"

    merged = action(reviewer, "merge_into_yours", "spring")
    assert "Merged spring into main" in " ".join(messages_of(merged))
    assert Item.objects.get(itemid=1).name == "Spring Mug"
    # main had not moved: a fast-forward, so main's head is ed's commit from the branch.
    assert versions.log(1)[0].message == "ed: changed item Spring Mug (#1)"


def test_a_conflicting_merge_lists_each_conflict_and_merges_nothing(reviewer):
    versions.create_branch("other")
    versions.checkout("other")
    Item.objects.filter(itemid=2).update(category="Garden")
    versions.commit("other regroups the rug", "Ed <ed@example.com>")
    versions.checkout("main")
    Item.objects.filter(itemid=2).update(category="Living room")
    versions.commit("main regroups the rug", "Ed <ed@example.com>")

    said = " ".join(messages_of(action(reviewer, "merge_into_yours", "other")))

    assert (
        "Conflict in dashboard_item 2: category: was 'Home', main has 'Living room', other has 'Garden'"
        in said
    )
    assert "Nothing was merged" in said
    assert Item.objects.get(itemid=2).category == "Living room"


def test_main_and_branches_someone_works_on_are_not_deleted(editor):
    versions.create_branch("busy")
    versions.create_branch("done")
    other = staff("olga", *EDITOR)
    action(other, "switch_to", "busy")

    said = " ".join(messages_of(action(editor, "delete_branches", "main", "busy", "done")))

    assert "main cannot be deleted" in said
    assert "busy is checked out by someone" in said
    assert "Deleted done." in said
    assert versions.branch_names() == ["busy", "main"]


def test_hostile_branch_names_are_refused_by_the_form(editor):
    response = editor.post(
        reverse("admin:dashboard_branch_add"), {"name": "x'; DROP TABLE t; --", "start": "main"}
    )
    assert response.status_code == 200
    assert "is not a usable branch name" in response.content.decode()
    assert versions.branch_names() == ["main"]


def test_the_commit_log_shows_the_branch_you_work_on(editor):
    response = editor.get(reverse("admin:dashboard_commit_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "two items" in html
    assert versions.log(1)[0].commit_hash[:8] in html


def test_branches_need_staff_and_permissions(catalog, client):
    assert client.get(CHANGELIST).status_code == 302
    assert staff("nobody").get(CHANGELIST).status_code == 403
