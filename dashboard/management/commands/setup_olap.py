from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from dashboard.dbrouter import OLAP
from dashboard.olap.engine import server_engine
from dashboard.olap.schema import schema_statements


class Command(BaseCommand):
    help = (
        "Create what the dashboard reads in the OLAP database (RisingWave, or PostgreSQL "
        "standing in for it). Safe to run again: existing objects are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=OLAP, help="Database alias (default: %(default)s).")

    def handle(self, *args, database, **options):
        connection = connections[database]
        try:
            engine = server_engine(connection)
            with connection.cursor() as cursor:
                for statement in schema_statements(engine):
                    cursor.execute(statement)
        except DatabaseError as error:
            raise CommandError(
                f"Could not prepare the OLAP database {database!r}: {error}".strip()
            ) from error
        self.stdout.write(f"OLAP database {database!r} ({engine}) is ready.")
