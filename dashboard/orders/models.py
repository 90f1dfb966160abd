"""The order side's models, in the OLAP database (alias "olap"): the order lines and the
rollups every ranking reads. All unmanaged (manage.py setup_olap creates them, in DDL both
RisingWave and PostgreSQL accept) and read-only through the ORM.
"""

from django.db import models

from dashboard.readonly import ReadOnlyModel


class Order(ReadOnlyModel):
    """One order line in the OLAP database. The table is created by `manage.py setup_olap`."""

    pk = models.CompositePrimaryKey("orderid", "itemid")
    orderid = models.BigIntegerField()
    itemid = models.IntegerField()
    qty = models.IntegerField(null=True)
    # RisingWave rejects NUMERIC(p, s), so the column is plain NUMERIC; the generator and
    # the order stream carry cents.
    price = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    dt = models.DateField(null=True)
    # NULL is a real value in the order stream (unknown state), not an empty string.
    state = models.CharField(max_length=2, null=True)  # noqa: DJ001

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
