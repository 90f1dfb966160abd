"""The item catalog: item names and categories in their own database (alias "catalog"),
version-controlled the Dolt way, on an embedded doltlite file or a Dolt sql-server.

Owns: the models Item, Branch and Commit (models.py); branches, commits, merges and diffs
(versions.py) on either Dolt engine (dialects.py); a branch per session and one commit per
request that changed the catalog (middleware.py); the admin (admin.py); the check that the
database really is Dolt (checks.py). Others ask it through selectors.py and services.py.

May import: Django, dashboard.dbrouter, dashboard.readonly. Never dashboard.orders or
dashboard.web.
"""
