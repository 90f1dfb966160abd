"""Change data capture (ORDERS_SOURCE=cdc): the shop writes its orders into its own
PostgreSQL (alias "default"), and every insert, update and delete reaches the OLAP side by
itself, as RisingWave is meant to be fed.

- On RisingWave: a postgres-cdc source on the shop's database and the `orders` table created
  FROM it; the rollups are materialized views on top, kept current by the engine.
- On the PostgreSQL stand-in: PostgreSQL's own logical replication, a publication on the
  shop's side and a subscription on the OLAP side. The apply worker appends each change to a
  narrow log (a row trigger, dashboard/orders/schema.py) and `manage.py cdc_worker` folds the
  log into the rollups every 100 ms with one set-based statement (`fold`).

Either way the publication is created here, on the shop's side, so the capture's user needs
only LOGIN, REPLICATION and SELECT on the captured tables. A heartbeat row, stamped in the
shop's database and captured like the orders, says how far behind the figures are.

Replication slots live on the shop's server and keep its WAL until consumed: `teardown`
drops the subscription or source and the slot with it, so turning the feature off never
leaves a slot filling the shop's disk.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import dj_database_url
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg2 import sql

from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.schema import CHANGE_LOG, DROP_CDC_SOURCE, FOLD_CHANGES, ROLLUPS_VERSION

PUBLICATION = "dashboard_orders"
CAPTURED_TABLES = ("orders", "cdc_heartbeat")
HEARTBEAT_ID = 1
# One folder at a time: two folds at once could count an order's entry into a day twice.
FOLD_LOCK = 7_160_341_105


def slot_name(olap_database: str) -> str:
    """The replication slot (and subscription) of the OLAP database `olap_database`. Slots are
    named per server, not per database, so two OLAP databases fed from one server (a site and
    its tests, say) each get their own."""
    return "dashboard_" + re.sub(r"[^a-z0-9_]", "_", olap_database.lower())[:50]


@dataclass(frozen=True)
class Source:
    """The shop's database as the OLAP server reaches it (settings.CDC_SOURCE_URL)."""

    host: str
    port: int
    database: str
    user: str
    password: str

    @classmethod
    def from_settings(cls) -> "Source":
        parsed = dj_database_url.parse(settings.CDC_SOURCE_URL)
        return cls(
            host=str(parsed.get("HOST") or "127.0.0.1"),
            port=int(parsed.get("PORT") or 5432),
            database=str(parsed.get("NAME") or ""),
            user=str(parsed.get("USER") or ""),
            password=str(parsed.get("PASSWORD") or ""),
        )

    def conninfo(self) -> str:
        """A libpq connection string (quoted as libpq wants it) for CREATE SUBSCRIPTION."""

        def quoted(value: str) -> str:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

        parts = {"host": self.host, "port": str(self.port), "dbname": self.database, "user": self.user}
        if self.password:
            parts["password"] = self.password
        return " ".join(f"{key}={quoted(value)}" for key, value in parts.items())


# --- The shop's side -----------------------------------------------------------------------


def ensure_publication(shop: BaseDatabaseWrapper) -> bool:
    """Publish the captured tables (once) and give the heartbeat its row; True if created."""
    with shop.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cdc_heartbeat (id, beat) VALUES (%s, now()) ON CONFLICT (id) DO NOTHING",
            [HEARTBEAT_ID],
        )
        cursor.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", [PUBLICATION])
        if cursor.fetchone():
            return False
        tables = sql.SQL(", ").join(sql.Identifier(table) for table in CAPTURED_TABLES)
        cursor.execute(
            sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(sql.Identifier(PUBLICATION), tables)
        )
    return True


def beat(shop: BaseDatabaseWrapper) -> datetime:
    """Stamp the heartbeat with the shop's clock; once the stamp has been captured, so has
    everything the shop committed before it."""
    with shop.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cdc_heartbeat (id, beat) VALUES (%s, now()) "
            "ON CONFLICT (id) DO UPDATE SET beat = EXCLUDED.beat RETURNING beat",
            [HEARTBEAT_ID],
        )
        (stamp,) = cursor.fetchone()
    return stamp


def drop_slot(shop: BaseDatabaseWrapper, slot: str) -> bool:
    """Drop the replication slot `slot` on the shop's server if it is there; True if dropped."""
    with shop.cursor() as cursor:
        cursor.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
            [slot],
        )
        return bool(cursor.fetchall())


def drop_publication(shop: BaseDatabaseWrapper) -> None:
    with shop.cursor() as cursor:
        cursor.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(PUBLICATION)))


# --- The OLAP side on the PostgreSQL stand-in ------------------------------------------------


def subscription_enabled(olap: BaseDatabaseWrapper, name: str) -> bool | None:
    """Whether the subscription `name` of this database is enabled; None if there is none."""
    with olap.cursor() as cursor:
        cursor.execute(
            "SELECT subenabled FROM pg_subscription WHERE subname = %s "
            "AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def ensure_subscription(olap: BaseDatabaseWrapper, source: Source) -> list[str]:
    """Subscribe the OLAP database to the shop's publication (once); what was done."""
    name = slot_name(olap.settings_dict["NAME"])
    enabled = subscription_enabled(olap, name)
    if enabled:
        return []
    with olap.cursor() as cursor:
        if enabled is False:
            cursor.execute(sql.SQL("ALTER SUBSCRIPTION {} ENABLE").format(sql.Identifier(name)))
            return [f"enabled the subscription {name}"]
        done = []
        cursor.execute("SELECT count(*) FROM orders")
        (present,) = cursor.fetchone()
        if present:
            # The shop's table is the truth from now on; its rows arrive with the initial copy.
            cursor.execute("TRUNCATE orders")
            done.append(f"replaced the {present:,} order lines loaded directly with the shop's")
        # binary: values travel in PostgreSQL's binary format (no text parsing of numerics and
        # dates); streaming: a big transaction is sent while it runs, not held by the sender.
        cursor.execute(
            sql.SQL(
                "CREATE SUBSCRIPTION {name} CONNECTION %s PUBLICATION {publication} "
                "WITH (slot_name = {slot}, binary = true, streaming = on)"
            ).format(
                name=sql.Identifier(name),
                publication=sql.Identifier(PUBLICATION),
                slot=sql.Literal(name),
            ),
            [source.conninfo()],
        )
    return [*done, f"subscribed to {source.database} on {source.host}:{source.port} (slot {name})"]


def drop_subscription(olap: BaseDatabaseWrapper) -> bool:
    """Drop this database's subscription, and its slot on the shop's server while that
    answers; True if there was one. With the shop unreachable the slot stays: the caller
    drops it later (drop_slot)."""
    name = slot_name(olap.settings_dict["NAME"])
    if subscription_enabled(olap, name) is None:
        return False
    identifier = sql.Identifier(name)
    with olap.cursor() as cursor:
        cursor.execute(sql.SQL("ALTER SUBSCRIPTION {} DISABLE").format(identifier))
        # Detached from its slot, the subscription drops without reaching the shop; the slot
        # is dropped through the shop's own connection instead (teardown).
        cursor.execute(sql.SQL("ALTER SUBSCRIPTION {} SET (slot_name = NONE)").format(identifier))
        cursor.execute(sql.SQL("DROP SUBSCRIPTION {}").format(identifier))
    return True


@dataclass(frozen=True)
class Fold:
    changes: int  # change rows folded (an update counts two)
    source_time: datetime | None  # every change the shop committed before this is folded


def fold(olap: BaseDatabaseWrapper) -> Fold | None:
    """Fold the logged changes into the rollups, in one transaction; None when another
    folder holds the lock. Changes that arrive meanwhile wait for the next fold."""
    with transaction.atomic(using=olap.alias), olap.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
        if not cursor.fetchone()[0]:
            return None
        # Read before the fold's own snapshot: every change committed at the shop before this
        # stamp was applied before the stamp, so the fold below sees it.
        cursor.execute("SELECT beat FROM cdc_heartbeat WHERE id = %s", [HEARTBEAT_ID])
        row = cursor.fetchone()
        source_time = row[0] if row else None
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(FOLD_CHANGES)
        (changes,) = cursor.fetchone()
        if changes:
            cursor.execute("SELECT nextval(%s)", [ROLLUPS_VERSION])
        cursor.execute(
            "INSERT INTO cdc_progress (id, source_time, folded_at) VALUES (1, %s, now()) "
            "ON CONFLICT (id) DO UPDATE SET source_time = EXCLUDED.source_time, folded_at = now()",
            [source_time],
        )
    return Fold(changes, source_time)


def pending_changes(olap: BaseDatabaseWrapper) -> int:
    with olap.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(CHANGE_LOG)))
        return int(cursor.fetchone()[0])


# --- Freshness, on either engine --------------------------------------------------------------


def folded_source_time(olap: BaseDatabaseWrapper, engine: str) -> datetime | None:
    """The shop's time up to which the OLAP figures are complete, or None if unknown: on
    RisingWave the captured heartbeat (its views move with the table), on the stand-in what
    the last fold recorded."""
    query = (
        "SELECT max(beat) FROM cdc_heartbeat"
        if engine == RISINGWAVE
        else "SELECT max(source_time) FROM cdc_progress"
    )
    with olap.cursor() as cursor:
        cursor.execute(query)
        row = cursor.fetchone()
    return row[0] if row else None


def wait_until_caught_up(
    olap: BaseDatabaseWrapper,
    engine: str,
    stamp: datetime,
    *,
    timeout: float,
    poll: float = 0.02,
    clock: Callable[[], float] = time.monotonic,
) -> float | None:
    """Seconds until the OLAP figures include everything committed before `stamp` (a beat),
    or None if that did not happen within `timeout` seconds."""
    started = clock()
    while True:
        reached = folded_source_time(olap, engine)
        if reached is not None and reached >= stamp:
            return clock() - started
        if clock() - started > timeout:
            return None
        time.sleep(poll)


# --- Turning it off ---------------------------------------------------------------------------

SLOT_RELEASE_SECONDS = 15.0


def release_slot(shop: BaseDatabaseWrapper, slot: str, *, timeout: float = SLOT_RELEASE_SECONDS) -> bool:
    """Drop the slot once no walsender uses it any more (a subscriber or source that was
    just stopped lets go of it within a moment); True if it was there."""
    deadline = time.monotonic() + timeout
    while True:
        with shop.cursor() as cursor:
            cursor.execute("SELECT active FROM pg_replication_slots WHERE slot_name = %s", [slot])
            row = cursor.fetchone()
        if row is None:
            return False
        if not row[0] or time.monotonic() > deadline:
            return drop_slot(shop, slot)
        time.sleep(0.1)


def teardown(olap: BaseDatabaseWrapper, shop: BaseDatabaseWrapper) -> list[str]:
    """Stop capturing: the subscription or source, the slot on the shop's server, the
    publication. Safe to repeat; what was done."""
    slot = slot_name(olap.settings_dict["NAME"])
    done = []
    if server_engine(olap) == RISINGWAVE:
        with olap.cursor() as cursor:
            cursor.execute(DROP_CDC_SOURCE)
        done.append("dropped the source and the tables and views fed from it")
    elif drop_subscription(olap):
        done.append(f"dropped the subscription {slot}")
    try:
        if release_slot(shop, slot):
            done.append(f"dropped the replication slot {slot} on the shop's server")
        drop_publication(shop)
    except DatabaseError as error:
        raise DatabaseError(
            f"{error}".strip() + f" -- the replication slot {slot} may remain on the shop's server: "
            f"once it answers, run this again, or there: SELECT pg_drop_replication_slot('{slot}')"
        ) from error
    return done
