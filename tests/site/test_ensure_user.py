"""manage.py ensure_user: the local demo login, from a password in the environment."""

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"])


def test_creates_the_user_then_leaves_the_same_password_alone(monkeypatch, client):
    monkeypatch.setenv("DEMO_PASSWORD", "a demo password")
    call_command("ensure_user", "demo", verbosity=0)
    assert client.login(username="demo", password="a demo password")
    stored = User.objects.get(username="demo").password
    # serve.sh runs it on every start: the hash, and so every session of demo, survives.
    call_command("ensure_user", "demo", verbosity=0)
    assert User.objects.get(username="demo").password == stored
    assert client.get("/api/rankings/").status_code == 200


def test_a_new_password_replaces_the_old_one(monkeypatch, client):
    monkeypatch.setenv("DEMO_PASSWORD", "first password")
    call_command("ensure_user", "demo", verbosity=0)
    monkeypatch.setenv("DEMO_PASSWORD", "second password")
    call_command("ensure_user", "demo", verbosity=0)
    assert client.login(username="demo", password="second password")
    assert not client.login(username="demo", password="first password")


def test_no_password_in_the_environment_is_refused(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("ensure_user", "demo")
