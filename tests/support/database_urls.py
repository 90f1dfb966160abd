"""The test databases as the URLs a subprocess (gen_data, manage.py) reads from its environment."""

from django.conf import settings


def database_url(alias, user=None):
    db = settings.DATABASES[alias]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{user or db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def database_env():
    """DATABASE_URL, OLAP_DATABASE_URL and CATALOG_DATABASE_URL of the test databases."""
    return {
        "DATABASE_URL": database_url("default"),
        "OLAP_DATABASE_URL": database_url("olap"),
        "CATALOG_DATABASE_URL": database_url("catalog"),
    }
