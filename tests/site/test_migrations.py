"""Existing installations carry forward: a database migrated at the previous release (the
code before the packages by concern, migration 0004) migrates cleanly to this layout, with
its content types, permissions, users' grants, catalog rows and Dolt history intact."""

import io

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.test import RequestFactory

from dashboard.catalog import versions
from dashboard.catalog.models import Item
from dashboard.sessions.auth import user_of
from dashboard.sessions.models import UserSession
from dashboard.sessions.store import SessionStore

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


def test_the_move_to_sessions_that_name_their_user_keeps_everyone_logged_in():
    """Migration 0010: the live sessions of Django's table are carried over, named after
    their user and the new backend; expired ones, a deleted user's and ones that do not
    verify are not."""
    call_command("migrate", "dashboard", "0009_span_rollups", database="default", verbosity=0)
    analyst, gone = User.objects.create_user("analyst"), User.objects.create_user("gone")

    def django_session(user, **expiry):
        session = DjangoSessionStore()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        if expiry:
            session.set_expiry(**expiry)
        session.save()
        return session.session_key

    live, expired = django_session(analyst), django_session(analyst, value=-60)
    of_the_gone = django_session(gone)
    with connections["default"].cursor() as cursor:
        # Deleted as the previous release would (the ORM here would look for its sessions
        # in a table that is not there yet).
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [gone.pk])
        cursor.execute(
            "INSERT INTO django_session VALUES (%s, 'not signed', now() + interval '1 day')",
            ["forgedforgedforgedforged"],
        )

    call_command("migrate", database="default", verbosity=0)

    carried = {session.session_key: session for session in UserSession.objects.all()}
    assert set(carried) == {live}, (expired, of_the_gone)
    assert carried[live].user_id == analyst.pk
    assert carried[live].get_decoded()[BACKEND_SESSION_KEY] == "dashboard.sessions.auth.SessionUserBackend"
    request = RequestFactory().get("/")
    request.session = SessionStore(live)
    assert user_of(request) == analyst  # still logged in: backend, session hash and all
