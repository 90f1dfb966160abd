"""A URLconf for the auto-commit tests: views that change the catalog in the ways a request
can, through model signals or in bulk (no signals), and one that then fails."""

from django.http import HttpResponse
from django.urls import path

from dashboard.catalog.models import Item


def change_then_fail(request):
    item = Item.objects.get(itemid=1)
    item.name = "half-done"
    item.save()
    raise RuntimeError("the request fails after changing the catalog")


def regroup_in_bulk(request):
    # QuerySet.update() and bulk_create() send no post_save.
    Item.objects.filter(itemid__in=[1, 2]).update(category="Gifts")
    Item.objects.bulk_create([Item(itemid=3, name="Wool Throw", category="Gifts")])
    return HttpResponse("regrouped")


def regroup_in_bulk_then_fail(request):
    Item.objects.filter(itemid__in=[1, 2]).update(category="Gifts")
    return HttpResponse("refused", status=400)


urlpatterns = [
    path("change-then-fail/", change_then_fail),
    path("regroup-in-bulk/", regroup_in_bulk),
    path("regroup-in-bulk-then-fail/", regroup_in_bulk_then_fail),
]
