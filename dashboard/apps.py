"""The dashboard app: wires each package's hooks into Django once the models are loaded."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Analytics dashboard"

    def ready(self) -> None:
        from dashboard.catalog import checks  # noqa: F401 - registers the system checks
        from dashboard.catalog.services import commit_migrated_schema
        from dashboard.orders.session import on_connection_created
        from dashboard.web import checks as web_checks  # noqa: F401 - and check --deploy's

        connection_created.connect(on_connection_created, dispatch_uid="dashboard.orders.statement_timeout")
        post_migrate.connect(commit_migrated_schema, dispatch_uid="dashboard.catalog_schema")
