import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dashboard.orders.worker import run_until_stopped


class Command(BaseCommand):
    help = (
        "With ORDERS_SOURCE=cdc: fold the changes PostgreSQL's logical replication applies into "
        "the rollups every 100 ms (the PostgreSQL stand-in; RisingWave keeps its views itself) and "
        "stamp the shop's heartbeat every second, which shows how far behind the figures are. "
        "Runs until SIGTERM or Ctrl-C; waits out either database going away."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ORDERS_SOURCE != "cdc":
            raise CommandError(
                "ORDERS_SOURCE is not cdc: orders are loaded directly, there is nothing to fold."
            )
        run_until_stopped(sys.stdout)
