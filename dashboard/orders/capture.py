"""Change data capture (ORDERS_SOURCE=cdc): the shop writes its orders into its own
PostgreSQL (alias "shop": SHOP_DATABASE_URL, by default the dashboard's own database), and
every insert, update and delete reaches the OLAP side by itself, as RisingWave is meant to be
fed. What is captured depends on SHOP_SCHEMA: the sample `orders` table, whose rows are the
dashboard's lines, or a mapped shop's tables, from which the lines are derived
(dashboard/orders/derivation.py).

- On RisingWave: a postgres-cdc source on the shop's database and the `orders` table created
  FROM it; the rollups are materialized views on top, kept current by the engine.
- On the PostgreSQL stand-in: PostgreSQL's own logical replication, a publication on the
  shop's side and a subscription on the OLAP side. The apply worker stamps each row it
  inserts with its transaction and logs what an update or delete replaces (a row trigger,
  dashboard/orders/schema.py), and `manage.py cdc_worker` folds both into the rollups every
  100 ms with one set-based statement (`fold`): the rows applied since the last fold's
  snapshot, and the logged ones that fold had added.

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
from typing import Any

import dj_database_url
import psycopg2.errors
from django.conf import settings
from django.db import DatabaseError, OperationalError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from dashboard.orders import bulk_fold, derivation
from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.schema import (
    DROP_CDC_SOURCE,
    FOLD_CHANGES,
    FOLDED_SNAPSHOT_NOTHING,
    ROLLUPS_VERSION,
    applied_since,
)
from dashboard.shop.mapping import ShopSchema

PUBLICATION = "dashboard_orders"
# The sample schema's captured tables (the dashboard's own, migrated into the shop's database).
CAPTURED_TABLES = ("orders", "cdc_heartbeat")
HEARTBEAT_ID = 1


@dataclass(frozen=True)
class Captured:
    """What the capture reads from the shop's database: (schema, table, columns) in the
    publication (columns None: all of them), and the heartbeat's (schema, table)."""

    tables: tuple[tuple[str, str, tuple[str, ...] | None], ...]
    heartbeat: tuple[str, str]

    @property
    def heartbeat_name(self) -> str:
        return ".".join(self.heartbeat)


SAMPLE_CAPTURE = Captured(
    tuple(("public", table, None) for table in CAPTURED_TABLES), ("public", "cdc_heartbeat")
)


def captured(schema: ShopSchema | None, *, column_lists: bool = True) -> Captured:
    """What the capture of `schema` (None: the sample table) reads. Column lists publish only
    the columns the mapping reads (PostgreSQL 15 and newer, for the stand-in's subscription;
    RisingWave's connector reads whole rows)."""
    if schema is None:
        return SAMPLE_CAPTURE
    heartbeat = (derivation.HEARTBEAT_SCHEMA, derivation.HEARTBEAT_TABLE)
    tables = tuple(
        (table.schema, table.name, tuple(table.columns) if column_lists else None) for table in schema.tables
    )
    return Captured((*tables, (*heartbeat, None)), heartbeat)


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
    # For the subscription only (settings.CDC_DECODING_MEMORY_MB): the memory the shop's server
    # decodes one transaction in before spilling it to its disk; 0, the server's own setting.
    decoding_memory_mb: int = 0

    @classmethod
    def from_settings(cls) -> "Source":
        parsed = dj_database_url.parse(settings.CDC_SOURCE_URL)
        return cls(
            host=str(parsed.get("HOST") or "127.0.0.1"),
            port=int(parsed.get("PORT") or 5432),
            database=str(parsed.get("NAME") or ""),
            user=str(parsed.get("USER") or ""),
            password=str(parsed.get("PASSWORD") or ""),
            decoding_memory_mb=settings.CDC_DECODING_MEMORY_MB,
        )

    def conninfo(self) -> str:
        """A libpq connection string (quoted by psycopg2's make_dsn) for CREATE SUBSCRIPTION.
        The decoding memory goes as an option of the connection, which sets it for the WAL
        sender that serves the subscription and for nothing else on the shop's server (any
        user may: logical_decoding_work_mem is a user setting since PostgreSQL 13)."""
        return make_dsn(
            host=self.host,
            port=self.port,
            dbname=self.database,
            user=self.user,
            password=self.password or None,
            options=self.options(),
        )

    def options(self) -> str | None:
        """The subscription's connection options: the decoding memory, unless the server's own."""
        return (
            f"-c logical_decoding_work_mem={self.decoding_memory_mb}MB" if self.decoding_memory_mb else None
        )

    def decoding_memory(self) -> str:
        return f"{self.decoding_memory_mb} MB" if self.decoding_memory_mb else "the server's own setting"


# --- The shop's side -----------------------------------------------------------------------


class CaptureNotReady(DatabaseError):
    """The shop's database is not ready for the capture (a missing grant, a publication of
    other tables); the message says what to run."""


HEARTBEAT_DDL = (
    "CREATE SCHEMA IF NOT EXISTS dashboard_capture",
    "CREATE TABLE IF NOT EXISTS dashboard_capture.cdc_heartbeat "
    "(id INT PRIMARY KEY, beat TIMESTAMPTZ NOT NULL)",
)


def ensure_heartbeat(shop: BaseDatabaseWrapper, wanted: Captured) -> None:
    """The heartbeat table (a mapped shop's is the dashboard's own, in a schema of its own)
    and its one row."""
    with shop.cursor() as cursor:
        if wanted is not SAMPLE_CAPTURE:
            cursor.execute("SELECT to_regclass('dashboard_capture.cdc_heartbeat') IS NOT NULL")
            if not cursor.fetchone()[0]:
                try:
                    with transaction.atomic(using=shop.alias):
                        for statement in HEARTBEAT_DDL:
                            cursor.execute(statement)
                except DatabaseError as error:
                    raise CaptureNotReady(
                        f"cannot create the capture's heartbeat in the shop's database ({error}".strip()
                        + "): have its owner run `manage.py grant_cdc_access` (or apply what "
                        "`manage.py grant_cdc_access --print` prints)"
                    ) from error
        cursor.execute(
            sql.SQL("INSERT INTO {} (id, beat) VALUES (%s, now()) ON CONFLICT (id) DO NOTHING").format(
                sql.Identifier(*wanted.heartbeat)
            ),
            [HEARTBEAT_ID],
        )


def published(shop: BaseDatabaseWrapper) -> set[tuple[str, str, tuple[str, ...]]] | None:
    """{(schema, table, columns)} the publication holds now, or None if there is none."""
    with shop.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", [PUBLICATION])
        if not cursor.fetchone():
            return None
        cursor.execute(
            "SELECT schemaname, tablename, attnames FROM pg_publication_tables WHERE pubname = %s",
            [PUBLICATION],
        )
        return {(schema, table, tuple(columns or ())) for schema, table, columns in cursor.fetchall()}


def publication_statement(wanted: Captured) -> sql.Composed:
    """CREATE PUBLICATION for the captured tables (what grant_cdc_access prints, too)."""

    def published_table(schema: str, table: str, columns: tuple[str, ...] | None) -> sql.Composable:
        if not columns:
            return sql.Identifier(schema, table)
        listed = sql.SQL(", ").join(map(sql.Identifier, columns))
        return sql.SQL("{} ({})").format(sql.Identifier(schema, table), listed)

    tables = sql.SQL(", ").join(published_table(*table) for table in wanted.tables)
    return sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(sql.Identifier(PUBLICATION), tables)


# Publications with column lists: PostgreSQL 15 and newer.
COLUMN_LISTS_FROM = 150000


def ensure_publication(shop: BaseDatabaseWrapper, wanted: Captured = SAMPLE_CAPTURE) -> bool:
    """Publish the captured tables (once) and give the heartbeat its row; True if created."""
    ensure_heartbeat(shop, wanted)
    existing = published(shop)
    if existing is not None:
        names = {(schema, table) for schema, table, _ in existing}
        if names != {(schema, table) for schema, table, _ in wanted.tables}:
            raise CaptureNotReady(
                f"the shop's publication {PUBLICATION} holds other tables "
                f"({', '.join(sorted('.'.join(name) for name in names))}): it was set up for another "
                "SHOP_SCHEMA; run `manage.py teardown_cdc` first, then this again"
            )
        return False
    if any(columns for _, _, columns in wanted.tables):
        with shop.cursor() as cursor:
            cursor.execute("SHOW server_version_num")
            version = int(cursor.fetchone()[0])
        if version < COLUMN_LISTS_FROM:
            raise CaptureNotReady(
                f"the shop's PostgreSQL is version {version // 10000}: capturing a mapped shop into the "
                "PostgreSQL stand-in publishes only the columns it reads, which needs PostgreSQL 15 "
                "or newer on the shop's side (RisingWave's capture takes 10 and newer)"
            )
    try:
        with transaction.atomic(using=shop.alias), shop.cursor() as cursor:
            cursor.execute(publication_statement(wanted))
    except DatabaseError as error:
        raise CaptureNotReady(
            f"cannot publish the shop's tables ({error}".strip()
            + "): have the tables' owner run `manage.py grant_cdc_access` (or apply what "
            "`manage.py grant_cdc_access --print` prints)"
        ) from error
    return True


def beat(shop: BaseDatabaseWrapper, heartbeat: tuple[str, str] = SAMPLE_CAPTURE.heartbeat) -> datetime:
    """Stamp the heartbeat with the shop's clock; once the stamp has been captured, so has
    everything the shop committed before it."""
    with shop.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "INSERT INTO {} (id, beat) VALUES (%s, now()) "
                "ON CONFLICT (id) DO UPDATE SET beat = EXCLUDED.beat RETURNING beat"
            ).format(sql.Identifier(*heartbeat)),
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


# The subscription's options. binary: values travel in PostgreSQL's binary format (no text
# parsing of numerics and dates). streaming off, PostgreSQL's own default: the shop's server
# decodes a big transaction at its commit (spilling its changes to its own disk until then:
# 152 MB for 1M lines) and the apply worker applies them as they arrive. Streamed to the
# subscriber while it ran (streaming = on, as until 2026-12-06), PostgreSQL 15 spooled it
# there and applied it from the spool afterwards, 3-4 s slower per million lines: 10.2-10.8 s
# against 6.9-7.0 s from the commit to the last line applied.
# (Its connection string is the superuser's to read, as is creating a subscription.)
SUBSCRIPTION_STATE_SQL = (
    "SELECT subenabled, substream::text IN ('true', 't', 'p'), subconninfo FROM pg_subscription "
    "WHERE subname = %s AND subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@dataclass(frozen=True)
class _SubscriptionState:
    enabled: bool
    streaming: bool
    conninfo: str


def _subscription_state(olap: BaseDatabaseWrapper, name: str) -> _SubscriptionState | None:
    """The subscription `name` of this database as it stands; None if there is none."""
    with olap.cursor() as cursor:
        cursor.execute(SUBSCRIPTION_STATE_SQL, [name])
        row = cursor.fetchone()
    return None if row is None else _SubscriptionState(bool(row[0]), bool(row[1]), str(row[2]))


def subscription_enabled(olap: BaseDatabaseWrapper, name: str) -> bool | None:
    """Whether the subscription `name` of this database is enabled; None if there is none."""
    state = _subscription_state(olap, name)
    return None if state is None else state.enabled


def ensure_subscription(
    olap: BaseDatabaseWrapper, source: Source, copies: tuple[str, ...] = ("orders",)
) -> list[str]:
    """Subscribe the OLAP database to the shop's publication (once); what was done. The
    tables the subscription fills, `copies`, are emptied first: its initial copy brings
    their rows."""
    name = slot_name(olap.settings_dict["NAME"])
    state = _subscription_state(olap, name)
    if state is not None:
        done = []
        with olap.cursor() as cursor:
            if state.streaming:  # as an earlier version subscribed; the apply worker restarts by itself
                cursor.execute(
                    sql.SQL("ALTER SUBSCRIPTION {} SET (streaming = off)").format(sql.Identifier(name))
                )
                done.append(
                    f"the subscription {name} now takes a big transaction at its commit (applied faster)"
                )
            stored = parse_dsn(state.conninfo)
            wanted = parse_dsn(source.conninfo())
            # The server's address as the settings give it now: the same server reached
            # another way (the local clusters moved off Linux's ephemeral ports, a shop's
            # database behind a new host name), its slot there.
            moved = {key: wanted.get(key) for key in ("host", "port") if stored.get(key) != wanted.get(key)}
            # CDC_DECODING_MEMORY_MB changed, or an earlier version subscribed without it.
            options_changed = stored.get("options") != wanted.get("options")
            if moved or options_changed:
                # Only the address and the options change: the database and user stay those
                # the subscription's slot was made with (another shop takes teardown_cdc
                # first). The apply worker reconnects by itself, from where it was.
                options = {"options": wanted.get("options")}  # None: left out
                conninfo = make_dsn(**{**stored, **moved, **options})
                cursor.execute(
                    sql.SQL("ALTER SUBSCRIPTION {} CONNECTION %s").format(sql.Identifier(name)), [conninfo]
                )
            if moved:
                done.append(
                    f"the subscription {name} now reaches the shop's server at {source.host}:{source.port}"
                )
            if options_changed:
                done.append(
                    f"the subscription {name} now has the shop's server decode a transaction in "
                    f"{source.decoding_memory()} before spilling it to its disk"
                )
            if not state.enabled:
                cursor.execute(sql.SQL("ALTER SUBSCRIPTION {} ENABLE").format(sql.Identifier(name)))
                done.append(f"enabled the subscription {name}")
        return done
    with olap.cursor() as cursor:
        done = []
        cursor.execute("SELECT count(*) FROM orders")
        (present,) = cursor.fetchone()
        if present:
            # The shop's tables are the truth from now on; their rows arrive with the initial copy.
            cursor.execute("TRUNCATE orders")
            done.append(f"replaced the {present:,} order lines held before with the shop's")
        for table in copies:
            if table != "orders":
                cursor.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(*table.split("."))))
        cursor.execute(
            sql.SQL(
                "CREATE SUBSCRIPTION {name} CONNECTION %s PUBLICATION {publication} "
                "WITH (slot_name = {slot}, binary = true, streaming = off)"
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
    in_bulk: bool = False  # a bulk import's lines, summed in numpy (dashboard/orders/bulk_fold.py)


def fold(olap: BaseDatabaseWrapper, recompute: derivation.Recompute | None = None) -> Fold | None:
    """Fold what was captured into the rollups, in one transaction; None when another folder
    holds the lock. Changes that arrive meanwhile wait for the next fold.

    The sample table: the logged changes, and the lines applied since the last fold; a bulk
    import's lines are summed in numpy when they can be (bulk_fold), otherwise by one
    set-based statement. A mapped shop: the orders its changes touched, recomputed
    (`recompute`: derivation.recomputation), `changes` counting orders; while the
    subscription's initial copy is under way nothing is folded, and once it is done its
    triggers go on and every order is noted, in the same transaction as its first fold."""
    try:
        return _fold(olap, recompute)
    except OperationalError as error:
        # A writer of the rollups other than the folds (a direct load beside the capture)
        # committed in the middle: as if another folder held the lock, the next fold retries.
        if isinstance(error.__cause__, psycopg2.errors.SerializationFailure):
            return None
        raise


def _fold(olap: BaseDatabaseWrapper, recompute: derivation.Recompute | None) -> Fold | None:
    heartbeat = (
        SAMPLE_CAPTURE.heartbeat
        if recompute is None
        else (derivation.HEARTBEAT_SCHEMA, derivation.HEARTBEAT_TABLE)
    )
    with transaction.atomic(using=olap.alias), olap.cursor() as cursor:
        if recompute is None:
            _one_view_of_orders(cursor)
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
        if not cursor.fetchone()[0]:
            return None
        source_time = _source_time(cursor, heartbeat)
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # A big fold's plan costs past jit_above_cost, and compiling it takes a second or
        # more: longer than running it.
        cursor.execute("SET LOCAL jit = off")
        previous = _previous(cursor)
        snapshot = None
        if recompute is None:
            cursor.execute(PENDING_UP_TO, {"previous": previous, "limit": BIG_FOLD})
            logged, applied = cursor.fetchone()
            if logged + applied >= BIG_FOLD:
                if not logged and (bulk := _fold_in_bulk(olap, cursor, previous, source_time)):
                    return bulk
                cursor.execute(ANALYZE_SAMPLE)
            cursor.execute(FOLD_CHANGES, {"previous": previous})
            changes, snapshot = cursor.fetchone()
        else:
            state = _follow(cursor, recompute)
            if state == COPYING:
                return Fold(0, None)  # the shop's history is still being copied
            # Taken before the recomputation notes the stamped rows: everything it sees is
            # noted now (and rows stamped just after it, once more next time, harmlessly).
            cursor.execute("SELECT pg_current_snapshot()::TEXT")
            (snapshot,) = cursor.fetchone()
            changes = _recompute(cursor, recompute, previous, every_order=state == SWITCHED_ON)
        _record_progress(cursor, changes, source_time, snapshot)
    return Fold(changes, source_time)


def _fold_in_bulk(
    olap: BaseDatabaseWrapper, cursor: Any, previous: str, source_time: datetime | None
) -> Fold | None:
    """A bulk import's lines summed as the loader sums a load (bulk_fold), in the fold's
    transaction; None, with nothing written, when the sums cannot take them exactly."""
    summable = bulk_fold.summable_lines(cursor, previous)
    if summable is None:
        return None
    bulk_fold.add_to_rollups(olap, cursor, summable)
    cursor.execute("SELECT pg_current_snapshot()::TEXT")
    _record_progress(cursor, len(summable.lines), source_time, cursor.fetchone()[0])
    return Fold(len(summable.lines), source_time, in_bulk=True)


def _one_view_of_orders(cursor: Any) -> None:
    """Start a sample table's fold: REPEATABLE READ, so what it counts, reads and records as
    folded is one snapshot (read committed gave each statement its own, and a big apply
    committing between the count of pending changes and the fold went unnoticed: no
    statistics, no bulk path); and `orders` locked before that snapshot is taken
    (ORDERS_FIRST; a snapshot taken before waiting for a TRUNCATE would see the table
    emptied under it)."""
    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor.execute(ORDERS_FIRST)


def _source_time(cursor: Any, heartbeat: tuple[str, str]) -> datetime | None:
    """The captured heartbeat: read before the fold's own snapshot (or in it), every change
    committed at the shop before this stamp was applied before it, so the fold sees it."""
    cursor.execute(
        sql.SQL("SELECT beat FROM {} WHERE id = %s").format(sql.Identifier(*heartbeat)), [HEARTBEAT_ID]
    )
    row = cursor.fetchone()
    return row[0] if row else None


def _previous(cursor: Any) -> str:
    """The snapshot of the last fold, as text: every applied row it saw is folded."""
    cursor.execute("SELECT folded_snapshot::TEXT FROM cdc_progress WHERE id = 1")
    row = cursor.fetchone()
    return row[0] if row and row[0] else FOLDED_SNAPSHOT_NOTHING


def _record_progress(cursor: Any, changes: int, source_time: datetime | None, snapshot: str | None) -> None:
    if changes:
        cursor.execute("SELECT nextval(%s)", [ROLLUPS_VERSION])
    cursor.execute(
        "INSERT INTO cdc_progress (id, source_time, folded_at, folded_snapshot) "
        "VALUES (1, %s, now(), %s::pg_snapshot) "
        "ON CONFLICT (id) DO UPDATE SET source_time = EXCLUDED.source_time, folded_at = now(), "
        "folded_snapshot = COALESCE(EXCLUDED.folded_snapshot, cdc_progress.folded_snapshot)",
        [source_time, snapshot],
    )


# The sample table's folds lock `orders` before anything else they read or write, and before
# their snapshot (_one_view_of_orders). A replicated TRUNCATE holds `orders` and then, in its
# trigger, empties the rollups and the change log: a fold that had read the log first and
# then waited for `orders` deadlocked with it (PostgreSQL broke the tie by failing the fold,
# which the worker reported as the OLAP database unavailable). Taken first, the fold waits
# for the TRUNCATE's commit instead.
ORDERS_FIRST = "LOCK TABLE orders IN ACCESS SHARE MODE"

# A fold of this many changes or orders or more (a bulk import, the initial snapshot) first
# refreshes the statistics of the tables it reads, inside its transaction (ANALYZE samples
# a few thousand pages: a fraction of such a fold). Planned from statistics taken while
# `orders` was empty (autovacuum may well take them during the big transaction's apply),
# it would look each row up by scanning every change once per row: minutes, not seconds,
# for a million lines. A mapped shop's big fold is followed by tidying (tidy_after_big_fold),
# a bulk fold by the statistics it did not need itself (tidy_after_bulk_fold).
BIG_FOLD = 5_000
ANALYZE_SAMPLE = "ANALYZE orders, orders_changes"
# How many changes wait for the sample table's fold, logged and applied, each counted up to
# %(limit)s: by the index on the stamps, a few rows for a small fold.
PENDING_UP_TO = f"""SELECT (SELECT count(*) FROM (SELECT FROM orders_changes LIMIT %(limit)s) AS logged),
    (SELECT count(*) FROM (
        SELECT FROM orders WHERE {applied_since("captured_xid", "%(previous)s::pg_snapshot")} LIMIT %(limit)s
    ) AS applied)"""  # noqa: S608 - constant text only: nothing from input


# Where a mapped shop's capture stands (_follow).
COPYING, SWITCHED_ON, FOLLOWING = "copying", "switched on", "following"


def _follow(cursor: Any, recompute: derivation.Recompute) -> str:
    """Whether the capture follows the shop's changes (FOLLOWING), or its initial copy is
    still under way (COPYING), or that copy is done for every table and the capture was
    switched on here (SWITCHED_ON): its triggers go on (locking the copies against the apply
    worker until this transaction ends), and every order the copies hold is to be recomputed.
    Changes applied before are in the copies; changes after are noted by the triggers."""
    cursor.execute(derivation.FOLLOWING, [recompute.triggers])
    if cursor.fetchone()[0]:
        return FOLLOWING
    cursor.execute(derivation.COPIES_PENDING)
    if cursor.fetchone()[0]:
        return COPYING
    for statement in recompute.follow:
        cursor.execute(statement)
    return SWITCHED_ON


def _recompute(cursor: Any, recompute: derivation.Recompute, previous: str, *, every_order: bool) -> int:
    """Run the recomputation of a mapped shop's touched orders (those the triggers noted and
    those of rows stamped since the snapshot `previous`), or of `every_order`; how many
    orders it took."""
    cursor.execute(derivation.CREATE_TOUCHED_NOW)
    cursor.execute(derivation.CREATE_LINES_NOW)
    take, compute, *replace = recompute.statements
    if every_order:
        cursor.execute(recompute.every_order)
    else:
        cursor.execute(take, {"previous": previous})
    touched = cursor.rowcount
    if touched <= 0:
        return 0
    if touched >= BIG_FOLD:
        cursor.execute(recompute.analyze)
    # Statistics for the temporary tables, whatever their size (a millisecond for a few
    # rows): the planner then probes the indexes for one order, where guessing a few
    # thousand it would scan the copies and the lines, and hashes a bulk import's orders.
    cursor.execute("ANALYZE pg_temp.shop_touched_now")
    cursor.execute(compute)
    cursor.execute("ANALYZE pg_temp.shop_lines_now")
    for statement in replace:
        cursor.execute(statement)
    return int(touched)


def tidy_after_bulk_fold(olap: BaseDatabaseWrapper) -> None:
    """After a bulk fold, which planned nothing from them: fresh statistics for `orders`, so
    the next set-based folds plan from its size now, not from before the import."""
    with olap.cursor() as cursor:
        cursor.execute("ANALYZE orders")


def tidy_after_big_fold(olap: BaseDatabaseWrapper, recompute: derivation.Recompute) -> None:
    """After a big fold (outside any transaction, as VACUUM must run): VACUUM the touched-orders
    list, whose dead rows every next fold would scan until autovacuum came by."""
    with olap.cursor() as cursor:
        for statement in recompute.tidy:
            cursor.execute(statement)


PENDING = f"""\
SELECT (SELECT count(*) FROM orders_changes) + (
    SELECT count(*) FROM orders, (
        SELECT COALESCE((SELECT folded_snapshot FROM cdc_progress WHERE id = 1), %s::pg_snapshot) AS folded
    ) AS progress
    WHERE {applied_since("captured_xid", "folded")}
)"""  # noqa: S608 - constant text only: nothing from input


def pending_changes(olap: BaseDatabaseWrapper) -> int:
    """Changes applied on the stand-in and not folded yet: logged rows and applied ones."""
    with olap.cursor() as cursor:
        cursor.execute(PENDING, [FOLDED_SNAPSHOT_NOTHING])
        return int(cursor.fetchone()[0])


# --- Freshness, on either engine --------------------------------------------------------------


def folded_source_time(
    olap: BaseDatabaseWrapper, engine: str, heartbeat: tuple[str, str] = SAMPLE_CAPTURE.heartbeat
) -> datetime | None:
    """The shop's time up to which the OLAP figures are complete, or None if unknown: on
    RisingWave the captured heartbeat (its views move with the table), on the stand-in what
    the last fold recorded."""
    query = (
        sql.SQL("SELECT max(beat) FROM {}").format(sql.Identifier(*heartbeat))
        if engine == RISINGWAVE
        else sql.SQL("SELECT max(source_time) FROM cdc_progress")
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
    heartbeat: tuple[str, str] = SAMPLE_CAPTURE.heartbeat,
    poll: float = 0.02,
    clock: Callable[[], float] = time.monotonic,
) -> float | None:
    """Seconds until the OLAP figures include everything committed before `stamp` (a beat),
    or None if that did not happen within `timeout` seconds."""
    started = clock()
    while True:
        reached = folded_source_time(olap, engine, heartbeat)
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
