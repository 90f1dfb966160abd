"""Where Django's admin finds the app's ModelAdmins: the catalog's (items, branches, commits)
live in dashboard.catalog.admin. The order browser is an admin view of its own
(dashboard.orders.browser), routed in analytics_site/urls.py."""

from dashboard.catalog import admin as catalog_admin

__all__ = ["catalog_admin"]
