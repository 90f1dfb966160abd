from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Analytics dashboard"

    def ready(self):
        from dashboard import checks  # noqa: F401 - registers the system checks
        from dashboard.olap.session import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="dashboard.olap.statement_timeout")
        post_migrate.connect(commit_catalog_schema, dispatch_uid="dashboard.catalog_schema")


def commit_catalog_schema(using, **kwargs):
    """Migrations change the catalog's tables: commit them on the branch they ran on, so
    branches made later start from them (a branch starts from a commit, not from
    uncommitted changes)."""
    from dashboard import catalog_versions as versions
    from dashboard.dbrouter import CATALOG

    if using == CATALOG and versions.has_changes(using):
        versions.commit("migrate: the catalog's tables", "Django migrate <migrate@localhost>", using)
