from django.contrib import admin

from dashboard.models import Item


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["itemid", "name"]
    search_fields = ["name", "=itemid"]
