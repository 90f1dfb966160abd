"""The shop schema this site is configured with (settings.SHOP_SCHEMA and
SHOP_CANCELLED_STATUSES), read once per value: the settings already refused a bad one at
start (analytics_site/env.py)."""

from functools import lru_cache

from django.conf import settings

from dashboard.shop.mapping import ShopSchema, load


@lru_cache(maxsize=8)
def _load(setting: str, cancelled: tuple[str, ...] | None) -> ShopSchema | None:
    return load(setting, cancelled)


def shop_schema() -> ShopSchema | None:
    """The mapped schema, or None for `sample` (the dashboard's own orders table)."""
    cancelled = settings.SHOP_CANCELLED_STATUSES
    return _load(settings.SHOP_SCHEMA, tuple(cancelled) if cancelled is not None else None)
