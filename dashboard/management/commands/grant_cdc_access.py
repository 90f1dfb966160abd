import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from dashboard.dbrouter import OLAP, shop_alias
from dashboard.orders.capture import (
    HEARTBEAT_DDL,
    SAMPLE_CAPTURE,
    Captured,
    captured,
    publication_statement,
    published,
)
from dashboard.orders.engine import RISINGWAVE, server_engine
from dashboard.shop.configured import shop_schema


class Command(BaseCommand):
    help = (
        "Create (or update) the user change data capture connects to the shop's PostgreSQL as "
        "(ORDERS_SOURCE=cdc; the user of CDC_SOURCE_URL): LOGIN and REPLICATION, CONNECT on the "
        "database, USAGE on the captured tables' schemas and SELECT on them, nothing more. With a "
        "mapped SHOP_SCHEMA (oscar, a mapping file) also the dashboard's own corner of the shop's "
        "database, the schema dashboard_capture with its heartbeat (the user may stamp it), and "
        "the publication of the shop's tables, which needs their owner. The password comes from an "
        "environment variable. Run it as the shop's tables' owner or a superuser "
        "(SHOP_DATABASE_URL, else DATABASE_URL), before setup_olap; --print shows the SQL instead, "
        "for the shop's owner to review and run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", default="dashboard_cdc", help="capture user (default: %(default)s)")
        parser.add_argument(
            "--password-env",
            default="CDC_PASSWORD",
            help="environment variable that holds its password (default: %(default)s)",
        )
        parser.add_argument(
            "--database", default=None, help="database alias (default: the shop's, SHOP_DATABASE_URL's)"
        )
        parser.add_argument(
            "--print",
            action="store_true",
            dest="print_only",
            help="print the SQL for the shop's owner instead of running it (the password hashed)",
        )

    def handle(
        self, *args: Any, user: str, password_env: str, database: str | None, print_only: bool, **options: Any
    ) -> None:
        password = os.environ.get(password_env, "")
        if not password:
            raise CommandError(f"Set the password for {user!r} in the environment variable {password_env}.")
        database = database or shop_alias()
        connection = connections[database]
        schema = shop_schema()
        # The stand-in's subscription copies only the columns the mapping reads (a column
        # list); RisingWave's connector reads whole rows.
        wanted = captured(schema, column_lists=server_engine(connections[OLAP]) != RISINGWAVE)
        try:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                name = self._check(cursor, user, wanted)
                verb, role = self._role(connection, cursor, user, password)
                statements: list[sql.Composable] = [role, *self._grants(user, name, wanted)]
                if schema is not None:
                    statements += self._heartbeat(user)
                    if published(connection) is None:
                        statements.append(publication_statement(wanted))
                if print_only:
                    self.stdout.write(f"-- Run as the owner of the shop's tables in {name}:")
                    for statement in statements:
                        self.stdout.write(statement.as_string(cursor.cursor) + ";")
                    transaction.set_rollback(True, using=database)
                    return
                for statement in statements:
                    cursor.execute(statement)
        except DatabaseError as error:
            raise CommandError(f"Could not set up the capture user {user!r}: {error}".strip()) from error
        tables = ", ".join(f"{table_schema}.{table}" for table_schema, table, _ in wanted.tables)
        self.stdout.write(f"Capture user {user!r} {verb} in {name}: LOGIN REPLICATION, SELECT on {tables}.")

    def _check(self, cursor: CursorWrapper, user: str, wanted: Captured) -> str:
        """The database's name, once it is clear the grants can go through."""
        cursor.execute("SELECT current_database(), current_user")
        name, current = cursor.fetchone()
        if user == current:
            # Altering it would strip the rights this very command (and the app) runs with.
            raise CommandError(
                f"{user!r} is the user this command connects as: the capture needs a user of its own."
            )
        heartbeat = wanted.heartbeat_name
        missing = []
        for table_schema, table, _ in wanted.tables:
            if f"{table_schema}.{table}" == heartbeat and wanted is not SAMPLE_CAPTURE:
                continue  # the dashboard's own: created below
            cursor.execute(
                "SELECT to_regclass(%s) IS NULL",
                [sql.Identifier(table_schema, table).as_string(cursor.cursor)],
            )
            if cursor.fetchone()[0]:
                missing.append(f"{table_schema}.{table}")
        if missing:
            hint = (
                "run `manage.py migrate` first"
                if wanted is SAMPLE_CAPTURE
                else f"is SHOP_SCHEMA={settings.SHOP_SCHEMA} this shop's schema?"
            )
            raise CommandError(f"The table(s) {', '.join(missing)} are missing from {name}: {hint}")
        return str(name)

    def _role(
        self, connection: BaseDatabaseWrapper, cursor: CursorWrapper, user: str, password: str
    ) -> tuple[str, sql.Composed]:
        cursor.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", [user])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        # Hashed here, in the server's password_encryption (scram-sha-256 by default), so the
        # password itself never reaches the server's logs, pg_stat_activity or a printout.
        hashed = encrypt_password(password, user, connection.connection)
        # Explicit NO...: an existing role is brought back to exactly these rights.
        statement = sql.SQL(
            verb
            + " ROLE {} WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD {}"
        ).format(sql.Identifier(user), sql.Literal(hashed))
        return ("created" if verb == "CREATE" else "updated"), statement

    def _grants(self, user: str, database: str, wanted: Captured) -> list[sql.Composed]:
        role = sql.Identifier(user)
        shop_tables = [
            (table_schema, table)
            for table_schema, table, _ in wanted.tables
            if wanted is SAMPLE_CAPTURE or f"{table_schema}.{table}" != wanted.heartbeat_name
        ]
        schemas = sql.SQL(", ").join(
            sql.Identifier(name) for name in dict.fromkeys(s for s, _ in shop_tables)
        )
        tables = sql.SQL(", ").join(sql.Identifier(*table) for table in shop_tables)
        return [
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schemas, role),
            sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(tables, role),
        ]

    def _heartbeat(self, user: str) -> list[sql.Composable]:
        """A mapped shop: the dashboard's own schema and heartbeat, which the user stamps."""
        role = sql.Identifier(user)
        return [
            *(sql.SQL(statement) for statement in HEARTBEAT_DDL),
            sql.SQL("GRANT USAGE ON SCHEMA dashboard_capture TO {}").format(role),
            sql.SQL("GRANT SELECT, INSERT, UPDATE ON TABLE dashboard_capture.cdc_heartbeat TO {}").format(
                role
            ),
        ]
