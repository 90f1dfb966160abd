from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from dashboard.dbrouter import DEFAULT, OLAP
from dashboard.orders.setup import prepare


class Command(BaseCommand):
    help = (
        "Create what the dashboard reads in the OLAP database (RisingWave, or PostgreSQL "
        "standing in for it): the orders table and its rollups, and with ORDERS_SOURCE=cdc the "
        "capture of the shop's orders (a publication in DATABASE_URL's database, and a "
        "postgres-cdc source on RisingWave or a subscription on PostgreSQL). Safe to run "
        "again: existing objects and rows are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default=OLAP, help="Database alias (default: %(default)s).")
        parser.add_argument(
            "--rebuild-rollups",
            action="store_true",
            help="On PostgreSQL, recompute every rollup from the orders table (RisingWave needs never).",
        )

    def handle(self, *args: Any, database: str, rebuild_rollups: bool, **options: Any) -> None:
        try:
            shop = connections[DEFAULT] if settings.ORDERS_SOURCE == "cdc" else None
            engine, done = prepare(connections[database], rebuild=rebuild_rollups, shop=shop)
        except DatabaseError as error:
            message = f"Could not prepare the OLAP database {database!r}: {error}".strip()
            raise CommandError(message) from error
        for step in done:
            self.stdout.write(f"  {step}", style_func=None)
        self.stdout.write(f"OLAP database {database!r} ({engine}) is ready.")
