"""The admin's read-only browser over the order stream (OLAP side).

Django's ModelAdmin refuses models with a composite primary key, so this is an admin view of
its own. It stays fast on any size: pages are keyset ranges of the primary key read
backwards (newest orders first), and nothing ever counts the table.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dashboard.orders.errors import OlapUnavailable, olap_errors
from dashboard.orders.models import Order
from dashboard.us_states import STATES

PAGE = 50
# (orderid, itemid, qty, price, dt, state): an order line as the browser lists it.
OrderRow = tuple[int, int, int | None, Decimal | None, date | None, str | None]


class BrowseForm(forms.Form):
    q = forms.IntegerField(required=False, min_value=0, label="Order id")
    state = forms.ChoiceField(
        required=False, choices=[("", "All states")] + [(code, name) for code, (name, _) in STATES.items()]
    )
    start = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="From")
    end = forms.DateField(required=False, input_formats=["%Y-%m-%d"], label="To")
    before = forms.RegexField(required=False, regex=r"^\d{1,19}-\d{1,10}$", widget=forms.HiddenInput)


@dataclass(frozen=True)
class Page:
    rows: list[OrderRow]
    next_before: str | None  # "orderid-itemid" of the last row, when there are more


def order_page(
    *,
    orderid: int | None = None,
    state: str | None = None,
    start: date | None = None,
    end: date | None = None,
    before: tuple[int, ...] | None = None,
) -> Page:
    """Up to PAGE order lines, newest first, after the (orderid, itemid) key `before`."""
    orders = Order.objects.all()
    if orderid is not None:
        orders = orders.filter(orderid=orderid)
    if state:
        orders = orders.filter(state=state)
    if start:
        orders = orders.filter(dt__gte=start)
    if end:
        orders = orders.filter(dt__lte=end)
    if before:
        last_order, last_item = before
        orders = orders.filter(Q(orderid__lt=last_order) | Q(orderid=last_order, itemid__lt=last_item))
    rows = list(
        orders.order_by("-orderid", "-itemid").values_list(
            "orderid", "itemid", "qty", "price", "dt", "state"
        )[: PAGE + 1]
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return Page(rows, f"{rows[-1][0]}-{rows[-1][1]}" if more else None)


def browse_orders(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("dashboard.view_order"):
        raise PermissionDenied("You need the permission to view orders.")
    form = BrowseForm(request.GET or None)
    context = {**admin.site.each_context(request), "title": "Orders (OLAP, read-only)", "form": form}
    status = 200
    if form.is_bound and not form.is_valid():
        context["problem"] = "Check the fields marked below."
        status = 400
    else:
        data = form.cleaned_data if form.is_bound else {}
        before = data.get("before")
        try:
            with olap_errors():
                context["page"] = order_page(
                    orderid=data.get("q"),
                    state=data.get("state") or None,
                    start=data.get("start"),
                    end=data.get("end"),
                    before=tuple(int(part) for part in before.split("-")) if before else None,
                )
        except OlapUnavailable as error:
            context["problem"], status = str(error), error.status
        query = request.GET.copy()
        query.pop("before", None)
        context["query"] = query.urlencode()
    return render(request, "admin/dashboard/order_browser.html", context, status=status)
