"""Django's PostgreSQL engine with the cheap health check (analytics_site.db_engines): users,
sessions and a shop's own database."""

from django.db.backends.postgresql import base

from analytics_site.db_engines import ready_by_its_own_account


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        return ready_by_its_own_account(self.connection) or super().is_usable()
