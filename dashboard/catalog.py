"""Selectors over the item catalog (OLTP)."""

from dashboard.models import Item


def item_names(itemids):
    """{itemid: name} for the ids that the catalog knows; unknown ids are left out."""
    return dict(Item.objects.filter(itemid__in=set(itemids)).values_list("itemid", "name"))


def item_label(itemid, names):
    return names.get(itemid) or f"Item {itemid}"
