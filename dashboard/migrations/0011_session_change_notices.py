"""Any change to a session row or a user row notifies the channel the web processes listen on,
so a session a connection kept is forgotten when it may have changed (dashboard.sessions.kept).

One statement trigger per table, after UPDATE, DELETE or TRUNCATE: a notice per statement,
not per row, and PostgreSQL sends the notices of one transaction once, at its commit. Both
tables are the dashboard's own, in DATABASE_URL's database (never a shop's)."""

from django.conf import settings
from django.db import migrations, router

# dashboard.sessions.kept.CHANNEL, as it was when this migration was written.
CHANNEL = "dashboard_sessions_changed"
FUNCTION = "dashboard_notify_sessions_changed"
TRIGGER = "dashboard_sessions_changed"


def _tables(apps, schema_editor):
    """The session and user tables, when this database holds them and is PostgreSQL."""
    sessions = apps.get_model("dashboard", "UserSession")
    users = apps.get_model(settings.AUTH_USER_MODEL)
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not router.allow_migrate_model(connection.alias, sessions):
        return []
    return [sessions._meta.db_table, users._meta.db_table]


def create_triggers(apps, schema_editor):
    tables = _tables(apps, schema_editor)
    if not tables:
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE FUNCTION {quote(FUNCTION)}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    for table in tables:
        schema_editor.execute(
            f"CREATE TRIGGER {quote(TRIGGER)} AFTER UPDATE OR DELETE OR TRUNCATE ON {quote(table)} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {quote(FUNCTION)}()"
        )


def drop_triggers(apps, schema_editor):
    tables = _tables(apps, schema_editor)
    if not tables:
        return
    quote = schema_editor.quote_name
    for table in tables:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {quote(TRIGGER)} ON {quote(table)}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {quote(FUNCTION)}()")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0010_user_sessions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
