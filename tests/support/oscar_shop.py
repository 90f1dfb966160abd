"""The test side of the tests' django-oscar shop: OscarShop starts the shop driver
(tests/oscar_shop/driver.py) in a subprocess of its own and sends it one command at a time, and
create_shop_database / drop_shop_database give it a fresh PostgreSQL database on the server of
Django's "default" test database.

    url = create_shop_database()
    shop = OscarShop(url, log_path=tmp_path / "oscar_shop.log")
    try:
        shop.migrate()
        apple, pear = shop.create_products(["Apple", "Pear"], price="2.50")
        placed = shop.place_order([[apple, 2], [pear, 1]], address={"state": "CA", "country": "US"})
        shop.set_status(placed["order_id"], "Cancelled")
    finally:
        shop.close()
        drop_shop_database()
"""

import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn
from urllib.parse import quote

import psycopg2
from django.db import connections

from tests.support import ROOT

SHOP_DATABASE = "test_oscar_shop"
# Seconds a command may take before the driver is given up on (and killed).
DEFAULT_TIMEOUT = 120.0
MIGRATE_TIMEOUT = 900.0  # oscar's 150-odd migrations take ~40 s on a quiet machine
BULK_TIMEOUT = 900.0
CLOSE_TIMEOUT = 30.0


def _server_params() -> dict[str, Any]:
    """libpq connection parameters of the server holding Django's "default" database."""
    params = connections["default"].get_connection_params()
    keep = {"host", "port", "user", "password", "sslmode", "sslrootcert", "sslcert", "sslkey"}
    return {key: value for key, value in params.items() if key in keep and value not in (None, "")}


@contextlib.contextmanager
def _maintenance_connection() -> Iterator[Any]:
    connection = psycopg2.connect(dbname="postgres", **_server_params())
    connection.autocommit = True  # CREATE and DROP DATABASE refuse to run in a transaction
    try:
        yield connection
    finally:
        connection.close()


def shop_database_url(name: str = SHOP_DATABASE) -> str:
    """The URL (OSCAR_SHOP_DATABASE_URL) of the shop database ``name`` on that server."""
    params = _server_params()
    user = quote(str(params.get("user", "")), safe="")
    password = params.get("password")
    credentials = f"{user}:{quote(str(password), safe='')}@" if password else (f"{user}@" if user else "")
    host = params.get("host") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgres://{credentials}{host}{port}/{name}"


def drop_shop_database(name: str = SHOP_DATABASE) -> None:
    """Drops the shop database, closing whatever still connects to it (WITH (FORCE))."""
    with _maintenance_connection() as connection, connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_shop_database(name: str = SHOP_DATABASE, template: str | None = None) -> str:
    """A fresh database for the shop (one left by a killed run is dropped first), empty or a
    copy of `template` (the run's migrated oscar database: the fixture migrated_oscar);
    returns its URL. Drop it with drop_shop_database()."""
    drop_shop_database(name)
    with _maintenance_connection() as connection, connection.cursor() as cursor:
        if template:
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            cursor.execute(f'CREATE DATABASE "{name}"')
    return shop_database_url(name)


# Oscar's 150-odd migrations take about 40 s: they run once per test run, into this database,
# which each oscar test shop is then copied from (CREATE DATABASE ... TEMPLATE, a second).
MIGRATED_TEMPLATE = "test_oscar_migrated"


def migrate_template(log_path: Path) -> str:
    """The run's migrated oscar database (MIGRATED_TEMPLATE), created and migrated; its name."""
    url = create_shop_database(MIGRATED_TEMPLATE)
    with OscarShop(url, log_path=log_path) as shop:
        shop.migrate()
    return MIGRATED_TEMPLATE


class TemplateMigration:
    """migrate_template in a thread of its own, started as soon as the run knows a test will
    need the template (tests/conftest.py, after collection). Oscar's migrations are a driver
    process busy on one core for 40 s and more, nearly all of it Django rendering migration
    states in Python, so the tests that run meanwhile (the run starts with the ones that never
    stop a cluster) keep the other. result() waits for it; if the background migration failed,
    it runs again in the foreground, so a test only ever gets a completely migrated template
    or the migration's own error."""

    def __init__(self, log_path: Path) -> None:
        self._log_path = log_path
        self._error: BaseException | None = None
        self._shop: OscarShop | None = None
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oscar template migration", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            url = create_shop_database(MIGRATED_TEMPLATE)
            with OscarShop(url, log_path=self._log_path) as shop:
                self._shop = shop
                if not self._cancelled.is_set():
                    shop.migrate()
        except BaseException as error:  # kept for result(), which runs the migration again
            self._error = error
        finally:
            self._shop = None

    def result(self) -> str:
        """The migrated template's name, once it is complete."""
        self._thread.join()
        if self._error is not None:
            return migrate_template(self._log_path)
        return MIGRATED_TEMPLATE

    def cancel(self) -> None:
        """The run ends without having needed it: stop the driver if it is still migrating."""
        self._cancelled.set()
        shop = self._shop
        process = shop._process if shop is not None else None
        if process is not None and process.poll() is None:
            process.kill()  # the thread's command fails, and its `with` closes the driver
        self._thread.join(MIGRATE_TIMEOUT)


class OscarShopError(AssertionError):
    """The driver failed a command (its traceback is the message) or stopped answering."""


class OscarShop:
    """The shop driver in a subprocess, one method per command; each command commits as one
    transaction of the shop. A failed command raises OscarShopError with the driver's traceback;
    the driver stays usable. A driver that dies or misses a timeout is killed and the error says
    so, with the end of its log. close() (also on leaving a ``with`` block) stops it."""

    def __init__(self, database_url: str, log_path: Path, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.database_url = database_url
        self.log_path = Path(log_path)
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self._log: IO[bytes] = open(self.log_path, "ab")  # noqa: SIM115 (closed in close())
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.oscar_shop.settings",
            "OSCAR_SHOP_DATABASE_URL": database_url,
            "PYTHONUNBUFFERED": "1",
        }
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", "tests.oscar_shop.driver"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                # Its own session: a Ctrl-C at the terminal reaches the tests, which close it.
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            raise

    def __enter__(self) -> "OscarShop":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the commands -------------------------------------------------------------------------

    def ping(self) -> str:
        return self.call("ping")

    def migrate(self) -> dict[str, int]:
        """Oscar's migrations on the empty database, then the countries (US, GB, CA, PR, GU, VI,
        AS, MP), a partner, a product class and the line option. Idempotent."""
        return self.call("migrate", timeout=MIGRATE_TIMEOUT)

    def create_products(self, titles: Sequence[str], price: str = "9.99") -> list[int]:
        """Product ids, in the order of ``titles``; each has a stock record at ``price``."""
        return self.call("create_products", titles=list(titles), price=str(price))

    def place_order(
        self,
        lines: Sequence[Sequence[int]],
        address: dict[str, str] | None = None,
        status: str | None = None,
        separate_lines: bool = False,
        date_placed: str | None = None,
    ) -> dict[str, Any]:
        """Places an order through oscar's basket and OrderCreator. ``lines``: [[product_id,
        quantity], ...]; ``address``: {"state": ..., "country": "US"} (also first_name, last_name,
        line1, city, postcode) or None for no shipping address; ``separate_lines``: a product
        listed twice becomes two order lines (else oscar merges them into one); ``date_placed``:
        ISO timestamp. Returns {"order_id", "number", "line_ids"}."""
        args: dict[str, Any] = {"lines": [list(line) for line in lines], "address": address}
        if status is not None:
            args["status"] = status
        if separate_lines:
            args["separate_lines"] = True
        if date_placed is not None:
            args["date_placed"] = date_placed
        return self.call("place_order", **args)

    def set_status(self, order_id: int, status: str) -> dict[str, Any]:
        """Order.set_status (pipeline-checked; cascades to the lines). Returns {"status",
        "line_statuses"}."""
        return self.call("set_status", order_id=order_id, status=status)

    def set_line_status(self, line_id: int, status: str) -> str:
        return self.call("set_line_status", line_id=line_id, status=status)

    def set_line_quantity(self, line_id: int, quantity: int) -> dict[str, str | None]:
        """New quantity; the line prices follow from the unit prices (only order_line changes)."""
        return self.call("set_line_quantity", line_id=line_id, quantity=quantity)

    def edit_address(self, order_id: int, state: str | None = None, country: str | None = None) -> int:
        """Edits the order's shipping address row in place; returns its id."""
        args: dict[str, Any] = {"order_id": order_id}
        if state is not None:
            args["state"] = state
        if country is not None:
            args["country"] = country
        return self.call("edit_address", **args)

    def rename_product(self, product_id: int, title: str) -> None:
        self.call("rename_product", product_id=product_id, title=title)

    def delete_product(self, product_id: int) -> None:
        self.call("delete_product", product_id=product_id)

    def delete_order(self, order_id: int) -> None:
        self.call("delete_order", order_id=order_id)

    def bulk_import(
        self,
        orders: int,
        lines_per_order: int,
        first_product: int,
        products: int,
        state: str = "",
        country: str = "US",
        date_placed: str | None = None,
        quantity: int | None = None,
        method: str = "bulk_create",
    ) -> dict[str, int]:
        """``orders`` orders of ``lines_per_order`` lines in one transaction; line j of order i is
        product first_product + (i * lines_per_order + j) % products, quantity ``quantity`` or
        else 1, 2, 3, 1, ... by that index. ``method``: "bulk_create" or "copy" (faster). Returns
        {"orders", "lines", "first_order_id", "last_order_id"}."""
        args: dict[str, Any] = {
            "orders": orders,
            "lines_per_order": lines_per_order,
            "first_product": first_product,
            "products": products,
            "state": state,
            "country": country,
            "method": method,
        }
        if date_placed is not None:
            args["date_placed"] = date_placed
        if quantity is not None:
            args["quantity"] = quantity
        return self.call("bulk_import", timeout=BULK_TIMEOUT, **args)

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[list[Any]]:
        """A read-only query on the shop's database: rows as lists (Decimals as strings, dates and
        times as ISO strings)."""
        return self.call("sql", query=query, params=list(params))

    # --- the protocol -------------------------------------------------------------------------

    def call(self, command: str, timeout: float | None = None, **args: Any) -> Any:
        """Sends one command and returns its result; raises OscarShopError if it failed."""
        process = self._process
        if process is None:
            raise OscarShopError(f"the oscar shop driver is closed (command {command!r})")
        self._next_id += 1
        request_id = self._next_id
        try:
            assert process.stdin is not None
            process.stdin.write(
                (json.dumps({"id": request_id, "command": command, "args": args}) + "\n").encode()
            )
            process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            self._fail(f"could not send {command!r} to the oscar shop driver ({error})")
        line = self._read_line(timeout if timeout is not None else self.timeout, command)
        reply = json.loads(line)
        if reply.get("id") != request_id:
            self._fail(
                f"the oscar shop driver answered request {reply.get('id')} to {request_id} ({command!r})"
            )
        if not reply["ok"]:
            raise OscarShopError(f"oscar shop command {command!r} failed:\n{reply['error']}")
        return reply["result"]

    def _read_line(self, timeout: float, command: str) -> bytes:
        process = self._process
        assert process is not None and process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"the oscar shop driver did not answer {command!r} within {timeout:.0f} s")
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    self._fail(f"the oscar shop driver exited during {command!r}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _fail(self, message: str) -> NoReturn:
        """Kills the driver (its state is unknown now) and raises, with the end of its log."""
        self._stop(kill=True)
        raise OscarShopError(f"{message}; end of {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-size:].decode(errors="replace")
        except OSError:
            return "(no log)"

    def close(self) -> None:
        """Sends quit and waits for the driver to exit; kills it if it will not. Idempotent."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(OscarShopError):  # then _fail has killed it
                self.call("quit", timeout=CLOSE_TIMEOUT)
        self._stop(kill=False)

    def _stop(self, kill: bool) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()  # EOF: the driver exits on its own
            if kill and process.poll() is None:
                process.kill()
            try:
                process.wait(timeout=CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()
            self._log.close()
