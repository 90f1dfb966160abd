"""The site's template filters and tags ({% load dashboard_format %}, registered in settings)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import template
from django.http import QueryDict

from dashboard.catalog.selectors import CatalogUnavailable, item_names
from dashboard.orders.selectors import AVERAGE, COUNT, MONEY, Value
from dashboard.us_states import is_us_state, state_name

register = template.Library()


@register.filter
def ranking_value(value: Value, kind: str) -> str:
    """A ranking value as the data tables show it (money exact, to the cent)."""
    if kind == MONEY:
        return f"${value:,.2f}"
    if kind == AVERAGE:
        return f"{value:,.2f}"
    if kind == COUNT:
        return f"{value:,}"
    raise ValueError(f"unknown value kind {kind!r}")


@register.filter
def state_label(code: str | None) -> str:
    return state_name(code) if code else ""


@register.filter
def with_state(query: QueryDict, state: str) -> str:
    """The query string with the state filter set to `state`: a state's drill-down link."""
    changed = query.copy()
    changed["state"] = state
    return changed.urlencode()


@register.filter
def without_state(query: QueryDict) -> str:
    changed = query.copy()
    changed.pop("state", None)
    return changed.urlencode()


@register.filter
def listed_state(code: str | None) -> bool:
    """Whether the state menus list `code` (a US state, DC or territory)."""
    return bool(code) and is_us_state(str(code))


@register.filter
def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st, 22nd."""
    number = int(number)
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@dataclass(frozen=True)
class NamedLines:
    """Order lines with the item's name after its id: (orderid, itemid, name or "", qty,
    price, dt, state). `unnamed`: the catalog could not be read, so no line has a name."""

    rows: list[tuple[Any, ...]]
    unnamed: bool


@register.simple_tag
def with_item_names(rows: Iterable[Sequence[Any]]) -> NamedLines:
    """The order browser's lines (orderid, itemid, ...) with the item names from the catalog,
    in one lookup for the page. The order side may not read the catalog (they are separate
    databases and packages), so the names are joined here, where the page is drawn, as the
    dashboard's rankings join them in dashboard/web/rankings.py."""
    rows = list(rows)
    try:
        names, unnamed = item_names(int(row[1]) for row in rows), False
    except CatalogUnavailable:
        names, unnamed = {}, bool(rows)
    return NamedLines([(row[0], row[1], names.get(int(row[1]), ""), *row[2:]) for row in rows], unnamed)
