import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.db.backends.utils import CursorWrapper
from psycopg2 import sql

from dashboard.dbrouter import OLAP
from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.orders.schema import ROLLUPS


class Command(BaseCommand):
    help = (
        "Create (or update) two users of the OLAP database: a reader that can only SELECT, for "
        "the web app, and a writer that can also load orders, for gen_data. Passwords come from "
        "environment variables. Run it as the OLAP database's administrator, after setup_olap."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reader", default="dashboard_web", help="reader user (default: %(default)s)")
        parser.add_argument("--writer", default="dashboard_loader", help="writer user (default: %(default)s)")
        parser.add_argument("--reader-password-env", default="OLAP_READER_PASSWORD")
        parser.add_argument("--writer-password-env", default="OLAP_WRITER_PASSWORD")
        parser.add_argument("--database", default=OLAP)

    def handle(
        self,
        *args: Any,
        reader: str,
        writer: str,
        reader_password_env: str,
        writer_password_env: str,
        database: str,
        **options: Any,
    ) -> None:
        passwords: dict[str, str] = {}
        for user, variable in ((reader, reader_password_env), (writer, writer_password_env)):
            passwords[user] = os.environ.get(variable, "")
            if not passwords[user]:
                raise CommandError(f"Set the password for {user!r} in the environment variable {variable}.")
        connection = connections[database]
        try:
            engine = server_engine(connection)
            with connection.cursor() as cursor:
                for user, password in passwords.items():
                    self._ensure_user(cursor, user, password)
                for statement in self._grants(engine, reader, writer, connection.settings_dict["NAME"]):
                    cursor.execute(statement)
        except DatabaseError as error:
            raise CommandError(f"Could not set up OLAP users: {error}".strip()) from error
        loads = "reads (orders are captured)" if settings.ORDERS_SOURCE == "cdc" else "reads and loads orders"
        self.stdout.write(f"OLAP users ready ({engine}): {reader} reads; {writer} {loads}.")

    def _ensure_user(self, cursor: CursorWrapper, user: str, password: str) -> None:
        cursor.execute("SELECT 1 FROM pg_catalog.pg_user WHERE usename = %s", [user])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(sql.SQL(verb + " USER {} WITH PASSWORD %s").format(sql.Identifier(user)), [password])

    def _grants(self, engine: str, reader: str, writer: str, database: str) -> list[sql.Composed]:
        both = sql.SQL(", ").join([sql.Identifier(reader), sql.Identifier(writer)])
        statements = [
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), both),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(both),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(both),
        ]
        if engine == RISINGWAVE:
            # The rollups are materialized views there, not tables.
            statements.append(
                sql.SQL("GRANT SELECT ON ALL MATERIALIZED VIEWS IN SCHEMA public TO {}").format(both)
            )
        if settings.ORDERS_SOURCE == "cdc":
            # Orders are written into the shop's database and captured: nobody writes them here
            # (on RisingWave a table fed from a source takes no INSERT at all).
            return statements
        statements.append(
            sql.SQL("GRANT INSERT, DELETE ON TABLE orders TO {}").format(sql.Identifier(writer))
        )
        if engine != RISINGWAVE:
            # A bulk load adds the rollup deltas it summed itself (dashboard/orders/loader_rollups.py),
            # staged in temporary tables.
            rollups = sql.SQL(", ").join(sql.Identifier(rollup.name) for rollup in ROLLUPS)
            statements += [
                sql.SQL("GRANT INSERT, UPDATE ON TABLE {} TO {}").format(rollups, sql.Identifier(writer)),
                sql.SQL("GRANT TEMPORARY ON DATABASE {} TO {}").format(
                    sql.Identifier(database), sql.Identifier(writer)
                ),
            ]
        return statements
