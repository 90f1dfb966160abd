"""System checks run by migrate (and `manage.py check --database catalog`): the catalog
database must have Dolt's version control, or branches would fail later, one request at a
time, with the server's own words."""

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError, connections

from dashboard.dbrouter import CATALOG


def dolt_version_error(using: str) -> Error | None:
    """None when `using` answers dolt_version() (doltlite and a Dolt sql-server both do)."""
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT dolt_version()")
    except DatabaseError as error:
        return Error(
            f"The {using!r} database ({connections[using].vendor}) has no Dolt version control: {error}",
            hint="Point CATALOG_DATABASE_URL at a doltlite file (sqlite:///path) or a Dolt "
            "sql-server (mysql://user:password@host:3306/database), not a plain MySQL or SQLite.",
            id="dashboard.E001",
        )
    return None


@register(Tags.database)
def catalog_has_dolt_version_control(
    databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not databases or CATALOG not in databases:
        return []
    error = dolt_version_error(CATALOG)
    return [error] if error else []
