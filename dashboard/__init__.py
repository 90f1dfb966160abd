"""The analytics dashboard, one Django app (label "dashboard") in three packages by concern
(the catalog and the orders each own a database; the web owns none and reads both), over a
little shared plumbing. Layers import downward only
(checked by import-linter's contracts in pyproject.toml):

    web         the site: views, URLs, filters, presets, exports, the page's helpers, health
      |         reads the two below only through their selectors and services
    catalog     the item catalog in a Dolt database, versioned: branches, commits, merges
    orders      the order side in the OLAP database (RisingWave): orders, rollups, DDL,
                loading, compaction, the order browser, the sample-order generator
    tokens      API tokens for machine clients (stored as digests, checked by the API views)
      |         catalog, orders and tokens never import each other
    dbrouter    OlapOltpRouter, the one map of models to databases; readonly, the guard
    readonly    that keeps OLAP and Dolt system tables read-only through the ORM;
    shop        what a shop's own tables mean (SHOP_SCHEMA: the oscar preset, mapping files);
    outages     outages, riding out a database that goes away and comes back (batch programs)
      |
    us_states   the US states and their populations

Entry points sit on top: apps.py (hooks), models.py and admin.py (where Django looks),
gen_data.py (the sample-data program: item names into the catalog, orders into the OLAP
side or the shop's database), management/commands (thin commands over the packages).
"""
