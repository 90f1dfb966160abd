"""Settings for the analytics site, read from the environment (see README.md).

Local defaults are not here: scripts/serve.sh and scripts/test.sh set them.
"""

from pathlib import Path

from analytics_site import env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env.boolean("DEBUG", default=False)
SECRET_KEY = env.secret_key(debug=DEBUG)
ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dashboard",
]

MIDDLEWARE = [
    # First, so the request latency it measures for /metrics includes the other middleware.
    "dashboard.web.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "analytics_site.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the session and its user read in one statement (dashboard.sessions).
    "dashboard.sessions.auth.SessionUserMiddleware",
    # The users' database down: 503 (JSON for the API) rather than a 500 per request.
    "dashboard.web.unavailable.DatabaseOutageMiddleware",
    # After sessions and auth: checks out the session's catalog branch, commits what changed.
    "dashboard.catalog.middleware.CatalogBranchMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "analytics_site.urls"
WSGI_APPLICATION = "analytics_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # The web package's template filters ({% load dashboard_format %}).
            "libraries": {"dashboard_format": "dashboard.web.templatetags.dashboard_format"},
        },
    },
]

# Users and sessions live in PostgreSQL ("default"), the order stream in RisingWave ("olap"),
# the item catalog in a Dolt database ("catalog"). dashboard.dbrouter.OlapOltpRouter decides
# which model goes where.
conn_max_age = env.integer("CONN_MAX_AGE", 60)
# Django's PostgreSQL engine and django_risingwave, each with a health check that asks the
# server only when the connection may be dead (analytics_site/db_engines/__init__.py).
POSTGRESQL_ENGINE = "analytics_site.db_engines.postgresql"
RISINGWAVE_ENGINE = "analytics_site.db_engines.risingwave"
DATABASES = {
    "default": env.database(
        "DATABASE_URL",
        engine=POSTGRESQL_ENGINE,
        conn_max_age=conn_max_age,
        conn_health_checks=True,
        options={"connect_timeout": 5},
    ),
    "olap": env.database(
        "OLAP_DATABASE_URL",
        engine=RISINGWAVE_ENGINE,
        conn_max_age=conn_max_age,
        conn_health_checks=True,
        # RisingWave's DECLARE takes no WITH HOLD (v3.0 still), so no server-side cursors;
        # gssencmode=prefer broke the handshake before its v1.9, and costs nothing to avoid.
        disable_server_side_cursors=True,
        options={"gssencmode": "disable", "connect_timeout": 2},
        # Even an empty migrate would leave a django_migrations table there; and the OLAP
        # test database can be created without the OLTP one.
        test_options={"MIGRATE": False, "DEPENDENCIES": []},
    ),
    # The item catalog, under Dolt's version control (branches, commits, merges): an embedded
    # doltlite file or a Dolt sql-server. Never auth or sessions: those must not branch.
    "catalog": env.dolt_database(
        "CATALOG_DATABASE_URL",
        conn_max_age=conn_max_age,
        test_options={"DEPENDENCIES": []},
    ),
}
# The shop's PostgreSQL, whose orders change data capture reads (ORDERS_SOURCE=cdc), when it
# is not the dashboard's own database (whose `orders` table is the sample shop's): only read,
# and its capture heartbeat stamped; nothing is ever migrated there (dashboard.dbrouter.SHOP).
if env.string("SHOP_DATABASE_URL", ""):
    DATABASES["shop"] = env.database(
        "SHOP_DATABASE_URL",
        engine=POSTGRESQL_ENGINE,
        conn_max_age=conn_max_age,
        conn_health_checks=True,
        options={"connect_timeout": 5},
    )
DATABASE_ROUTERS = ["dashboard.dbrouter.OlapOltpRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions in the users' database, each row naming its user, so a request reads its session
# and its user in one statement (dashboard/sessions/__init__.py).
SESSION_ENGINE = "dashboard.sessions.store"
AUTHENTICATION_BACKENDS = ["dashboard.sessions.auth.SessionUserBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Locally (DEBUG) whitenoise serves the files straight from the apps, as they change, under
# any server; in production from STATIC_ROOT (collectstatic), with hashed names.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# The self-hosted Chart.js is the npm package pinned in package-lock.json.
STATICFILES_DIRS = [("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Chart.js: the pinned CDN file by default. Point CHARTJS_URL at the self-hosted copy
# (/static/vendor/chartjs/chart.umd.min.js) to serve it from the site; it is the same
# file, so the same integrity hash holds.
CHARTJS_VERSION = "4.6.1"
CHARTJS_URL = env.string(
    "CHARTJS_URL",
    f"https://cdn.jsdelivr.net/npm/chart.js@{CHARTJS_VERSION}/dist/chart.umd.min.js",
)
CHARTJS_INTEGRITY = "sha384-Emf5ZVIUiarAdhkgtqK+5/Z5qIvM6QoVrS+qAVtfyZVuD5lIHrac0me485+Antp0"

# Where rankings come from: "rollups" (the default: milliseconds at any size) or "raw" (a
# GROUP BY over every order line per request: only for comparison, or while rollups are
# being rebuilt).
RANKINGS_SOURCE = env.choice("RANKINGS_SOURCE", ("rollups", "raw"), "rollups")

# How orders reach the OLAP side: "direct" (gen_data or a pipeline writes them there) or
# "cdc" (the shop writes them into its own PostgreSQL, DATABASE_URL, and change data capture
# copies every insert, update and delete: RisingWave's postgres-cdc source, or PostgreSQL's
# logical replication on the stand-in, which `manage.py cdc_worker` folds into the rollups).
ORDERS_SOURCE = env.choice("ORDERS_SOURCE", ("direct", "cdc"), "direct")
# What the shop's tables are: "sample" (the dashboard's own six-column orders table), "oscar"
# (django-oscar's, the preset dashboard/shop/presets/oscar.toml) or the path of a mapping file
# in that format for any other schema; and the statuses that take an order or a line out of
# every figure (default: the mapping's, "Cancelled"). Checked here, at start.
SHOP_SCHEMA, SHOP_CANCELLED_STATUSES = env.shop_schema("SHOP_SCHEMA", "SHOP_CANCELLED_STATUSES")
# The shop's database as the OLAP server reaches it, when that differs from SHOP_DATABASE_URL
# (in docker-compose: another host name, and a replication user with only the rights it needs).
CDC_SOURCE_URL = (
    env.string("CDC_SOURCE_URL", "") or env.string("SHOP_DATABASE_URL", "") or env.required("DATABASE_URL")
)
# On the PostgreSQL stand-in: the memory the shop's server may use to decode one transaction
# for the capture before it spills the rest to its own disk (PostgreSQL's
# logical_decoding_work_mem, set on the subscription's connection only; 0 leaves the server's
# own setting, 64 MB unless changed). 256 MB holds a 1M-line import, which then reaches the
# rollups about 0.6 s sooner (docs/benchmarks.md).
CDC_DECODING_MEMORY_MB = env.integer("CDC_DECODING_MEMORY_MB", 256, minimum=0)

# How often the dashboard page asks the API for its figures (seconds). Polls are cheap: while
# the figures are unchanged the API answers 304 from a change marker, without computing them.
LIVE_REFRESH_SECONDS = env.integer("LIVE_REFRESH_SECONDS", 1)

# HTTPS: on by default whenever DEBUG is off. Set SECURE_HTTPS=0 only for a stack served
# over plain HTTP on a trusted machine (the local docker-compose does).
SECURE_HTTPS = env.boolean("SECURE_HTTPS", default=not DEBUG)
if SECURE_HTTPS:
    SECURE_SSL_REDIRECT = True
    # Probes and Prometheus speak plain HTTP inside (send METRICS_TOKEN only over a trusted network).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", default=True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if env.boolean("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Every query the site sends to the OLAP side is cancelled after this long (0: no limit),
# so a slow or blocked one answers 504 instead of holding a worker. Batch jobs lift it.
OLAP_STATEMENT_TIMEOUT_MS = env.integer("OLAP_STATEMENT_TIMEOUT_MS", 5000)

# Rankings are cached per filter for this long (0: off), and identical requests arriving
# together run the queries once per worker process.
RANKINGS_CACHE_SECONDS = env.integer("RANKINGS_CACHE_SECONDS", 3)
# Each worker process mirrors the rollups that the rankings and the trend read without a
# state, kept current by the database's notices (dashboard/orders/mirror.py), up to this many
# cells (days x keys: 32 bytes each, twice while a change is put in place); 0: off, every
# answer from a statement.
RANKINGS_MIRROR_CELLS = env.integer("RANKINGS_MIRROR_CELLS", 1_000_000, minimum=0)
# Each worker process reuses the change marker (one cheap OLAP query: has anything changed,
# and how far behind the shop's database are the figures) for this many milliseconds, for
# every request (0: ask on each), so polling viewers cost a few queries a second per worker.
FRESHNESS_CACHE_MS = env.integer("FRESHNESS_CACHE_MS", 250)

CACHES = {
    # Per process: the short rankings cache.
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Shared by every worker, in the OLTP database (manage.py createcachetable).
    "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"},
}

# /metrics (Prometheus' text format): with a token, only requests that send
# `Authorization: Bearer <token>`; without one (the default) closed, but for loopback clients
# of a DEBUG server (manage.py check --deploy warns).
METRICS_TOKEN = env.string("METRICS_TOKEN", "")

# Failed logins allowed per username, and per client address, before logins from them are
# refused for LOGIN_LOCKOUT_SECONDS.
LOGIN_FAILURES_PER_USERNAME = env.integer("LOGIN_FAILURES_PER_USERNAME", 5)
LOGIN_FAILURES_PER_ADDRESS = env.integer("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_LOCKOUT_SECONDS = env.integer("LOGIN_LOCKOUT_SECONDS", 15 * 60)

# Django's own logging, plus the one line per kind of failure and interval that
# dashboard.web.unavailable writes when a database refuses connections (on stderr, in
# production too).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "dashboard.web.unavailable": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}
    },
}
