"""grant_cdc_access for a mapped shop (the saleor-like schema): --print gives the shop's owner
the SQL and changes nothing; run, it creates the capture's user (LOGIN, REPLICATION, SELECT
on the captured tables), the dashboard's own heartbeat schema, which that user may stamp, and
the publication of the columns the mapping reads, and the shop's tables stay as they were."""

import uuid

import psycopg2
import pytest
from django.core.management import call_command

from tests.shop.saleor import MAPPING, SCHEMA
from tests.support.shop import drop_database, recreate_database, server_params, shop_configured, shop_cursor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(databases=["default", "olap", "catalog"])]

NAME = "test_dashboard_grant_shop"


@pytest.fixture
def shop(django_db_blocker):
    recreate_database(NAME)
    with shop_cursor(NAME) as cursor:
        cursor.execute(SCHEMA)
    role = f"test_cdc_{uuid.uuid4().hex[:12]}"
    try:
        with django_db_blocker.unblock(), shop_configured(NAME, MAPPING):
            yield role
    finally:
        drop_database(NAME)
        with shop_cursor("postgres") as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone():
                cursor.execute(f'DROP ROLE "{role}"')


def state_of_the_shop():
    with shop_cursor(NAME) as cursor:
        cursor.execute("SELECT count(*) FROM pg_publication")
        publications = cursor.fetchone()[0]
        cursor.execute("SELECT to_regclass('dashboard_capture.cdc_heartbeat') IS NOT NULL")
        heartbeat = cursor.fetchone()[0]
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1, 2"
        )
        return publications, heartbeat, cursor.fetchall()


def test_print_shows_the_owner_s_sql_and_changes_nothing(shop, monkeypatch, capsys):
    monkeypatch.setenv("CDC_PASSWORD", "secret")
    before = state_of_the_shop()
    call_command("grant_cdc_access", user=shop, print_only=True)
    printed = capsys.readouterr().out
    assert f'CREATE ROLE "{shop}" WITH LOGIN REPLICATION' in printed
    assert "secret" not in printed  # hashed
    assert 'GRANT SELECT ON TABLE "public"."order_order", "public"."order_orderline"' in printed
    assert "CREATE SCHEMA IF NOT EXISTS dashboard_capture" in printed
    assert 'CREATE PUBLICATION "dashboard_orders" FOR TABLE "public"."order_order" ("id", "number"' in printed
    assert state_of_the_shop() == before


def test_run_it_grants_the_capture_exactly_what_it_needs(shop, monkeypatch):
    monkeypatch.setenv("CDC_PASSWORD", "secret")
    _, _, tables_before = state_of_the_shop()
    call_command("grant_cdc_access", user=shop, verbosity=0)
    publications, heartbeat, tables_after = state_of_the_shop()
    assert publications == 1 and heartbeat
    assert tables_after == tables_before  # the shop's own tables are untouched
    capture = psycopg2.connect(**{**server_params(NAME), "user": shop, "password": "secret"})
    capture.autocommit = True
    try:
        with capture.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM order_order")
            cursor.execute("INSERT INTO dashboard_capture.cdc_heartbeat VALUES (1, now())")
            cursor.execute("UPDATE dashboard_capture.cdc_heartbeat SET beat = now()")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("INSERT INTO product_productvariant (name) VALUES ('x')")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("CREATE TABLE public.capture_was_here (id int)")
    finally:
        capture.close()
