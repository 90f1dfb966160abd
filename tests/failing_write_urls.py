"""A URLconf for the auto-commit tests: one view that changes the catalog and then fails."""

from django.urls import path

from dashboard.models import Item


def change_then_fail(request):
    item = Item.objects.get(itemid=1)
    item.name = "half-done"
    item.save()
    raise RuntimeError("the request fails after changing the catalog")


urlpatterns = [path("change-then-fail/", change_then_fail)]
