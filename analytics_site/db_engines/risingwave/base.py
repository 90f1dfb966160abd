"""django_risingwave's engine with the cheap health check (analytics_site.db_engines): the
OLAP side, RisingWave or the PostgreSQL that stands in for it."""

from django_risingwave import base

from analytics_site.db_engines import AsksOnlyWhenInDoubt


class DatabaseWrapper(AsksOnlyWhenInDoubt, base.DatabaseWrapper):
    pass
