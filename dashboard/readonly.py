"""Read-only models: rows arrive from the order stream, never through the ORM."""

from django.db import models


class ReadOnlyModelError(Exception):
    """An ORM write was attempted on a model that lives in the read-only OLAP database."""


ORDER_STREAM = (
    "Its rows live in the OLAP database and arrive from the order stream (or "
    "scripts/gen_data.py), never through the Django ORM."
)


def refuse_write(model, action):
    reason = getattr(model, "read_only_reason", ORDER_STREAM)
    raise ReadOnlyModelError(f"{model._meta.label} is read-only: cannot {action}. {reason}")


class ReadOnlyQuerySet(models.QuerySet):
    # Covers writes made with an explicit .using(), which never ask the router.
    def update(self, **kwargs):
        refuse_write(self.model, "update()")

    def _update(self, values):
        refuse_write(self.model, "update rows")

    def delete(self):
        refuse_write(self.model, "delete()")

    def _raw_delete(self, using):
        refuse_write(self.model, "delete rows")

    def bulk_create(self, objs, *args, **kwargs):
        refuse_write(self.model, "bulk_create()")

    def bulk_update(self, objs, fields, batch_size=None):
        refuse_write(self.model, "bulk_update()")


class ReadOnlyModel(models.Model):
    objects = ReadOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        refuse_write(type(self), "save()")

    def delete(self, *args, **kwargs):
        refuse_write(type(self), "delete()")
