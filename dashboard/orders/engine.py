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
