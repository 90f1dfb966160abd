"""django_risingwave's engine with the cheap health check (analytics_site.db_engines): the
OLAP side, RisingWave or the PostgreSQL that stands in for it."""

from django_risingwave import base

from analytics_site.db_engines import ready_by_its_own_account


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        return ready_by_its_own_account(self.connection) or super().is_usable()
