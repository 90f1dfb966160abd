from django import template

from dashboard.rankings import AVERAGE, COUNT, MONEY

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
