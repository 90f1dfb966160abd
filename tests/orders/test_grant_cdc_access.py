"""grant_cdc_access on the real shop's (OLTP) test database: the capture's user can log in,
replicate and read the captured tables, and nothing more; a rerun resets its password."""

import base64
import hashlib
import hmac
import uuid

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connections

pytestmark = pytest.mark.django_db(databases=["default", "olap", "catalog"], transaction=True)


@pytest.fixture
def role():
    """A role name of this run alone (roles are shared by every database of the cluster),
    dropped afterwards with whatever was granted to it."""
    name = f"test_cdc_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            if cursor.fetchone():
                cursor.execute(f'DROP OWNED BY "{name}"')  # revokes its grants too
                cursor.execute(f'DROP ROLE "{name}"')


def grant(role, monkeypatch, password):
    monkeypatch.setenv("CDC_PASSWORD", password)
    call_command("grant_cdc_access", user=role, verbosity=0)


def connect_as(user, password):
    params = connections["default"].get_connection_params()
    params.update(user=user, password=password)
    connection = psycopg2.connect(**params)
    connection.autocommit = True
    return connection


def stored_password(role):
    # pg_authid is readable by superusers only; the tests connect as one.
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role])
        return cursor.fetchone()[0]


def password_matches(stored, password, role):
    """Whether `stored` (pg_authid.rolpassword) is a hash of `password`: the test clusters
    trust every local connection, so a login alone would not prove it."""
    if stored.startswith("md5"):
        return stored == "md5" + hashlib.md5((password + role).encode()).hexdigest()  # noqa: S324
    # SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (RFC 5802, RFC 7677)
    scheme, parameters, keys = stored.split("$")
    assert scheme == "SCRAM-SHA-256", stored
    iterations, salt = parameters.split(":")
    stored_key, server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (
        base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key
        and base64.b64encode(hmac.new(salted, b"Server Key", hashlib.sha256).digest()).decode() == server_key
    )


def test_the_capture_user_can_replicate_and_read_the_captured_tables_and_nothing_more(role, monkeypatch):
    with connections["default"].cursor() as cursor:
        cursor.execute("INSERT INTO orders VALUES (1, 1, 2, 3.00, '2026-01-01', 'CA')")
        cursor.execute("INSERT INTO cdc_heartbeat VALUES (1, now())")
    grant(role, monkeypatch, "first secret")
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT rolcanlogin, rolreplication, rolsuper, rolcreatedb, rolcreaterole "
            "FROM pg_roles WHERE rolname = %s",
            [role],
        )
        assert cursor.fetchone() == (True, True, False, False, False)
    assert password_matches(stored_password(role), "first secret", role)

    capture = connect_as(role, "first secret")
    try:
        with capture.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (role,)
            cursor.execute("SELECT count(*) FROM orders")
            assert cursor.fetchone() == (1,)
            cursor.execute("SELECT count(*) FROM cdc_heartbeat")
            assert cursor.fetchone() == (1,)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("INSERT INTO orders VALUES (2, 1, 1, 1, '2026-01-01', 'TX')")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("UPDATE cdc_heartbeat SET beat = now()")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("CREATE TABLE public.capture_was_here (id int)")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("SELECT count(*) FROM django_session")  # not a captured table
    finally:
        capture.close()


def test_a_rerun_with_a_new_password_changes_it(role, monkeypatch):
    grant(role, monkeypatch, "first secret")
    grant(role, monkeypatch, "second secret")  # the role exists: altered, never a failure
    stored = stored_password(role)
    assert password_matches(stored, "second secret", role)
    assert not password_matches(stored, "first secret", role)
    capture = connect_as(role, "second secret")
    try:
        with capture.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders")
            assert cursor.fetchone() == (0,)
    finally:
        capture.close()


def test_a_rerun_takes_back_rights_beyond_the_capture_s(role, monkeypatch):
    with connections["default"].cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" WITH SUPERUSER CREATEDB NOLOGIN')
    grant(role, monkeypatch, "secret")
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT rolcanlogin, rolreplication, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = %s",
            [role],
        )
        assert cursor.fetchone() == (True, True, False, False)


def test_a_missing_password_is_refused_naming_the_variable(role, monkeypatch):
    monkeypatch.delenv("CDC_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="environment variable CDC_PASSWORD"):
        call_command("grant_cdc_access", user=role)
    monkeypatch.setenv("SHOP_CAPTURE_PASSWORD", "")
    with pytest.raises(CommandError, match="environment variable SHOP_CAPTURE_PASSWORD"):
        call_command("grant_cdc_access", user=role, password_env="SHOP_CAPTURE_PASSWORD")


def test_the_user_the_command_connects_as_is_refused(monkeypatch):
    monkeypatch.setenv("CDC_PASSWORD", "secret")
    me = connections["default"].get_connection_params()["user"]
    with pytest.raises(CommandError, match="the user this command connects as"):
        call_command("grant_cdc_access", user=me)
