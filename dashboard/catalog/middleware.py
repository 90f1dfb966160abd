"""A branch per session, and one Dolt commit per request that changed the catalog.

At the start of a request the catalog connection checks out the session's branch; at the
end it goes back to main, so a connection never carries one user's branch into another
user's request. Changes made through the ORM are recorded from model signals (for the
commit message), and every write statement on the catalog connection is noticed too, so
bulk writes that send no signals (QuerySet.update(), bulk_create()) are not missed; a request
that ends well and changed the catalog makes exactly one commit, naming the user and what
changed; a request that failed keeps nothing.

Dolt keeps one working set per branch, shared by every connection on it, so a request
commits (or, failing, discards) only when it changed the catalog itself: a request that
changed nothing never touches what another request is doing.
"""

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, cast

from django.apps import apps
from django.contrib.auth.models import AnonymousUser, User
from django.db import DatabaseError, connections
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

from dashboard.catalog import versions
from dashboard.catalog.selectors import SESSION_KEY, CatalogRequest, session_branch
from dashboard.dbrouter import CATALOG, home_database

# This request's [description], or None outside a request.
_changes: ContextVar[list[str] | None] = ContextVar("catalog_changes", default=None)
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
QUOTED_NAME = re.compile(r"[`\"](\w+)[`\"]")  # Django quotes every table name it writes
# Both engines' form of Dolt's checkout (dashboard.catalog.dialects): the one statement that
# moves a connection to another branch.
CHECKOUT = re.compile(r"\bdolt_checkout\s*\(", re.IGNORECASE)


def _record(description: str) -> None:
    changes = _changes.get()
    if changes is not None:
        changes.append(description)


def _is_catalog(sender: type[Model]) -> bool:
    return home_database(sender) == CATALOG


@receiver(post_save)
def _saved(sender: type[Model], instance: Model, created: bool, **kwargs: Any) -> None:
    if _is_catalog(sender):
        _record(f"{'added' if created else 'changed'} {sender._meta.verbose_name} {instance}")


@receiver(pre_delete)
def _deleted(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    if _is_catalog(sender):
        _record(f"deleted {sender._meta.verbose_name} {instance}")


@receiver(m2m_changed)
def _related(sender: type[Model], instance: Model, action: str, **kwargs: Any) -> None:
    if _is_catalog(type(instance)) and action.startswith("post_"):
        _record(f"changed the links of {type(instance)._meta.verbose_name} {instance}")


def author(user: User | AnonymousUser) -> str:
    if not user.is_authenticated:
        return "anonymous <anonymous@localhost>"
    name = user.get_full_name() or user.get_username()
    return f"{name} <{user.email or user.get_username() + '@localhost'}>"


def commit_message(
    user: User | AnonymousUser, changes: Iterable[str], written_tables: Iterable[str] = ()
) -> str:
    who = user.get_username() if user.is_authenticated else "anonymous"
    what = "; ".join(dict.fromkeys(changes))
    if not what:  # only bulk writes, which name no rows
        what = "bulk changes to " + (", ".join(sorted(map(_plural_name, written_tables))) or "the catalog")
    return f"{who}: {what}"


def _plural_name(table: str) -> str:
    for model in apps.get_models():
        if model._meta.db_table == table:
            return str(model._meta.verbose_name_plural)
    return table


class WriteRecorder:
    """Notes the tables this request's statements wrote to on the catalog connection, and
    whether any of them checked out a branch."""

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.checked_out = False

    def __call__(
        self,
        execute: Callable[[str, Any, bool, dict[str, Any]], Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        self.checked_out = self.checked_out or bool(CHECKOUT.search(sql))
        result = execute(sql, params, many, context)
        if WRITE.match(sql):
            table = QUOTED_NAME.search(sql)
            self.tables.add(table.group(1) if table else "the catalog")
        return result


class CatalogBranchMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        branch = session_branch(request)
        if branch != versions.MAIN:
            try:
                versions.checkout(branch)
            except versions.VersionError:
                # Deleted since: back to main rather than failing every request.
                request.session[SESSION_KEY] = branch = versions.MAIN
            except DatabaseError:
                # The catalog is down: the request goes on without it (the dashboard labels
                # items by id and says so); the session keeps its branch for when it is back.
                connections[CATALOG].close()
        cast(CatalogRequest, request).catalog_branch = branch
        changes: list[str] = []
        token = _changes.set(changes)
        writes = WriteRecorder()
        try:
            with connections[CATALOG].execute_wrapper(writes):
                response = self.get_response(request)
            self._finish(request, response, changes, writes.tables)
            return response
        finally:
            _changes.reset(token)
            # A connection that stayed on main needs no checkout back (one statement fewer
            # per request; a round trip on a Dolt sql-server).
            if branch != versions.MAIN or writes.checked_out:
                self._back_to_main()

    @staticmethod
    def _back_to_main() -> None:
        """Return the connection to main; a connection the catalog dropped is closed instead
        (the next request opens a new one, on main)."""
        if connections[CATALOG].connection is None:
            return
        try:
            versions.checkout(versions.MAIN)
        except DatabaseError:
            connections[CATALOG].close()

    def _finish(
        self, request: HttpRequest, response: HttpResponseBase, changes: list[str], written_tables: set[str]
    ) -> None:
        if not changes and not written_tables:
            return  # this request changed nothing in the catalog
        if connections[CATALOG].in_atomic_block:
            # A Dolt commit (or reset) cannot be rolled back: inside a transaction someone
            # else opened, it would break that transaction. Requests run in autocommit.
            return
        if response.status_code >= 400:
            versions.discard_changes()  # a failed request keeps nothing
        else:
            versions.commit(commit_message(request.user, changes, written_tables), author(request.user))
