"""Branches, commits, merges and diffs of the item catalog, on the real embedded doltlite."""

import os
import subprocess
import sys
import threading

import pytest
from django.db import connections

from dashboard.catalog import versions
from dashboard.catalog.models import Branch, Commit, Item
from dashboard.catalog.versions import MergeConflicts, VersionError
from dashboard.readonly import ReadOnlyModelError
from tests.support import ROOT

pytestmark = pytest.mark.django_db(databases=["catalog"], transaction=True)

ANN = "Ann Analyst <ann@example.com>"
BO = "Bo Buyer <bo@example.com>"


def on_branch(name, change):
    """Check out `name`, make `change`, commit it, and come back to main."""
    versions.checkout(name)
    change()
    versions.commit(f"edit on {name}", ANN)
    versions.checkout(versions.MAIN)


def test_two_branches_edit_one_row_in_different_columns_and_the_merge_keeps_both(catalog):
    versions.create_branch("rename")
    versions.create_branch("regroup")
    on_branch("rename", lambda: Item.objects.filter(itemid=1).update(name="Teal Oak Mug XL"))
    on_branch("regroup", lambda: Item.objects.filter(itemid=1).update(category="Tableware"))

    versions.merge("rename", ANN)
    head = versions.merge("regroup", BO)

    mug = Item.objects.get(itemid=1)
    assert (mug.name, mug.category) == ("Teal Oak Mug XL", "Tableware")
    latest = versions.log(1)[0]
    assert latest.commit_hash == head
    assert (latest.committer, latest.email) == ("Bo Buyer", "bo@example.com")


def test_conflicting_edits_are_reported_and_nothing_is_lost(catalog):
    versions.create_branch("spring")
    on_branch("spring", lambda: Item.objects.filter(itemid=2).update(category="Garden"))
    Item.objects.filter(itemid=2).update(category="Living room")
    versions.commit("main regroups the rug", BO)
    head = versions.log(1)[0].commit_hash

    with pytest.raises(MergeConflicts) as raised:
        versions.merge("spring", ANN)

    conflict = raised.value
    assert "spring cannot be merged into main" in str(conflict)
    assert [(c.table, c.key, c.columns) for c in conflict.conflicts] == [
        ("dashboard_item", 2, [("category", "Home", "Living room", "Garden")])
    ]
    # Nothing merged, nothing lost: main as it was, the branch still holds its edit.
    assert versions.log(1)[0].commit_hash == head
    assert Item.objects.get(itemid=2).category == "Living room"
    assert not versions.has_changes()
    assert versions.rows_at(Item, "spring")[2]["category"] == "Garden"


def test_two_connections_on_two_branches_never_see_each_others_edits(catalog):
    versions.create_branch("ann")
    versions.create_branch("bo")
    seen, ready, done = {}, threading.Barrier(2), threading.Barrier(2)

    def user(branch, new_name):
        # Each thread has a Django connection of its own, as concurrent requests do.
        try:
            versions.checkout(branch)
            Item.objects.filter(itemid=1).update(name=new_name)
            ready.wait(timeout=10)  # both have written before either reads
            seen[branch] = Item.objects.get(itemid=1).name
            versions.commit(f"{branch} renames", ANN)
            done.wait(timeout=10)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=user, args=args) for args in (("ann", "Ann's mug"), ("bo", "Bo's mug"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == {"ann": "Ann's mug", "bo": "Bo's mug"}
    assert Item.objects.get(itemid=1).name == "Teal Oak Mug"  # main, on this connection
    assert versions.rows_at(Item, "ann")[1]["name"] == "Ann's mug"
    assert versions.rows_at(Item, "bo")[1]["name"] == "Bo's mug"


@pytest.mark.parametrize(
    "name",
    [
        "x'; DROP TABLE dashboard_item; --",
        'quote"d',
        "main; SELECT 1",
        "-D",
        "../main",
        "",
        "a" * 64,
        "spaces are not names",
    ],
)
def test_branch_names_with_quotes_or_sql_are_refused_and_nothing_changes(catalog, name):
    before = versions.branch_names()
    with pytest.raises(VersionError, match="not a usable branch name"):
        versions.create_branch(name)
    assert versions.branch_names() == before
    assert Item.objects.count() == 2


def test_names_reach_the_database_only_as_bound_values(catalog):
    # A name Dolt accepts that would break a statement built by pasting it in.
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connections["catalog"].execute_wrapper(record):
        versions.create_branch("fix/o.k-1")
        versions.checkout("fix/o.k-1")
        versions.checkout(versions.MAIN)
        versions.delete_branch("fix/o.k-1")
    assert all("fix/o.k-1" not in sql for sql, _ in statements)
    assert any(params and "fix/o.k-1" in params for _, params in statements)


def test_main_the_active_branch_and_checked_out_branches_cannot_be_deleted(catalog):
    versions.create_branch("busy")
    with pytest.raises(VersionError, match="main cannot be deleted"):
        versions.delete_branch("main")
    with pytest.raises(VersionError, match="checked out by someone"):
        versions.delete_branch("busy", checked_out={"busy"})
    versions.checkout("busy")
    with pytest.raises(VersionError, match="checked out by someone"):
        versions.delete_branch("busy")
    versions.checkout("main")
    versions.delete_branch("busy")
    assert versions.branch_names() == ["main"]
    with pytest.raises(VersionError, match="no branch 'busy'"):
        versions.delete_branch("busy")


def test_diff_against_main_lists_rows_added_changed_and_removed_with_the_changed_columns(catalog):
    versions.create_branch("tidy")

    def edits():
        Item.objects.filter(itemid=1).update(name="Teal Oak Mug", category="Tableware")
        Item.objects.filter(itemid=2).delete()
        Item.objects.create(itemid=3, name="Wool Throw", category="Home")

    on_branch("tidy", edits)
    changes = {change.key: change for change in versions.diff("tidy")}

    assert changes[1].kind == "changed" and changes[1].changed_columns == ["category"]
    assert changes[1].before["category"] == "Kitchen" and changes[1].after["category"] == "Tableware"
    assert changes[2].kind == "removed" and changes[2].after is None
    assert changes[3].kind == "added" and changes[3].after["name"] == "Wool Throw"
    assert set(changes) == {1, 2, 3}
    assert versions.diff("main") == []


def test_a_commit_is_made_only_when_something_changed(catalog):
    assert versions.commit("nothing", ANN) is None
    Item.objects.filter(itemid=1).update(category="Cups")
    head = versions.commit("Ann regroups item 1", ANN)
    assert versions.log(1)[0].commit_hash == head
    assert versions.log(1)[0].message == "Ann regroups item 1"


def test_failed_changes_can_be_discarded(catalog):
    Item.objects.filter(itemid=1).update(name="half-done")
    assert versions.has_changes()
    versions.discard_changes()
    assert not versions.has_changes()
    assert Item.objects.get(itemid=1).name == "Teal Oak Mug"


def test_branches_and_commits_read_as_models_and_refuse_orm_writes(catalog):
    versions.create_branch("preview")
    assert [branch.name for branch in Branch.objects.all()] == ["main", "preview"]
    assert versions.log(1)[0].message == "two items"
    with pytest.raises(ReadOnlyModelError, match=r"through dashboard\.catalog\.versions"):
        Branch(name="sneaky").save()
    with pytest.raises(ReadOnlyModelError, match="never through the ORM"):
        Commit.objects.all().delete()


def test_merging_the_branch_you_are_on_or_a_missing_one_is_refused(catalog):
    with pytest.raises(VersionError, match="the branch you are on"):
        versions.merge("main", ANN)
    with pytest.raises(VersionError, match="no branch 'nope'"):
        versions.merge("nope", ANN)


def test_a_connection_kept_between_requests_sees_what_another_process_commits(catalog, tmp_path):
    # The site keeps its catalog connection from request to request (CONN_MAX_AGE), so a
    # commit made by another worker process must show on it without reconnecting.
    kept = connections["catalog"]
    kept.ensure_connection()
    before = kept.connection
    assert Item.objects.get(itemid=1).name == "Teal Oak Mug"
    # A file, not `python -c`: doltlite re-executes the script it loads in.
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text(
        "import sys, sqlite3\n"
        "from analytics_site.env import use_doltlite\n"
        "use_doltlite()\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute(\"UPDATE dashboard_item SET name = 'Teal Oak Mug XL' WHERE itemid = 1\")\n"
        "db.execute(\"SELECT dolt_commit('-A', '-m', 'renamed elsewhere')\")\n"
        "db.execute(\"SELECT dolt_branch('elsewhere')\")\n"
    )
    command = [sys.executable, str(elsewhere), kept.settings_dict["NAME"]]
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})

    assert kept.connection is before
    assert Item.objects.get(itemid=1).name == "Teal Oak Mug XL"
    assert versions.log(1)[0].message == "renamed elsewhere"
    assert "elsewhere" in versions.branch_names()
