"""OlapOltpRouter: the one place that knows which model lives in which database.

Three databases, each one concern:
- "default" (OLTP, PostgreSQL): users, groups, permissions, sessions, the admin log, the
  shared cache table: everything Django itself keeps. Every model not listed below. With
  ORDERS_SOURCE=cdc it is also the shop's database: its order lines (ShopOrder) and the
  capture heartbeat live there, and change data capture copies them to "olap".
- "olap" (RisingWave; a PostgreSQL cluster standing in for it locally): the order lines and
  their rollups (dashboard.orders.models). Unmanaged and read-only through the ORM: rows arrive
  from the order stream, the schema from `manage.py setup_olap`.
- "shop" (PostgreSQL, SHOP_DATABASE_URL; without it the shop is "default"'s database): the
  shop's own tables, which change data capture reads; never migrated, no model of ours.
- "catalog" (a Dolt database: doltlite locally, a Dolt sql-server in docker-compose): the item
  catalog and Dolt's branch and commit tables (dashboard.catalog.models). Only these live
  there: users and sessions must never branch.

No relation crosses databases; where a catalog name labels an OLAP key, the web layer joins
in Python (dashboard.web.rankings).
"""

from typing import Any

from django.db.models import Model

from dashboard.readonly import refuse_write

DEFAULT = "default"
OLAP = "olap"
CATALOG = "catalog"
# The shop's PostgreSQL when SHOP_DATABASE_URL names one (else the shop is "default"'s
# database), which change data capture reads. No model lives there and nothing is migrated
# there: a shop's tables are its own (dashboard/orders/capture.py reads them with plain SQL).
SHOP = "shop"

# Model label (lower case) -> database alias. Models not listed live in "default". By label
# rather than by module, so the map reads as a table and a moved module changes nothing.
MODEL_DATABASES = {
    "dashboard.order": OLAP,
    "dashboard.day": OLAP,
    "dashboard.stateday": OLAP,
    "dashboard.itemday": OLAP,
    "dashboard.statetotal": OLAP,
    "dashboard.itemtotal": OLAP,
    "dashboard.stateitemday": OLAP,
    "dashboard.stateitemtotal": OLAP,
    "dashboard.statespan": OLAP,
    "dashboard.itemspan": OLAP,
    "dashboard.item": CATALOG,
    "dashboard.branch": CATALOG,
    "dashboard.commit": CATALOG,
    # Listed although "default" is where unlisted models go: the shop's tables share a name
    # with the OLAP ones ("orders"), so their home is said out loud.
    "dashboard.shoporder": DEFAULT,
    "dashboard.captureheartbeat": DEFAULT,
}


def shop_alias() -> str:
    """The alias of the shop's database: "shop" when SHOP_DATABASE_URL names one, else
    "default" (the sample shop's `orders` table lives in the dashboard's own database)."""
    from django.conf import settings

    return SHOP if SHOP in settings.DATABASES else DEFAULT


def home_database(model: type[Model]) -> str | None:
    # From app_label and model_name: the database cache's stand-in model has only those.
    return MODEL_DATABASES.get(f"{model._meta.app_label}.{model._meta.model_name}")


class OlapOltpRouter:
    """Reads and writes go to each model's home database; ORM writes to the OLAP side are
    refused outright (dashboard.readonly) rather than sent to a database that would take them
    and lose them on the next load; relations stay inside one database; migrations run only
    where their models live."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return home_database(model)

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        home = home_database(model)
        if home == OLAP:
            refuse_write(model, "write through the ORM")
        return home

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # No relation crosses databases: join in Python instead.
        first, second = home_database(type(obj1)), home_database(type(obj2))
        if first or second:
            return (first or DEFAULT) == (second or DEFAULT)
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        # The OLAP schema belongs to `manage.py setup_olap` (DDL RisingWave accepts), so
        # nothing is ever migrated there, and OLAP models are migrated nowhere. The catalog
        # database holds catalog models and nothing else (never users or sessions, which
        # must not branch); catalog models live nowhere else.
        if db in (OLAP, SHOP):
            return False
        home = MODEL_DATABASES.get(f"{app_label}.{model_name}") if model_name else None
        if db == CATALOG:
            return home == CATALOG
        if home in (OLAP, CATALOG):
            return False
        return None
