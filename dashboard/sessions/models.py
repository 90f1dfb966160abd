"""UserSession: Django's database session with its user's id in a column of its own."""

from typing import ClassVar

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession, BaseSessionManager
from django.db import models
from django.db.models import QuerySet


class UserSessionManager(BaseSessionManager):
    def get_queryset(self) -> QuerySet:
        # Every read of a session brings its user along (a LEFT JOIN; NULL for a visitor who
        # is not logged in): what lets a request authenticate in one statement.
        return super().get_queryset().select_related("user")


class UserSession(AbstractBaseSession):
    # Without a database constraint: a session row never fails to save because its user was
    # deleted in between (Django's own saving would retry a failed insert forever); the ORM
    # still deletes a deleted user's sessions, and one whose user is gone reads as nobody's.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="+",
    )

    objects: ClassVar[UserSessionManager] = UserSessionManager()

    class Meta(AbstractBaseSession.Meta):
        app_label = "dashboard"
        db_table = "dashboard_session"

    @classmethod
    def get_session_store_class(cls) -> type:
        from dashboard.sessions.store import SessionStore

        return SessionStore
