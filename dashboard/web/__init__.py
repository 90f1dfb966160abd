"""The web: the dashboard page, its JSON and CSV API, the health endpoints, /metrics.

Owns: views.py (parse, ask, render), urls.py, decorators.py (the one error path), filters.py
(query strings into OrderFilters), presets.py, rankings.py (the rankings as shown: titles and
labels), payload.py and export.py (JSON and CSV), cache.py (the short rankings cache), freshness.py
(the change marker behind the API's ETag and the cache keys, and the lag notice), health.py,
metrics.py (/metrics for Prometheus, and the middleware timing every request), templatetags/.

May import: Django, dashboard.us_states, and the other packages only through
dashboard.catalog.selectors, dashboard.catalog.services and dashboard.orders.selectors.
"""
