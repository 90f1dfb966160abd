"""UserSession: Django's database session with its user's id in a column of its own."""

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


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

    class Meta(AbstractBaseSession.Meta):
        app_label = "dashboard"
        db_table = "dashboard_session"

    @classmethod
    def get_session_store_class(cls) -> type:
        from dashboard.sessions.store import SessionStore

        return SessionStore
