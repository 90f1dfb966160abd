from django.apps import AppConfig
from django.db.backends.signals import connection_created


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Analytics dashboard"

    def ready(self):
        from dashboard.olap.session import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="dashboard.olap.statement_timeout")
