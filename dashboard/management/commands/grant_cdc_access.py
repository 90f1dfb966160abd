import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from dashboard.dbrouter import DEFAULT
from dashboard.orders.capture import CAPTURED_TABLES


class Command(BaseCommand):
    help = (
        "Create (or update) the user change data capture connects to the shop's PostgreSQL as "
        "(ORDERS_SOURCE=cdc; the user of CDC_SOURCE_URL): LOGIN and REPLICATION, CONNECT on the "
        "database, USAGE on schema public and SELECT on the captured tables, nothing more. The "
        "password comes from an environment variable. Run it as a superuser of the shop's "
        "database (DATABASE_URL), after migrate and before setup_olap."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", default="dashboard_cdc", help="capture user (default: %(default)s)")
        parser.add_argument(
            "--password-env",
            default="CDC_PASSWORD",
            help="environment variable that holds its password (default: %(default)s)",
        )
        parser.add_argument("--database", default=DEFAULT, help="database alias (default: %(default)s)")

    def handle(self, *args: Any, user: str, password_env: str, database: str, **options: Any) -> None:
        password = os.environ.get(password_env, "")
        if not password:
            raise CommandError(f"Set the password for {user!r} in the environment variable {password_env}.")
        connection = connections[database]
        try:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                name = self._check(cursor, user)
                verb = self._ensure_user(connection, cursor, user, password)
                for statement in self._grants(user, name):
                    cursor.execute(statement)
        except DatabaseError as error:
            raise CommandError(f"Could not set up the capture user {user!r}: {error}".strip()) from error
        self.stdout.write(
            f"Capture user {user!r} {verb} in {name}: LOGIN REPLICATION, "
            f"SELECT on {', '.join(CAPTURED_TABLES)}."
        )

    def _check(self, cursor: CursorWrapper, user: str) -> str:
        """The database's name, once it is clear the grants can go through."""
        cursor.execute("SELECT current_database(), current_user")
        name, current = cursor.fetchone()
        if user == current:
            # Altering it would strip the rights this very command (and the app) runs with.
            raise CommandError(
                f"{user!r} is the user this command connects as: the capture needs a user of its own."
            )
        missing = []
        for table in CAPTURED_TABLES:
            cursor.execute("SELECT to_regclass(%s) IS NULL", [f"public.{table}"])
            if cursor.fetchone()[0]:
                missing.append(table)
        if missing:
            raise CommandError(
                f"The table(s) {', '.join(missing)} are missing from {name}: run `manage.py migrate` first."
            )
        return str(name)

    def _ensure_user(
        self, connection: BaseDatabaseWrapper, cursor: CursorWrapper, user: str, password: str
    ) -> str:
        cursor.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", [user])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        # Hashed here, in the server's password_encryption (scram-sha-256 by default), so the
        # password itself never reaches the server's logs or pg_stat_activity.
        hashed = encrypt_password(password, user, connection.connection)
        # Explicit NO...: an existing role is brought back to exactly these rights.
        cursor.execute(
            sql.SQL(
                verb + " ROLE {} WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
                "PASSWORD %s"
            ).format(sql.Identifier(user)),
            [hashed],
        )
        return "created" if verb == "CREATE" else "updated"

    def _grants(self, user: str, database: str) -> list[sql.Composed]:
        role = sql.Identifier(user)
        tables = sql.SQL(", ").join(sql.Identifier("public", table) for table in CAPTURED_TABLES)
        return [
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
            sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(tables, role),
        ]
