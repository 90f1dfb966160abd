from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from dashboard.dbrouter import OLAP
from dashboard.orders.compaction import compact


class Command(BaseCommand):
    help = (
        "On PostgreSQL, fold the delta-log rollups back to one row per key, so reads stay fast "
        "under a long live stream of orders. Safe while orders are written; run it now and then "
        "(e.g. hourly from cron). RisingWave needs never."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=OLAP, help="Database alias (default: %(default)s).")

    def handle(self, *args: Any, database: str, **options: Any) -> None:
        try:
            done = compact(connections[database])
        except DatabaseError as error:
            raise CommandError(f"Could not compact the rollups in {database!r}: {error}".strip()) from error
        if done is None:
            self.stdout.write(
                f"{database!r} is RisingWave: its rollups are materialized views, nothing to do"
            )
            return
        for name, before, after in done:
            self.stdout.write(f"  {name}: {before:,} rows folded into {after:,}")
        self.stdout.write(f"Rollups in {database!r} are compacted.")
