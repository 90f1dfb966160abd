"""Django's PostgreSQL engine with the cheap health check (analytics_site.db_engines): users,
sessions and a shop's own database."""

from django.db.backends.postgresql import base

from analytics_site.db_engines import AsksOnlyWhenInDoubt


class DatabaseWrapper(AsksOnlyWhenInDoubt, base.DatabaseWrapper):
    pass
