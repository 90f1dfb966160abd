"""Where Django's admin finds the app's ModelAdmins: the catalog's (items, branches, commits)
live in dashboard.catalog.admin, the API tokens' in dashboard.tokens.admin. The order browser
is an admin view of its own (dashboard.orders.browser), routed in analytics_site/urls.py."""

from dashboard.catalog import admin as catalog_admin
from dashboard.tokens import admin as token_admin

__all__ = ["catalog_admin", "token_admin"]
