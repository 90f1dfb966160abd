import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.urls import reverse

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    caches["shared"].clear()
    User.objects.create_user("analyst", password=PASSWORD)
    User.objects.create_user("other", password=PASSWORD)


def log_in(client, username, password, address="10.1.1.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_repeated_failures_for_a_username_are_refused_even_with_the_right_password(client):
    for _ in range(3):
        assert log_in(client, "analyst", "wrong").status_code == 200
    refused = log_in(client, "analyst", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed logins. Try again in 15 minutes." in refused.content.decode()
    assert client.get("/").status_code == 302  # not logged in
    # Someone else is not locked out by it, from another address.
    assert log_in(client, "other", PASSWORD, address="10.2.2.2").status_code == 302


def test_usernames_are_counted_case_insensitively(client):
    for name in ("Analyst", "ANALYST", "analyst"):
        log_in(client, name, "wrong")
    assert log_in(client, "analyst", PASSWORD, address="10.9.9.9").status_code == 429


def test_many_failures_from_one_address_block_that_address(client):
    for number in range(5):
        log_in(client, f"nobody{number}", "wrong", address="10.3.3.3")
    assert log_in(client, "other", PASSWORD, address="10.3.3.3").status_code == 429
    assert log_in(client, "other", PASSWORD, address="10.4.4.4").status_code == 302


def test_a_success_clears_the_username_count(client):
    log_in(client, "analyst", "wrong")
    log_in(client, "analyst", "wrong")
    assert log_in(client, "analyst", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    log_in(client, "analyst", "wrong")
    log_in(client, "analyst", "wrong")
    assert log_in(client, "analyst", PASSWORD).status_code == 302
