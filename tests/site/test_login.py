import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])


@pytest.fixture
def analyst():
    return User.objects.create_user("analyst", password="correct horse battery staple")


def test_user_stored_in_postgresql_logs_in_and_reaches_the_dashboard(client, analyst):
    assert User.objects.using("default").filter(username="analyst").exists()
    response = client.post(
        reverse("login"), {"username": "analyst", "password": "correct horse battery staple", "next": "/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Signed in as <strong>analyst</strong>" in page.content.decode()


def test_wrong_password_is_refused_with_a_message(client, analyst):
    response = client.post(reverse("login"), {"username": "analyst", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
    assert client.get("/").status_code == 302


def test_logout_ends_the_session(client, analyst):
    client.force_login(analyst)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("dashboard:api-rankings")).status_code == 401
