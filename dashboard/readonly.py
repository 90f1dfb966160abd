"""Read-only models: rows arrive from the order stream, never through the ORM."""

from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar

from django.db import models

_M = TypeVar("_M", bound=models.Model)


class ReadOnlyModelError(Exception):
    """An ORM write was attempted on a model that lives in the read-only OLAP database."""


ORDER_STREAM = (
    "Its rows live in the OLAP database and arrive from the order stream (or "
    "scripts/gen_data.py), never through the Django ORM."
)


def refuse_write(model: type[models.Model], action: str) -> NoReturn:
    reason = getattr(model, "read_only_reason", ORDER_STREAM)
    raise ReadOnlyModelError(f"{model._meta.label} is read-only: cannot {action}. {reason}")


class ReadOnlyQuerySet(models.QuerySet[_M]):
    # Covers writes made with an explicit .using(), which never ask the router.
    def update(self, **kwargs: Any) -> NoReturn:
        refuse_write(self.model, "update()")

    def _update(self, values: Any) -> NoReturn:
        refuse_write(self.model, "update rows")

    def delete(self) -> NoReturn:
        refuse_write(self.model, "delete()")

    def _raw_delete(self, using: str | None) -> NoReturn:
        refuse_write(self.model, "delete rows")

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> NoReturn:
        refuse_write(self.model, "bulk_create()")

    def bulk_update(
        self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None
    ) -> NoReturn:
        refuse_write(self.model, "bulk_update()")


class ReadOnlyModel(models.Model):
    objects = ReadOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        refuse_write(type(self), "save()")

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        refuse_write(type(self), "delete()")
