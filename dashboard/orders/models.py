"""The order side's models.

In the OLAP database (alias "olap"): the order lines and the rollups every ranking reads. All
unmanaged (manage.py setup_olap creates them, in DDL both RisingWave and PostgreSQL accept)
and read-only through the ORM.

In the shop's database (alias "default", ORDERS_SOURCE=cdc): the shop's own order lines and a
heartbeat, which change data capture carries to the OLAP side. Managed: migrate creates them.
"""

from django.db import models

from dashboard.readonly import ReadOnlyModel


class OrderLine(models.Model):
    """The columns and key of an order line, wherever it lives: the OLAP `orders` table and
    the shop's own (change data capture maps one to the other row by row)."""

    pk = models.CompositePrimaryKey("orderid", "itemid")
    orderid = models.BigIntegerField()
    itemid = models.IntegerField()
    qty = models.IntegerField(null=True)
    # RisingWave rejects NUMERIC(p, s), so the OLAP column is plain NUMERIC; the generator and
    # the order stream carry cents.
    price = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    dt = models.DateField(null=True)
    # NULL is a real value in the order stream (unknown state), not an empty string.
    state = models.CharField(max_length=2, null=True)  # noqa: DJ001

    class Meta:
        abstract = True


class Order(ReadOnlyModel, OrderLine):
    """One order line in the OLAP database. The table is created by `manage.py setup_olap`.

    With a mapped shop schema (SHOP_SCHEMA=oscar or a mapping file) it holds one line per
    (order, item) derived from the shop's tables: `amount` is the line's money and `price`
    is NULL, and a line whose product was deleted has no item (itemid NULL)."""

    # The line's money where the source states it (a shop's line total); NULL where the unit
    # price says it (turnover = qty * price). schema.LINE_TURNOVER is the one rule.
    amount = models.DecimalField(max_digits=30, decimal_places=3, null=True)

    class Meta:
        managed = False
        db_table = "orders"

    def __str__(self) -> str:
        return f"order {self.orderid} item {self.itemid}"


class RollupMeasures(ReadOnlyModel):
    """Additive measures of a rollup row; *_lines count the lines whose value is known."""

    lines = models.BigIntegerField()
    qty_sum = models.BigIntegerField(null=True)
    qty_lines = models.BigIntegerField()
    turnover = models.DecimalField(max_digits=30, decimal_places=2, null=True)
    turnover_lines = models.BigIntegerField()

    class Meta:
        abstract = True


class StateDay(RollupMeasures):
    pk = models.CompositePrimaryKey("dt", "state")
    dt = models.DateField()
    state = models.CharField(max_length=2)
    orders = models.BigIntegerField()  # orders with lines in this state on this day

    class Meta:
        managed = False
        db_table = "orders_state_day"


class ItemDay(RollupMeasures):
    pk = models.CompositePrimaryKey("dt", "itemid")
    dt = models.DateField()
    itemid = models.IntegerField()

    class Meta:
        managed = False
        db_table = "orders_item_day"


class StateItemDay(RollupMeasures):
    # On PostgreSQL a log of deltas: a key can have several rows, so this is only ever read
    # summed (values().annotate()), never as instances.
    pk = models.CompositePrimaryKey("state", "dt", "itemid")
    state = models.CharField(max_length=2)
    dt = models.DateField()
    itemid = models.IntegerField()

    class Meta:
        managed = False
        db_table = "orders_state_item_day"


class Day(RollupMeasures):
    dt = models.DateField(primary_key=True)
    orders = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "orders_day"


class StateTotal(RollupMeasures):
    state = models.CharField(max_length=2, primary_key=True)
    orders = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "orders_state_total"


class ItemTotal(RollupMeasures):
    itemid = models.IntegerField(primary_key=True)

    class Meta:
        managed = False
        db_table = "orders_item_total"


class StateItemTotal(RollupMeasures):
    pk = models.CompositePrimaryKey("state", "itemid")
    state = models.CharField(max_length=2)
    itemid = models.IntegerField()

    class Meta:
        managed = False
        db_table = "orders_state_item_total"


class ShopOrder(OrderLine):
    """One order line as the shop writes it, in its own PostgreSQL: the source that change
    data capture copies into the OLAP `orders` table (ORDERS_SOURCE=cdc)."""

    class Meta:
        db_table = "orders"
        verbose_name = "shop order line"

    def __str__(self) -> str:
        return f"shop order {self.orderid} item {self.itemid}"


class CaptureHeartbeat(models.Model):
    """One row in the shop's database that `manage.py cdc_worker` (and gen_data) stamp with
    the time: captured like the orders, it tells how far behind the source the OLAP side is
    (everything committed before the stamp has arrived once the stamp has)."""

    id = models.IntegerField(primary_key=True)
    beat = models.DateTimeField()

    class Meta:
        db_table = "cdc_heartbeat"

    def __str__(self) -> str:
        return f"heartbeat {self.beat.isoformat()}"


class StateSpan(RollupMeasures):
    """The states' figures over spans of days (dashboard/orders/spans.py): a date range is
    read as a few spans, not a row a day."""

    pk = models.CompositePrimaryKey("dt", "days", "state")
    dt = models.DateField()  # the span's first day
    days = models.IntegerField()
    state = models.CharField(max_length=2)
    orders = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "orders_state_span"


class ItemSpan(RollupMeasures):
    """The items' figures over spans of days, as StateSpan."""

    pk = models.CompositePrimaryKey("dt", "days", "itemid")
    dt = models.DateField()
    days = models.IntegerField()
    itemid = models.IntegerField()

    class Meta:
        managed = False
        db_table = "orders_item_span"
