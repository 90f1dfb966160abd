import pytest
from django.contrib.auth.models import User

from dashboard.catalog.models import Item

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", password="x"))
    Item.objects.bulk_create([Item(itemid=7, name="Teal Oak Mug"), Item(itemid=8, name="Navy Cork Tray")])
    return client


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [("mug", "Teal Oak Mug", "Navy Cork Tray"), ("8", "Navy Cork Tray", "Teal Oak Mug")],
)
def test_item_catalog_is_searchable_by_name_or_id(admin_client, query, shown, hidden):
    response = admin_client.get("/admin/dashboard/item/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert shown in html
    assert hidden not in html


def test_admin_needs_a_staff_login(client):
    response = client.get("/admin/dashboard/item/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
