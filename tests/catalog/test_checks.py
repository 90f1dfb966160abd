"""The catalog database must have Dolt's version control; migrate checks it first."""

import pytest
from django.core.management import call_command

from dashboard.catalog.checks import catalog_has_dolt_version_control, dolt_version_error


@pytest.mark.django_db(databases=["catalog"])
def test_the_catalog_passes_and_migrate_runs_the_check():
    assert catalog_has_dolt_version_control(databases=["catalog"]) == []
    call_command("check", databases=["catalog"], fail_level="ERROR")


@pytest.mark.django_db(databases=["default"])
def test_a_database_without_dolt_is_named_with_what_to_do():
    # PostgreSQL stands in for a plain MySQL here: a real database with no dolt_version().
    error = dolt_version_error("default")
    assert error.id == "dashboard.E001"
    assert "'default' database (postgresql) has no Dolt version control" in error.msg
    assert "CATALOG_DATABASE_URL" in error.hint


def test_the_check_touches_no_database_unless_asked_for_the_catalog():
    assert catalog_has_dolt_version_control(databases=None) == []
    assert catalog_has_dolt_version_control(databases=["default"]) == []
