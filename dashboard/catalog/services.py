"""Changes to the item catalog that callers outside it may ask for (services); the branch,
commit and merge operations themselves are in dashboard.catalog.versions."""

from typing import Any

from django.db import connections
from django.http import HttpRequest

from dashboard.catalog import versions
from dashboard.catalog.models import Item
from dashboard.catalog.selectors import SESSION_KEY
from dashboard.dbrouter import CATALOG

VersionError = versions.VersionError

MIGRATE_AUTHOR = "Django migrate <migrate@localhost>"


def switch_branch(request: HttpRequest, name: str) -> None:
    """Put the session on branch `name`: from its next request, it reads and edits the
    catalog there. VersionError if there is no such branch."""
    if name not in versions.branch_names():
        raise VersionError(f"There is no branch {name!r}.")
    request.session[SESSION_KEY] = name


def commit_migrated_schema(using: str, **kwargs: Any) -> None:
    """After migrate (post_migrate): migrations change the catalog's tables, so commit them
    on the branch they ran on; branches made later start from them (a branch starts from a
    commit, not from uncommitted changes)."""
    if using == CATALOG and versions.has_changes(using):
        versions.commit("migrate: the catalog's tables", MIGRATE_AUTHOR, using)


def name_new_items(names: dict[int, str], message: str, author: str) -> None:
    """Add the items of `names` ({itemid: name}) that the catalog does not know yet, and
    commit them on the current branch; items already there keep the names people gave them."""
    Item.objects.bulk_create(
        [Item(itemid=itemid, name=name) for itemid, name in names.items()],
        ignore_conflicts=True,
        batch_size=5000,
    )
    if not connections[CATALOG].in_atomic_block:  # a Dolt commit cannot be rolled back
        versions.commit(message, author)
