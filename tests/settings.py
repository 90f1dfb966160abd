"""The site's settings, with the few changes tests need."""

from pathlib import Path

from analytics_site.settings import *  # noqa: F403

# collectstatic is a deployment step; tests serve static files straight from the apps.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A fast hasher: tests create users, and the real one is slow on purpose.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Dolt keeps its history in the file: the catalog's test database is a file beside the
# real one, never SQLite's in-memory default.
_catalog = Path(DATABASES["catalog"]["NAME"])  # noqa: F405
DATABASES["catalog"]["TEST"]["NAME"] = str(_catalog.with_name(f"test_{_catalog.name}"))  # noqa: F405

# Tests change the data between requests; the test of the cache turns it back on.
RANKINGS_CACHE_SECONDS = 0
