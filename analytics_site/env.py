"""Reading settings from the environment, with errors that say what to set."""

import os
from collections.abc import Collection
from typing import Any

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"The environment variable {name} is not set. See README.md for the settings "
            "the site reads (scripts/serve.sh sets local defaults in .dev/env)."
        )
    return value


def boolean(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is too small: the least it takes is {minimum}.")
    return value


def string_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def secret_key(*, debug: bool) -> str:
    """SECRET_KEY, refusing a missing key always and a guessable one when DEBUG is off."""
    key = required("SECRET_KEY")
    strong = (
        len(key) >= SECRET_KEY_MIN_LENGTH
        and len(set(key)) >= SECRET_KEY_MIN_UNIQUE_CHARACTERS
        and not key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )
    if not strong and not debug:
        raise ImproperlyConfigured(
            f"SECRET_KEY is too weak to run with DEBUG off: use at least {SECRET_KEY_MIN_LENGTH} "
            f"random characters (not starting with {SECRET_KEY_INSECURE_PREFIX!r}), e.g. the output "
            "of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return key


def database(
    name: str, *, engine: str | None = None, options: dict[str, Any] | None = None, **config: Any
) -> dj_database_url.DBConfig:
    """One DATABASES entry from the URL in the environment variable `name`."""
    url = required(name)
    try:
        settings = dj_database_url.parse(url, engine=engine, **config)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {error}") from None
    if not settings.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database; end the URL with /<database name>.")
    settings.setdefault("OPTIONS", {}).update(options or {})
    return settings


SQLITE = "django.db.backends.sqlite3"
MYSQL = "django.db.backends.mysql"
# Dolt runs transactions at REPEATABLE READ only (Django's MySQL default is READ COMMITTED).
DOLT_SERVER_OPTIONS = {"charset": "utf8mb4", "isolation_level": "repeatable read"}


def dolt_database(name: str, *, conn_max_age: int, **config: Any) -> dj_database_url.DBConfig:
    """The DATABASES entry of a Dolt database: an embedded doltlite file (sqlite:///path) or a
    Dolt sql-server over the MySQL protocol (mysql://user:password@host:3306/database)."""
    settings = database(name, **config)
    # Kept between requests either way: a server connection costs a round trip or more to
    # open, and opening a doltlite file costs about 0.8 ms of a request (measured over HTTP,
    # 2026-12-06), a sixth of the unfiltered rankings' time. A kept connection sees what
    # other connections and processes committed, branches included.
    settings["CONN_MAX_AGE"] = conn_max_age
    if settings["ENGINE"] == SQLITE:
        use_doltlite()
    elif settings["ENGINE"] == MYSQL:
        settings["CONN_HEALTH_CHECKS"] = True
        settings["OPTIONS"] = {**DOLT_SERVER_OPTIONS, **settings["OPTIONS"]}
    else:
        raise ImproperlyConfigured(
            f"{name} must name a Dolt database: a doltlite file (sqlite:///path/catalog.db) or a "
            "Dolt sql-server (mysql://user:password@host:3306/database); branches, commits and "
            "merges need one of them."
        )
    return settings


def use_doltlite() -> None:
    """Make Python's sqlite3 run on doltlite (SQLite with Dolt's version control); it must
    load before sqlite3 does."""
    # doltlite marks the environment once loaded, and child processes (gen_data run by a
    # test, say) inherit the mark without the library: without the library preloaded, the
    # mark is a parent's and would make this process skip loading it.
    if "libdoltlite" not in os.environ.get("LD_PRELOAD", ""):
        os.environ.pop("_DOLTLITE_BOOTSTRAPPED", None)
    import doltlite  # noqa: F401


def string(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def choice(name: str, choices: Collection[str], default: str) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def shop_schema(name: str, cancelled_name: str) -> tuple[str, tuple[str, ...] | None]:
    """SHOP_SCHEMA (`sample`, `oscar` or a mapping file's path) and SHOP_CANCELLED_STATUSES,
    checked now: a mapping file with a bad key stops the site at start, naming the key."""
    from dashboard.shop.mapping import SAMPLE, MappingError, load

    setting = string(name, SAMPLE)
    raw = os.environ.get(cancelled_name)
    cancelled = None if raw is None else tuple(string_list(cancelled_name))
    if cancelled == ():
        raise ImproperlyConfigured(f"{cancelled_name} is set but names no status; unset it for the default.")
    try:
        load(setting, cancelled)
    except MappingError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from None
    return setting, cancelled
