"""What every page carries besides its content: the icon (so no browser asks for
/favicon.ico), and the admin's names for things."""

import pytest
from django.contrib.auth.models import User
from django.template import loader
from django.templatetags.static import static
from django.test import Client

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

ICON = static("dashboard/favicon.svg")
LINK = f'<link rel="icon" href="{ICON}" type="image/svg+xml">'


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("boss", password="x"))
    return client


def test_the_site_s_pages_link_the_icon(user_client):
    assert LINK in Client().get("/accounts/login/").content.decode()
    assert LINK in user_client.get("/").content.decode()
    assert LINK in user_client.get("/?state=XX").content.decode()  # the 400 page too
    assert LINK in loader.get_template("503.html").render({"message": "down"})


def test_the_admin_s_pages_link_the_icon(superuser_client):
    assert LINK in Client().get("/admin/login/").content.decode()
    for url in ("/admin/", "/admin/dashboard/item/", "/admin/orders/"):
        html = superuser_client.get(url).content.decode()
        assert html.count(LINK) == 1, url
        assert "<title>" in html and "Django site admin" in html  # the admin's own head, kept


def test_the_icon_is_served_as_svg(client):
    response = client.get(ICON)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = b"".join(response.streaming_content) if response.streaming else response.content
    assert svg.startswith(b"<svg") and b'viewBox="0 0 32 32"' in svg
    assert b"<script" not in svg and b"<style" not in svg


def test_the_admin_calls_the_catalog_s_branches_branches(superuser_client):
    index = superuser_client.get("/admin/").content.decode()
    assert ">Branches</a>" in index
    changelist = superuser_client.get("/admin/dashboard/branch/").content.decode()
    for html in (index, changelist):
        assert "Branchs" not in html
        assert "branchs" not in html.lower()
