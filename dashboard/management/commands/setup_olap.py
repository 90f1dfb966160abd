from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from dashboard.dbrouter import OLAP, shop_alias
from dashboard.orders.derivation import ShopSchemaMismatch
from dashboard.orders.setup import prepare
from dashboard.shop.configured import shop_schema


class Command(BaseCommand):
    help = (
        "Create what the dashboard reads in the OLAP database (RisingWave, or PostgreSQL "
        "standing in for it): the orders table and its rollups, and with ORDERS_SOURCE=cdc the "
        "capture of the shop's orders (a publication in SHOP_DATABASE_URL's database, and a "
        "postgres-cdc source on RisingWave or a subscription on PostgreSQL), from the tables "
        "SHOP_SCHEMA names. Safe to run "
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
        schema = shop_schema()
        if schema is not None and settings.ORDERS_SOURCE != "cdc":
            raise CommandError(
                f"SHOP_SCHEMA={settings.SHOP_SCHEMA} needs ORDERS_SOURCE=cdc: a shop's orders reach the "
                "dashboard by change data capture from its own database (SHOP_DATABASE_URL)."
            )
        try:
            shop = connections[shop_alias()] if settings.ORDERS_SOURCE == "cdc" else None
            engine, done = prepare(connections[database], rebuild=rebuild_rollups, shop=shop, schema=schema)
        except ShopSchemaMismatch as error:
            raise CommandError(f"The shop's database does not match SHOP_SCHEMA: {error}") from error
        except DatabaseError as error:
            message = f"Could not prepare the OLAP database {database!r}: {error}".strip()
            raise CommandError(message) from error
        for step in done:
            self.stdout.write(f"  {step}", style_func=None)
        self.stdout.write(f"OLAP database {database!r} ({engine}) is ready.")
