"""The order side: order lines and their rollups in the OLAP database (alias "olap"),
RisingWave in production, a PostgreSQL cluster standing in for it locally.

Owns: the models Order and the nine rollups (models.py); which engine answers (engine.py);
the DDL for either engine (schema.py) and setting it up (setup.py); bulk loading (loading.py,
binary_copy.py, loader_rollups.py, and delta_log_swap.py, which writes a whole load's delta
log beside it) and folding the delta log (compaction.py); per-connection
settings (session.py) and turning failures into answers (errors.py); the admin's order
browser (browser.py); realistic sample orders (sample.py), which dashboard/gen_data.py loads;
with ORDERS_SOURCE=cdc, the sample shop's own order table (ShopOrder, in the "default"
database), change data capture from the shop (capture.py), the lines derived from a mapped
shop's own tables (derivation.py, for SHOP_SCHEMA=oscar or a mapping file), a bulk import's
lines summed as the loader sums a load (bulk_fold.py) and the worker that folds captured
changes into the rollups (worker.py).
Others ask it through selectors.py.

May import: Django, psycopg2, numpy, Faker, dashboard.dbrouter, dashboard.readonly,
dashboard.shop, dashboard.us_states, dashboard.outages. Never dashboard.catalog or dashboard.web.
"""
