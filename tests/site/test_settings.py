"""Settings come from the environment; the site refuses to start when they are unsafe."""

import subprocess
import sys

import django_risingwave.base
import pytest
from django.conf import settings
from django.db import connections

from tests.support.settings_process import ROOT, boot, production_env


def test_production_defaults():
    result = boot()
    assert result.returncode == 0, result.stderr
    debug, chartjs_url, olap_engine = result.stdout.split()
    assert debug == "False"
    assert chartjs_url.startswith("https://cdn.jsdelivr.net/npm/chart.js@4.6.1/")
    assert olap_engine == "analytics_site.db_engines.risingwave"


@pytest.mark.parametrize(
    ("key", "why"),
    [
        (None, "SECRET_KEY is not set"),
        ("short", "too weak"),
        ("django-insecure-" + "x1y2z3" * 10, "too weak"),
    ],
)
def test_refuses_to_start_with_debug_off_and_no_real_secret_key(key, why):
    result = boot(SECRET_KEY=key, DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert why in result.stderr


def test_a_weak_key_is_accepted_for_local_debugging():
    assert boot(SECRET_KEY="local", DEBUG="1").returncode == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DATABASE_URL": None}, "DATABASE_URL is not set"),
        ({"OLAP_DATABASE_URL": "kafka://broker:9092/x"}, "OLAP_DATABASE_URL is not a usable database URL"),
        ({"OLAP_DATABASE_URL": "postgres://root@risingwave:4566"}, "OLAP_DATABASE_URL names no database"),
        ({"CATALOG_DATABASE_URL": None}, "CATALOG_DATABASE_URL is not set"),
        (
            {"CATALOG_DATABASE_URL": "postgres://u@127.0.0.1:5432/catalog"},
            "CATALOG_DATABASE_URL must name a Dolt database: a doltlite file",
        ),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"RANKINGS_SOURCE": "cache"}, "RANKINGS_SOURCE='cache' is not one of: rollups, raw"),
        (
            {"CDC_DECODING_MEMORY_MB": "-1"},
            "CDC_DECODING_MEMORY_MB='-1' is too small: the least it takes is 0",
        ),
        ({"CDC_DECODING_MEMORY_MB": "lots"}, "CDC_DECODING_MEMORY_MB='lots' is not a whole number"),
    ],
)
def test_bad_settings_are_named_in_the_error(overrides, message):
    result = boot(**overrides)
    assert result.returncode != 0
    assert message in result.stderr


def test_olap_alias_uses_the_risingwave_connector_with_its_connection_options():
    olap = settings.DATABASES["olap"]
    assert olap["ENGINE"] == "analytics_site.db_engines.risingwave"
    assert olap["OPTIONS"]["gssencmode"] == "disable"
    assert olap["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert olap["TEST"]["MIGRATE"] is False
    assert settings.DATABASES["default"]["ENGINE"] == "analytics_site.db_engines.postgresql"


@pytest.mark.django_db(databases=["olap"])
def test_live_olap_connection_carries_the_options():
    connection = connections["olap"]
    connection.ensure_connection()
    # django_risingwave's connection, with the site's health check (analytics_site/db_engines).
    assert isinstance(connection, django_risingwave.base.DatabaseWrapper)
    assert type(connection).__module__ == "analytics_site.db_engines.risingwave.base"
    assert connection.connection.get_dsn_parameters()["gssencmode"] == "disable"


def test_production_settings_pass_the_deploy_checks():
    # With a metrics token: without one /metrics is closed and check --deploy warns (test_metrics).
    env = production_env(ALLOWED_HOSTS="analytics.example.com", METRICS_TOKEN="m" * 40)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_csp_allows_only_the_site_and_the_pinned_cdn():
    from analytics_site.security import content_security_policy

    cdn = content_security_policy("https://cdn.jsdelivr.net/npm/chart.js@4.6.1/dist/chart.umd.min.js")
    assert "script-src 'self' https://cdn.jsdelivr.net;" in cdn
    assert "default-src 'self'" in cdn and "object-src 'none'" in cdn and "frame-ancestors 'none'" in cdn
    assert "unsafe-inline" not in cdn and "unsafe-eval" not in cdn
    assert "script-src 'self';" in content_security_policy("/static/vendor/chartjs/chart.umd.min.js")


@pytest.mark.django_db(databases=["catalog"])
def test_the_catalog_alias_is_an_embedded_file_with_version_control():
    catalog = settings.DATABASES["catalog"]
    assert catalog["ENGINE"] == "django.db.backends.sqlite3"
    with connections["catalog"].cursor() as cursor:
        cursor.execute("SELECT active_branch()")  # only doltlite has it
        assert cursor.fetchone() == ("main",)


def test_the_embedded_catalog_connection_is_kept_between_requests_like_the_others():
    # Opening the doltlite file took about 0.8 ms of every request that names items.
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['catalog']['CONN_MAX_AGE'])"
    )
    result = boot(script, CONN_MAX_AGE="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "30"


def test_a_mysql_catalog_url_is_a_dolt_sql_server_through_django_s_mysql_driver():
    # As docker-compose.yaml sets it. The real backend and driver (mysqlclient) load;
    # nothing connects, as no Dolt server can run here.
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.db import connections; from dashboard.catalog.dialects import dialect; "
        "c = settings.DATABASES['catalog']; "
        "print(c['ENGINE'], c['HOST'], c['PORT'], c['NAME'], c['CONN_MAX_AGE'], c['CONN_HEALTH_CHECKS'], "
        "c['OPTIONS']['charset'], repr(c['OPTIONS']['isolation_level']), connections['catalog'].vendor, "
        "connections['catalog'].connection, repr(dialect('catalog').name), sep='|')"
    )
    result = boot(script, CATALOG_DATABASE_URL="mysql://catalog:s3cret@dolt:3306/catalog", CONN_MAX_AGE="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split("|") == [
        "django.db.backends.mysql",
        "dolt",
        "3306",
        "catalog",
        "30",
        "True",
        "utf8mb4",
        "'repeatable read'",
        "mysql",
        "None",
        "'Dolt sql-server'",
    ]
