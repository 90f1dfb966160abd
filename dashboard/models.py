from django.db import models

from dashboard.readonly import ReadOnlyModel


class Item(models.Model):
    """The item catalog (OLTP): names that label item ids coming from the order stream."""

    itemid = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    # Analysts regroup items on a branch, next to renaming them.
    category = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["itemid"]

    def __str__(self):
        return f"{self.name} (#{self.itemid})"


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

    def __str__(self):
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


VERSION_CONTROL = (
    "Dolt maintains it: change branches and commits through dashboard.catalog_versions "
    "(create_branch, delete_branch, merge, commit), never through the ORM."
)


class Branch(ReadOnlyModel):
    """A branch of the item catalog: Dolt's dolt_branches system table."""

    read_only_reason = VERSION_CONTROL
    name = models.CharField(max_length=200, primary_key=True)
    hash = models.CharField(max_length=64)
    latest_committer = models.CharField(max_length=200)
    latest_committer_email = models.CharField(max_length=200)
    latest_commit_date = models.DateTimeField()
    latest_commit_message = models.TextField()

    class Meta:
        managed = False
        db_table = "dolt_branches"
        ordering = ["name"]
        permissions = [("merge_into_main", "Can merge catalog branches into main")]

    def __str__(self):
        return self.name


class Commit(ReadOnlyModel):
    """A commit on the active branch's history: Dolt's dolt_log system table, newest first."""

    read_only_reason = VERSION_CONTROL
    commit_hash = models.CharField(max_length=64, primary_key=True)
    committer = models.CharField(max_length=200)
    email = models.CharField(max_length=200)
    date = models.DateTimeField()
    message = models.TextField()

    class Meta:
        managed = False
        db_table = "dolt_log"

    def __str__(self):
        return f"{self.commit_hash[:8]} {self.message}"
