"""Authentication from the session's own read: the backend takes the user that the session
engine read with the session (dashboard.sessions.store) instead of asking the users'
database again, and the middleware tells it which session is being authenticated.

Django's `auth.get_user()` keeps every decision: which backend the session names, the
session hash that a password change invalidates (with SECRET_KEY_FALLBACKS), an inactive
user (the backend's `user_can_authenticate`). Only where the user row comes from changes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, cast

from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

# The session whose user auth.get_user() is looking up, only while it does (a context
# variable: each request's thread sees its own).
_session_being_authenticated: ContextVar[SessionBase | None] = ContextVar(
    "session_being_authenticated", default=None
)


@contextmanager
def _authenticating(session: SessionBase) -> Iterator[None]:
    token = _session_being_authenticated.set(session)
    try:
        yield
    finally:
        _session_being_authenticated.reset(token)


def user_of(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    """Django's auth.get_user(request), with the user read along with the session."""
    with _authenticating(request.session):
        return auth.get_user(request)


class SessionUserMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware (request.user, lazily; request.auser), with
    request.user looked up by user_of()."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: user_of(request))  # type: ignore[assignment]


class SessionUserBackend(ModelBackend):
    """Django's ModelBackend (usernames and passwords, permissions), whose get_user() takes
    the user the session being authenticated was read with, when it is the one asked for;
    otherwise (another session engine, an asynchronous request) it asks the database."""

    def get_user(self, user_id: Any) -> User | None:
        session = _session_being_authenticated.get()
        user = getattr(session, "user_as_read", None)
        if user is None or str(user.pk) != str(user_id):
            return super().get_user(user_id)
        # Taken once: a second lookup in the same request (after a password change, say)
        # reads the user afresh, as Django's backend would.
        session.user_as_read = None  # type: ignore[union-attr]
        return cast(User, user) if self.user_can_authenticate(user) else None
