"""OlapOltpRouter: the one place that knows which model lives in which database."""

from dashboard.readonly import refuse_write

OLAP = "olap"
CATALOG = "catalog"

# Model label (lower case) -> database alias. Models not listed live in "default".
MODEL_DATABASES = {
    "dashboard.order": OLAP,
    "dashboard.stateday": OLAP,
    "dashboard.itemday": OLAP,
    "dashboard.statetotal": OLAP,
    "dashboard.itemtotal": OLAP,
    "dashboard.stateitemday": OLAP,
    "dashboard.stateitemtotal": OLAP,
    "dashboard.item": CATALOG,
    "dashboard.branch": CATALOG,
    "dashboard.commit": CATALOG,
}


def home_database(model):
    # From app_label and model_name: the database cache's stand-in model has only those.
    return MODEL_DATABASES.get(f"{model._meta.app_label}.{model._meta.model_name}")


class OlapOltpRouter:
    def db_for_read(self, model, **hints):
        return home_database(model)

    def db_for_write(self, model, **hints):
        home = home_database(model)
        if home == OLAP:
            refuse_write(model, "write through the ORM")
        return home

    def allow_relation(self, obj1, obj2, **hints):
        # No relation crosses databases: join in Python instead.
        first, second = home_database(type(obj1)), home_database(type(obj2))
        if first or second:
            return first == second
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The OLAP schema belongs to `manage.py setup_olap` (DDL RisingWave accepts), so
        # nothing is ever migrated there, and OLAP models are migrated nowhere. The catalog
        # database holds catalog models and nothing else (never users or sessions, which
        # must not branch); catalog models live nowhere else.
        if db == OLAP:
            return False
        home = MODEL_DATABASES.get(f"{app_label}.{model_name}") if model_name else None
        if db == CATALOG:
            return home == CATALOG
        if home in (OLAP, CATALOG):
            return False
        return None
