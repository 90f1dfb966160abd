"""The site's template filters and tags ({% load dashboard_format %}, registered in settings)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.http import QueryDict

from dashboard.catalog.selectors import CatalogUnavailable, item_names
from dashboard.orders.selectors import AVERAGE, COUNT, MONEY, Headline, Trend, Value
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


# --- The comparison with the period just before (dashboard.js words it the same way) ---------

UP, DOWN, SAME, NEW = "up", "down", "same", "new"
ARROWS = {UP: "\u25b2", DOWN: "\u25bc", SAME: "=", NEW: "\u25b2"}
MINUS = "\u2212"


@dataclass(frozen=True)
class Change:
    """How a headline figure compares with the period of the same length just before."""

    direction: str  # UP, DOWN, SAME or NEW (nothing before, something now)
    arrow: str  # a glyph, so the meaning never rests on color alone
    text: str  # "+12.3% vs the previous 30 days"
    title: str  # the previous value, for the tooltip


def range_days(filters: Mapping[str, str | None]) -> int | None:
    """How many days the filters' range spans (both ends included); None when it is open."""
    if not filters.get("start") or not filters.get("end"):
        return None
    return (date.fromisoformat(str(filters["end"])) - date.fromisoformat(str(filters["start"]))).days + 1


def previous_period_words(days: int) -> str:
    return "the previous day" if days == 1 else f"the previous {days:,} days"


def percent_change(current: Decimal, previous: Decimal) -> str:
    """+12.3% or (with a minus sign, U+2212) -4.0%: tenths of a percent, rounded half up on
    the magnitude, as dashboard.js rounds them."""
    tenths = (abs(current - previous) * 1000 / previous).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    sign = "+" if current > previous else MINUS
    return f"{sign}{int(tenths) // 10:,}.{int(tenths) % 10}%"


def figure_change(
    current: Value | None, previous: Value | None, kind: str, days: int, since: date
) -> Change | None:
    """`since`: the first day of the range (the previous period ends the day before). None
    when there is nothing to say: no figure now (an average of no orders)."""
    if current is None:
        return None
    period = previous_period_words(days)
    first, last = since - timedelta(days=days), since - timedelta(days=1)
    dates = first.isoformat() if days == 1 else f"{first.isoformat()} to {last.isoformat()}"
    shown = "no orders" if previous is None else ranking_value(previous, kind)
    title = f"{period[0].upper()}{period[1:]} ({dates}): {shown}"
    now, before = Decimal(current), Decimal(previous or 0)
    if before == 0:
        if now == 0:
            return Change(SAME, ARROWS[SAME], f"no change vs {period}", title)
        return Change(NEW, ARROWS[NEW], f"new: none in {period}", title)
    if now == before:
        return Change(SAME, ARROWS[SAME], f"no change vs {period}", title)
    direction = UP if now > before else DOWN
    return Change(direction, ARROWS[direction], f"{percent_change(now, before)} vs {period}", title)


@register.simple_tag
def headline_change(
    current: Headline | None,
    previous: Headline | None,
    filters: Mapping[str, str | None],
    figure: str,
    kind: str,
) -> Change | None:
    """The comparison shown under one headline figure; None for all time or an open range."""
    days = range_days(filters)
    if current is None or previous is None or days is None:
        return None
    since = date.fromisoformat(str(filters["start"]))
    return figure_change(getattr(current, figure), getattr(previous, figure), kind, days, since)


@dataclass(frozen=True)
class Move:
    """A ranking row's movement since the period just before."""

    direction: str  # UP, DOWN, SAME or NEW
    shown: str  # "▲ 2", "▼ 1", "=", "new"
    spoken: str  # "up 2 places", for screen readers
    title: str


@register.simple_tag
def rank_move(previous_rank: int | None, rank: int, filters: Mapping[str, str | None]) -> Move | None:
    """None when there is no comparison (all time or an open range)."""
    days = range_days(filters)
    if days is None:
        return None
    period = previous_period_words(days)
    if previous_rank is None:
        return Move(NEW, "new", f"new: not ranked in {period}", f"Not ranked in {period}")
    title = f"{ordinal(previous_rank)} in {period}"
    places = abs(previous_rank - rank)
    unit = "place" if places == 1 else "places"
    if previous_rank > rank:
        return Move(UP, f"{ARROWS[UP]} {places}", f"up {places} {unit}", title)
    if previous_rank < rank:
        return Move(DOWN, f"{ARROWS[DOWN]} {places}", f"down {places} {unit}", title)
    return Move(SAME, "=", "same place", title)


@register.filter
def trend_heading(bucket: str) -> str:
    """The trend table's first column."""
    return {"day": "Day", "week": "Week starting", "month": "Month starting"}.get(bucket, "Starting")


@register.filter
def has_orders(trend: Trend | None) -> bool:
    """Whether the trend has anything to plot (all zeros, or no points, say nothing)."""
    return trend is not None and any(point.orders or point.turnover for point in trend.points)
