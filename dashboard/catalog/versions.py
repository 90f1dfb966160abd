"""Version control of the item catalog, the Dolt way: branches, commits, merges and diffs on
the `catalog` database, with bound parameters, on either Dolt engine (dashboard.catalog.dialects:
embedded doltlite, or a Dolt sql-server).

Dolt's own commit and merge are not undone by a database rollback, so callers commit only
once a change is complete (the auto-commit middleware does it at the end of a request).
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

from dashboard.catalog.dialects import dialect
from dashboard.catalog.models import Commit, Item
from dashboard.dbrouter import CATALOG

MAIN = "main"
# Dolt accepts more, but a name that reads well in a URL, a menu and a commit message is
# what people need; anything else is refused before it reaches the database.
BRANCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,62}")
# The versioned tables, by model: Dolt's table functions are named after the table.
VERSIONED = (Item,)


class VersionError(Exception):
    """A branch operation that cannot be done, with a message a person can act on."""


@dataclass(frozen=True)
class Conflict:
    table: str
    key: object
    columns: list[tuple[str, Any, Any, Any]]  # [(column, base, ours, theirs)] where ours and theirs disagree


class MergeConflicts(VersionError):
    def __init__(self, branch: str, into: str, conflicts: list[Conflict]) -> None:
        self.branch, self.into, self.conflicts = branch, into, conflicts
        rows = ", ".join(f"{conflict.table} {conflict.key}" for conflict in conflicts)
        super().__init__(
            f"{branch} cannot be merged into {into}: both changed the same values ({rows}). "
            "Nothing was merged; change one side so they agree, then merge again."
        )


@dataclass(frozen=True)
class RowChange:
    key: object
    kind: str  # "added", "changed" or "removed"
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed_columns: list[str]


def _cursor(using: str) -> CursorWrapper:
    return connections[using].cursor()


def _call(cursor: CursorWrapper, using: str, procedure: str, *arguments: str) -> Any:
    """Run one of Dolt's version-control operations; its result row."""
    cursor.execute(*dialect(using).call(procedure, *arguments))
    return cursor.fetchone()


def valid_branch_name(name: object) -> str:
    if not isinstance(name, str) or not BRANCH_NAME.fullmatch(name) or ".." in name or name.endswith("/"):
        raise VersionError(
            f"{name!r} is not a usable branch name: use up to 63 letters, digits and . _ / -, "
            "starting with a letter or digit, without '..'."
        )
    return name


def active_branch(using: str = CATALOG) -> str:
    with _cursor(using) as cursor:
        cursor.execute("SELECT active_branch()")
        return cursor.fetchone()[0]


def branch_names(using: str = CATALOG) -> list[str]:
    with _cursor(using) as cursor:
        cursor.execute("SELECT name FROM dolt_branches ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


def create_branch(name: str, start: str = MAIN, using: str = CATALOG) -> None:
    valid_branch_name(name)
    existing = branch_names(using)
    if name in existing:
        raise VersionError(f"A branch called {name!r} exists already.")
    if start not in existing:
        raise VersionError(f"There is no branch {start!r} to start from.")
    with _cursor(using) as cursor:
        _call(cursor, using, "dolt_branch", name, start)


def delete_branch(name: str, checked_out: Collection[str] = (), using: str = CATALOG) -> None:
    """Delete a branch; never main, the connection's own, or one in `checked_out`."""
    if name == MAIN:
        raise VersionError("main cannot be deleted.")
    if name not in branch_names(using):
        raise VersionError(f"There is no branch {name!r}.")
    if name in checked_out or name == active_branch(using):
        raise VersionError(f"{name} is checked out by someone; switch them to another branch first.")
    with _cursor(using) as cursor:
        _call(cursor, using, "dolt_branch", "-D", name)


def checkout(name: str, using: str = CATALOG) -> None:
    """Put this connection (only) on branch `name`: one statement, as every request runs it."""
    try:
        with _cursor(using) as cursor:
            _call(cursor, using, "dolt_checkout", name)
    except DatabaseError:
        # The engines word a missing branch differently; asked only when checkout failed.
        if name in branch_names(using):
            raise
        raise VersionError(f"There is no branch {name!r}.") from None


def log(limit: int = 50, using: str = CATALOG) -> list[Commit]:
    """The active branch's latest commits, newest first (Dolt's own order: no ORDER BY)."""
    return list(Commit.objects.using(using).all()[:limit])


def has_changes(using: str = CATALOG) -> bool:
    with _cursor(using) as cursor:
        cursor.execute("SELECT count(*) FROM dolt_status")
        return cursor.fetchone()[0] > 0


def commit(message: str, author: str, using: str = CATALOG) -> str | None:
    """Commit every change on the active branch; None when there was nothing to commit.
    `author` is "Name <email>"."""
    if not has_changes(using):
        return None
    with _cursor(using) as cursor:
        return _call(cursor, using, "dolt_commit", "-Am", message, "--author", author)[0]


def discard_changes(using: str = CATALOG) -> None:
    """Throw away what the active branch has not committed (a failed request's writes)."""
    with _cursor(using) as cursor:
        _call(cursor, using, "dolt_reset", "--hard")


def merge(branch: str, author: str, using: str = CATALOG) -> str:
    """Merge `branch` into the active branch; MergeConflicts, with nothing merged, when both
    changed the same value. Returns the new head commit."""
    into = active_branch(using)
    if branch == into:
        raise VersionError(f"{branch} is the branch you are on; merge another branch into it.")
    if branch not in branch_names(using):
        raise VersionError(f"There is no branch {branch!r}.")
    # In a transaction, so that a conflicted merge can be inspected and then rolled back:
    # doltlite refuses it with an error, a Dolt sql-server reports it in its result row.
    with transaction.atomic(using=using), _cursor(using) as cursor:
        try:
            result = _call(cursor, using, "dolt_merge", branch, "--author", author)
        except DatabaseError as error:
            if "conflict" not in str(error).lower():
                raise
            raise MergeConflicts(branch, into, _conflicts(cursor)) from None
        if dialect(using).merge_conflicted(result):
            raise MergeConflicts(branch, into, _conflicts(cursor))
        cursor.execute("SELECT commit_hash FROM dolt_log LIMIT 1")
        return cursor.fetchone()[0]


def _conflicts(cursor: CursorWrapper) -> list[Conflict]:
    conflicts = []
    for model in VERSIONED:
        table, key = model._meta.db_table, model._meta.pk.column
        # Every concrete field has a column (that is what makes it concrete).
        columns = [field.column for field in model._meta.concrete_fields if field.column is not None]
        # The table name is the model's, not input.
        cursor.execute(f"SELECT * FROM dolt_conflicts_{table}")  # noqa: S608
        names = [description[0] for description in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            disagreeing = [
                (column, row[f"base_{column}"], row[f"our_{column}"], row[f"their_{column}"])
                for column in columns
                if row[f"our_{column}"] != row[f"their_{column}"]
            ]
            ours_key = row[f"our_{key}"] if row[f"our_{key}"] is not None else row[f"their_{key}"]
            conflicts.append(Conflict(table, ours_key, disagreeing))
    return conflicts


def rows_at(model: type[Model], ref: str, using: str = CATALOG) -> dict[Any, dict[str, Any]]:
    """{key: {column: value}} of the model's table as of branch or commit `ref`."""
    table, key = model._meta.db_table, model._meta.pk.column
    with _cursor(using) as cursor:
        cursor.execute(dialect(using).table_at(table), [ref])
        names = [description[0] for description in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    return {row[key]: row for row in rows}


def diff(branch: str, base: str = MAIN, model: type[Model] = Item, using: str = CATALOG) -> list[RowChange]:
    """[RowChange] that `branch` has against `base`, by key."""
    existing = branch_names(using)
    for name in (branch, base):
        if name not in existing:
            raise VersionError(f"There is no branch {name!r}.")
    before, after = rows_at(model, base, using), rows_at(model, branch, using)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None and new is not None:
            changes.append(RowChange(key, "added", None, new, sorted(new)))
        elif old is not None and new is None:
            changes.append(RowChange(key, "removed", old, None, sorted(old)))
        elif old is not None and new is not None:
            changed = [column for column in new if new[column] != old.get(column)]
            changes.append(RowChange(key, "changed", old, new, changed))
    return changes
