"""Which engine serves the OLAP alias, decided by what the server says it is."""

from django.db.backends.base.base import BaseDatabaseWrapper

RISINGWAVE = "risingwave"
POSTGRESQL = "postgresql"


def engine_from_version(version: str) -> str:
    """Map the text of `SELECT version()` to RISINGWAVE or POSTGRESQL.

    RisingWave answers e.g. "PostgreSQL 13.14.0-RisingWave-3.0.3 (abc123)": it claims to be
    PostgreSQL, so the RisingWave marker is what decides.
    """
    if "risingwave" in version.lower():
        return RISINGWAVE
    if version.startswith("PostgreSQL"):
        return POSTGRESQL
    raise ValueError(f"The OLAP database is neither RisingWave nor PostgreSQL: {version!r}")


def server_engine(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
    return engine_from_version(version)


_engines: dict[tuple[str, str, str], str] = {}


def known_engine(connection: BaseDatabaseWrapper) -> str:
    """server_engine, asked once per server and database for the life of the process (a
    server does not change engine under a running site), for paths that run per request."""
    settings = connection.settings_dict
    where = (str(settings["HOST"]), str(settings["PORT"]), str(settings["NAME"]))
    if where not in _engines:
        _engines[where] = server_engine(connection)
    return _engines[where]
