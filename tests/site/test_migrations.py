"""Existing installations carry forward: a database migrated at the previous release (the
code before the packages by concern, migration 0004) migrates cleanly to this layout, with
its content types, permissions, users' grants, catalog rows and Dolt history intact."""

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from dashboard.catalog import versions
from dashboard.catalog.models import Item

pytestmark = [pytest.mark.slow, pytest.mark.django_db(databases=["default", "catalog"], transaction=True)]

PREVIOUS_RELEASE = "0004_branch_merge_permission"


def applied(alias):
    return {
        name for app, name in MigrationRecorder(connections[alias]).applied_migrations() if app == "dashboard"
    }


def content_types():
    return {(ct.app_label, ct.model): ct.pk for ct in ContentType.objects.filter(app_label="dashboard")}


def test_a_database_at_the_previous_release_migrates_forward_intact():
    for alias in ("default", "catalog"):
        call_command("migrate", "dashboard", PREVIOUS_RELEASE, database=alias, verbosity=0)
        assert PREVIOUS_RELEASE in applied(alias)
        assert "0005_branch_plural_name" not in applied(alias)
    # What an installation of the previous release holds: an analyst allowed to merge into
    # main and to browse orders, a named item, and its history in Dolt.
    analyst = User.objects.create_user("analyst")
    analyst.user_permissions.add(
        Permission.objects.get(content_type__app_label="dashboard", codename="merge_into_main"),
        Permission.objects.get(content_type__app_label="dashboard", codename="view_order"),
    )
    Item.objects.create(itemid=41, name="Teal Oak Mug", category="Kitchen")
    head = versions.commit("an item named before the upgrade", "Tests <tests@localhost>")
    types_before = content_types()
    history_before = [entry.commit_hash for entry in versions.log(limit=100)]

    for alias in ("default", "catalog"):
        call_command("migrate", database=alias, verbosity=0)
        assert "0005_branch_plural_name" in applied(alias)

    assert content_types() == types_before  # same rows: permissions and admin log keep pointing at them
    analyst = User.objects.get(username="analyst")
    assert analyst.has_perm("dashboard.merge_into_main") and analyst.has_perm("dashboard.view_order")
    assert Item.objects.get(itemid=41).name == "Teal Oak Mug"
    history_after = [entry.commit_hash for entry in versions.log(limit=100)]
    assert head in history_after and history_after[-len(history_before) :] == history_before


def test_the_models_and_the_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "dashboard", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()
