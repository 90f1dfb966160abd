"""Django's PostgreSQL engine with the cheap health check (analytics_site.db_engines): users,
sessions and a shop's own database."""

from django.db.backends.postgresql import base

from analytics_site.db_engines import server_may_have_closed


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        return not server_may_have_closed(self.connection) or super().is_usable()
