from django import template

from dashboard.orders.selectors import AVERAGE, COUNT, MONEY
from dashboard.us_states import state_name

register = template.Library()


@register.filter
def ranking_value(value, kind):
    """A ranking value as the data tables show it (money exact, to the cent)."""
    if kind == MONEY:
        return f"${value:,.2f}"
    if kind == AVERAGE:
        return f"{value:,.2f}"
    if kind == COUNT:
        return f"{value:,}"
    raise ValueError(f"unknown value kind {kind!r}")


@register.filter
def state_label(code):
    return state_name(code) if code else ""


@register.filter
def with_state(query, state):
    """The query string with the state filter set to `state`: a state's drill-down link."""
    changed = query.copy()
    changed["state"] = state
    return changed.urlencode()


@register.filter
def without_state(query):
    changed = query.copy()
    changed.pop("state", None)
    return changed.urlencode()
