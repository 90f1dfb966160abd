"""Waiting for the rollups' mirror of this process (dashboard/orders/mirror.py) to take in
every committed change, and changing a rollup behind its back."""

import time
import uuid

from django.db import connections

from dashboard.orders import mirror
from dashboard.orders.schema import MIRROR_CHANNEL

OLAP = "olap"


def settled(timeout=20.0):
    """The mirror once it has read every notice committed before this call (a "sync" notice
    sent now, once it listens, comes after them in the notices' order), and is current."""
    deadline = time.monotonic() + timeout

    def waited(done):
        while time.monotonic() < deadline:
            mirrored = mirror.current()  # the first call starts it
            if mirrored is not None and done():
                return mirrored
            time.sleep(0.01)
        raise AssertionError("the mirror did not read the notices within the time")

    waited(lambda: True)  # listening, and everything read
    token = uuid.uuid4().hex
    with connections[OLAP].cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [MIRROR_CHANNEL, f"sync {token}"])
    return waited(lambda: mirror.synced() == token)


def change_unannounced(cursor):
    """Change a rollup's rows without its notice (its trigger off for the statement): the
    mirror cannot know, which shows whether an answer came from it."""
    cursor.execute("ALTER TABLE orders_state_total DISABLE TRIGGER orders_mirror_update")
    cursor.execute("UPDATE orders_state_total SET lines = 99")
    cursor.execute("ALTER TABLE orders_state_total ENABLE ALWAYS TRIGGER orders_mirror_update")
