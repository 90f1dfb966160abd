from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from dashboard.dbrouter import OLAP, shop_alias
from dashboard.orders.capture import teardown


class Command(BaseCommand):
    help = (
        "Turn change data capture off: drop the subscription (PostgreSQL) or the source and the "
        "tables fed from it (RisingWave), the replication slot on the shop's server and the "
        "publication. Run it before dropping either database or leaving ORDERS_SOURCE=cdc: a "
        "forgotten slot keeps the shop's WAL until its disk is full."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = teardown(connections[OLAP], connections[shop_alias()])
        except DatabaseError as error:
            raise CommandError(f"Could not turn capture off: {error}".strip()) from error
        for step in done or ["no capture was set up"]:
            self.stdout.write(f"  {step}")
        self.stdout.write("Change data capture is off.")
