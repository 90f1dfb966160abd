"""Reading the rankings' filters from a query string, with messages a person can act on."""

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict

from dashboard.orders.selectors import OrderFilters

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
        return self.cleaned_data["state"].upper() or None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("start must be on or before end")
        return cleaned


def parse_filters(query: QueryDict) -> OrderFilters:
    """OrderFilters from a QueryDict; InvalidFilters says what is wrong with it."""
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
