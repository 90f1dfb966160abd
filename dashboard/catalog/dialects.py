"""The two ways this site speaks to Dolt, chosen by the catalog connection's backend:

- doltlite, embedded (Django's SQLite backend): version control is a set of SQL functions
  (`SELECT dolt_commit(...)`) and a table's past is a table function, `dolt_at_<table>(ref)`;
- a Dolt sql-server (Django's MySQL backend, as in docker-compose.yaml): version control is a
  set of stored procedures (`CALL DOLT_COMMIT(...)`) and a table's past is `AS OF ref`.

Every argument is a bound parameter; only names from this code (procedures, and tables from
the models) are written into the SQL.
"""

from collections.abc import Sequence
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import connections

# The version-control operations dashboard.catalog.versions uses; nothing else is called.
PROCEDURES = frozenset({"dolt_branch", "dolt_checkout", "dolt_commit", "dolt_merge", "dolt_reset"})


def _placeholders(arguments: Sequence[str]) -> str:
    return ", ".join(["%s"] * len(arguments))


def _known(procedure: str) -> str:
    if procedure not in PROCEDURES:
        raise ValueError(f"{procedure} is not a version-control operation this site uses.")
    return procedure


class Dialect(Protocol):
    """What dashboard.catalog.versions asks of either engine."""

    name: str

    def call(self, procedure: str, *arguments: str) -> tuple[str, list[str]]:
        """(sql, params) that run the version-control operation `procedure`."""
        ...

    def table_at(self, table: str) -> str: ...

    def merge_conflicted(self, row: Sequence[Any] | None) -> bool: ...


class Doltlite:
    name = "doltlite"

    def call(self, procedure: str, *arguments: str) -> tuple[str, list[str]]:
        return f"SELECT {_known(procedure)}({_placeholders(arguments)})", list(arguments)

    def table_at(self, table: str) -> str:
        """SELECT every row of `table` as of the revision bound to the one parameter."""
        return f"SELECT * FROM dolt_at_{table}(%s)"  # noqa: S608 - table from a model

    def merge_conflicted(self, row: Sequence[Any] | None) -> bool:
        # doltlite refuses a conflicted merge with an error instead (see versions.merge).
        return False


class DoltServer:
    name = "Dolt sql-server"

    def call(self, procedure: str, *arguments: str) -> tuple[str, list[str]]:
        return f"CALL {_known(procedure).upper()}({_placeholders(arguments)})", list(arguments)

    def table_at(self, table: str) -> str:
        return f"SELECT * FROM `{table}` AS OF %s"  # noqa: S608 - table from a model

    def merge_conflicted(self, row: Sequence[Any] | None) -> bool:
        # DOLT_MERGE answers (hash, fast_forward, conflicts, message); inside a transaction a
        # conflicted merge is reported there and left for the caller to inspect and roll back.
        return bool(row and row[2])


DIALECTS: dict[str, Dialect] = {"sqlite": Doltlite(), "mysql": DoltServer()}


def dialect(using: str) -> Dialect:
    vendor = connections[using].vendor
    try:
        return DIALECTS[vendor]
    except KeyError:
        raise ImproperlyConfigured(
            f"The {using!r} database is {vendor}, which has no Dolt version control: use a "
            "doltlite file (sqlite:///...) or a Dolt sql-server (mysql://...)."
        ) from None
