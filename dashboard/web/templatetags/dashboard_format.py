from django import template
from django.http import QueryDict

from dashboard.orders.selectors import AVERAGE, COUNT, MONEY, Value
from dashboard.us_states import state_name

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
