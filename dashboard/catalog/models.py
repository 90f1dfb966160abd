"""The item catalog's models, in the Dolt database (alias "catalog").

Item is an ordinary managed model; Branch and Commit are Dolt's own system tables, read
through the ORM and changed only through dashboard.catalog.versions.
"""

from django.db import models

from dashboard.readonly import ReadOnlyModel


class Item(models.Model):
    """An item of the catalog: the name (and category) that labels an item id of the order
    stream. Versioned by Dolt: edits land on the session's branch and are merged into main."""

    itemid = models.IntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    # Analysts regroup items on a branch, next to renaming them.
    category = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["itemid"]

    def __str__(self) -> str:
        return f"{self.name} (#{self.itemid})"


VERSION_CONTROL = (
    "Dolt maintains it: change branches and commits through dashboard.catalog.versions "
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
        verbose_name_plural = "branches"
        permissions = [("merge_into_main", "Can merge catalog branches into main")]

    def __str__(self) -> str:
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

    def __str__(self) -> str:
        return f"{self.commit_hash[:8]} {self.message}"
