import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import router

from dashboard.dbrouter import OlapOltpRouter
from dashboard.models import (
    Day,
    Item,
    ItemDay,
    ItemSpan,
    ItemTotal,
    Order,
    StateDay,
    StateItemDay,
    StateItemTotal,
    StateSpan,
    StateTotal,
)
from dashboard.orders.schema import ROLLUPS
from dashboard.readonly import ReadOnlyModelError

ROUTER = OlapOltpRouter()


OLAP_MODELS = [
    Order,
    Day,
    StateDay,
    ItemDay,
    StateItemDay,
    StateTotal,
    ItemTotal,
    StateItemTotal,
    StateSpan,
    ItemSpan,
]


@pytest.mark.parametrize("model", OLAP_MODELS)
def test_orders_and_rollups_are_read_from_the_olap_database(model):
    assert ROUTER.db_for_read(model) == "olap"
    assert router.db_for_read(model) == "olap"
    assert model.objects.all().db == "olap"


@pytest.mark.parametrize("model", OLAP_MODELS)
def test_olap_models_are_read_only_and_migrate_nowhere(model):
    with pytest.raises(ReadOnlyModelError, match=rf"{model._meta.label} is read-only"):
        router.db_for_write(model)
    assert router.allow_migrate_model("default", model) is False
    assert router.allow_migrate_model("olap", model) is False


def test_the_item_catalog_is_read_and_written_in_the_catalog_database():
    assert ROUTER.db_for_read(Item) == "catalog"
    assert router.db_for_write(Item) == "catalog"
    assert router.allow_migrate_model("catalog", Item) is True
    assert router.allow_migrate_model("default", Item) is False
    assert router.allow_migrate_model("olap", Item) is False


@pytest.mark.parametrize(
    ("app_label", "model_name"),
    [
        ("auth", "user"),
        ("sessions", "session"),
        ("contenttypes", "contenttype"),
        ("admin", "logentry"),
        ("auth", None),
    ],
)
def test_users_and_sessions_never_live_in_the_branched_catalog(app_label, model_name):
    assert ROUTER.allow_migrate("catalog", app_label, model_name) is False


@pytest.mark.parametrize("model", [User])
def test_oltp_models_are_left_to_the_default_database(model):
    assert ROUTER.db_for_read(model) is None
    assert ROUTER.db_for_write(model) is None
    assert router.db_for_read(model) == "default"
    assert router.db_for_write(model) == "default"


def test_writes_to_orders_are_refused_with_a_reason():
    with pytest.raises(ReadOnlyModelError, match=r"dashboard\.Order is read-only"):
        ROUTER.db_for_write(Order)
    with pytest.raises(ReadOnlyModelError, match="order stream"):
        router.db_for_write(Order)


def test_relations_never_cross_the_two_databases():
    order = Order(orderid=1, itemid=1)
    item = Item(itemid=1, name="Mug")
    user = User(username="ann")
    assert ROUTER.allow_relation(order, item) is False
    assert ROUTER.allow_relation(item, order) is False
    assert ROUTER.allow_relation(order, user) is False
    assert ROUTER.allow_relation(order, Order(orderid=2, itemid=1)) is True
    assert ROUTER.allow_relation(item, user) is False
    assert ROUTER.allow_relation(item, Item(itemid=2, name="Cup")) is True
    assert ROUTER.allow_relation(user, User(username="bo")) is None


@pytest.mark.parametrize(
    ("app_label", "model_name"),
    [
        ("dashboard", "order"),
        ("dashboard", "item"),
        ("auth", "user"),
        ("sessions", "session"),
        ("auth", None),
    ],
)
def test_nothing_is_ever_migrated_onto_the_olap_database(app_label, model_name):
    assert ROUTER.allow_migrate("olap", app_label, model_name) is False


def test_olap_models_are_migrated_nowhere():
    assert ROUTER.allow_migrate("default", "dashboard", "order") is False
    assert router.allow_migrate_model("default", Order) is False
    assert router.allow_migrate_model("olap", Order) is False


@pytest.mark.parametrize(
    ("app_label", "model_name"), [("auth", "user"), ("sessions", "session"), ("auth", None)]
)
def test_oltp_models_migrate_on_the_default_database(app_label, model_name):
    assert ROUTER.allow_migrate("default", app_label, model_name) is None
    assert router.allow_migrate("default", app_label, model_name=model_name) is True


@pytest.mark.django_db(databases=["default", "olap"])
def test_olap_test_database_has_no_django_tables(olap_cursor):
    olap_cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
    )
    tables = [name for (name,) in olap_cursor.fetchall()]
    bookkeeping = ["orders_changes", "cdc_heartbeat", "cdc_progress"]  # setup_olap's, for capture
    assert tables == sorted(["orders", *bookkeeping, *(rollup.name for rollup in ROLLUPS)])


def test_the_shared_cache_table_lives_in_the_oltp_database():
    cache_model = caches["shared"].cache_model_class
    assert router.allow_migrate_model("default", cache_model) is True
    assert router.allow_migrate_model("olap", cache_model) is False
    assert router.allow_migrate_model("catalog", cache_model) is False
