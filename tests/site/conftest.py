"""A user with a password, logged in through the login form: the sessions' tests' start."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.support.sessions import PASSWORD


@pytest.fixture
def analyst():
    return User.objects.create_user("analyst", password=PASSWORD)


@pytest.fixture
def logged_in(client, analyst):
    response = client.post(reverse("login"), {"username": "analyst", "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client
