"""Reading the rankings' filters from a query string, with messages a person can act on.

A state must be a US state, DC or territory (dashboard.us_states), or a code the orders
hold (so that every bar of the states ranking can be clicked): known codes cost nothing,
and only an unknown one is looked up, with one probe of the per-state rollup by its key.
"""

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict

from dashboard.orders.selectors import ALL_ORDERS, OlapUnavailable, OrderFilters, state_in_orders
from dashboard.us_states import is_us_state

ISO_DATE = "%Y-%m-%d"


class InvalidFilters(ValueError):
    pass


class FilterForm(forms.Form):
    start = forms.DateField(
        required=False,
        input_formats=[ISO_DATE],
        error_messages={"invalid": "must be a date like 2026-01-31"},
    )
    end = forms.DateField(
        required=False,
        input_formats=[ISO_DATE],
        error_messages={"invalid": "must be a date like 2026-01-31"},
    )

    state = forms.RegexField(
        required=False,
        regex=r"^[A-Za-z]{2}$",
        strip=True,
        error_messages={"invalid": "must be a two-letter state code like CA"},
    )

    def clean_state(self) -> str | None:
        code = self.cleaned_data["state"].upper()
        if code and not is_us_state(code) and not _in_orders(code):
            raise forms.ValidationError(f"{code} is not a US state or territory")
        return code or None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("start must be on or before end")
        return cleaned


# The query's names the form reads: start, end, state.
FILTER_FIELDS = tuple(FilterForm.base_fields)


def _in_orders(code: str) -> bool:
    """Whether the orders hold the state `code`. With the OLAP side down the code is let
    through: the figures it asks for next fail with the right answer (503 or 504)."""
    try:
        return state_in_orders(code)
    except OlapUnavailable:
        return True


def parse_filters(query: QueryDict) -> OrderFilters:
    """OrderFilters from a QueryDict; InvalidFilters says what is wrong with it."""
    if not any(field in query for field in FILTER_FIELDS):
        # No filter given (the dashboard's default view and most polls): every field would
        # be empty and valid, so the form is not built (about 0.1-0.2 ms of such an answer).
        return ALL_ORDERS
    form = FilterForm(query)
    if not form.is_valid():
        problems = [
            f"{field}: {message}" if field != NON_FIELD_ERRORS else str(message)
            for field, messages in form.errors.items()
            for message in messages
        ]
        raise InvalidFilters("; ".join(problems))
    data = form.cleaned_data
    return OrderFilters(start=data["start"], end=data["end"], state=data["state"])
