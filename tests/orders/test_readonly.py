import datetime
from decimal import Decimal

import pytest

from dashboard.orders.models import Order
from dashboard.readonly import ReadOnlyModelError
from tests.support.orders import all_orders, insert_orders

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

ROW = (10, 3, 2, Decimal("9.99"), datetime.date(2026, 1, 5), "CA")


@pytest.fixture
def existing_order():
    insert_orders([ROW])
    return Order.objects.get(orderid=10, itemid=3)


WRITES = {
    "save": lambda order: order.save(),
    "save with explicit database": lambda order: order.save(using="olap"),
    "delete": lambda order: order.delete(),
    "create": lambda order: Order.objects.create(orderid=11, itemid=1, qty=1, price=Decimal(1)),
    "get_or_create": lambda order: Order.objects.get_or_create(orderid=12, itemid=1),
    "update_or_create": lambda order: Order.objects.update_or_create(
        orderid=10, itemid=3, defaults={"qty": 9}
    ),
    "queryset update": lambda order: Order.objects.filter(orderid=10).update(qty=9),
    "queryset update on olap": lambda order: Order.objects.using("olap").update(qty=9),
    "queryset delete": lambda order: Order.objects.all().delete(),
    "queryset delete on olap": lambda order: Order.objects.using("olap").filter(orderid=10).delete(),
    "bulk_create": lambda order: Order.objects.bulk_create([Order(orderid=13, itemid=1, qty=1)]),
    "bulk_update": lambda order: Order.objects.bulk_update([order], ["qty"]),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_orm_write_is_refused_and_changes_nothing(existing_order, write):
    existing_order.qty = 99
    with pytest.raises(ReadOnlyModelError, match=r"dashboard\.Order is read-only: cannot .+ never through"):
        write(existing_order)
    assert all_orders() == [ROW]


def test_reads_work(existing_order):
    assert existing_order.price == Decimal("9.99")
    assert existing_order.dt == datetime.date(2026, 1, 5)
    assert existing_order.pk == (10, 3)
    assert Order.objects.filter(state="CA").count() == 1
