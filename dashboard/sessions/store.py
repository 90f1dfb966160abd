"""The session engine (SESSION_ENGINE = "dashboard.sessions.store"): Django's database
sessions, in UserSession rows that name their user, each read with that user's row.

The read is one statement written out (the session LEFT JOIN its user, bound parameters) and
rendered once per process (dashboard.statements): the ORM's select_related() builds the same
statement, but compiling it took about 1.2 ms of every request on the benchmark's machine,
the statement itself 0.3 ms. A connection keeps the rows it read until the database says a
session or a user changed (dashboard.sessions.kept). Everything else (saving, cycling keys,
expiry, clearsessions) is Django's database engine as it is.
"""

from functools import cache
from typing import Any, cast

from django.apps import apps
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import connections, router
from django.utils import timezone
from psycopg2 import sql

from dashboard.sessions.kept import kept_rows, live
from dashboard.statements import rendered


class SessionStore(DatabaseSessionStore):
    # The session's user as the statement that read the session read it (None: nobody's,
    # or not read yet). dashboard.sessions.auth takes it from here.
    user_as_read: AbstractBaseUser | None = None

    @classmethod
    def get_model_class(cls) -> type[AbstractBaseSession]:
        # Looked up rather than imported: the model names this class as its store.
        return cast(type[AbstractBaseSession], apps.get_model("dashboard", "UserSession"))

    def _get_session_from_db(self) -> AbstractBaseSession | None:
        """The live session of this key, as Django's engine reads it, with its user's row
        kept in user_as_read; None (and no key) when there is none."""
        using = router.db_for_read(self.model)
        key = cast(str, self.session_key)  # Django's load() asks only with one
        now = timezone.now()
        with connections[using].cursor() as cursor:
            # Read once per connection while no session or user changes (dashboard.sessions.kept).
            kept = kept_rows(connections[using])
            row = kept.get(key) if kept is not None else None
            if row is None or not live(row, now):
                text = rendered("session and its user", _read_statement, cursor.cursor)
                cursor.execute(text, [key, now])
                row = cursor.fetchone()
                if kept is not None:
                    if row is None:
                        kept.pop(key, None)  # expired since it was kept
                    else:
                        kept[key] = row
        if row is None:
            self._session_key = None
            return None
        session_data, expire_date, user_id, *user_row = row
        users = get_user_model()
        fields = _user_fields()
        # No user row (a visitor's session, or its user gone): the joined columns are NULLs.
        joined = user_row[fields.index(users._meta.pk.attname)] is not None
        self.user_as_read = users.from_db(using, fields, user_row) if joined else None
        model: Any = self.model
        return cast(
            AbstractBaseSession,
            model(
                session_key=self.session_key,
                session_data=session_data,
                expire_date=expire_date,
                user_id=user_id,
            ),
        )

    def create_model_instance(self, data: dict[str, Any]) -> AbstractBaseSession:
        session: Any = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        session.user_id = None if user_id is None else get_user_model()._meta.pk.to_python(user_id)
        return cast(AbstractBaseSession, session)


@cache
def _user_fields() -> list[str]:
    """The user model's concrete fields, in the order the statement reads their columns."""
    return [field.attname for field in get_user_model()._meta.concrete_fields]


def _read_statement() -> sql.Composed:
    """SELECT the session's data, expiry and user id, then every column of its user (NULLs
    without one), FROM the session LEFT JOIN its user, for a key and the time now."""
    sessions = SessionStore.get_model_class()._meta
    users = get_user_model()._meta
    session_columns = {field.name: cast(str, field.column) for field in sessions.concrete_fields}

    def session_column(name: str) -> sql.Composable:
        return sql.Identifier("s", session_columns[name])

    user_columns = [sql.Identifier("u", cast(str, field.column)) for field in users.concrete_fields]
    return sql.SQL(
        "SELECT {data}, {expiry}, {user_id}, {user_columns} FROM {sessions} s "
        "LEFT JOIN {users} u ON {user_pk} = {user_id} WHERE {key} = %s AND {expiry} > %s"
    ).format(
        data=session_column("session_data"),
        expiry=session_column("expire_date"),
        user_id=session_column("user"),
        user_columns=sql.SQL(", ").join(user_columns),
        sessions=sql.Identifier(sessions.db_table),
        users=sql.Identifier(users.db_table),
        user_pk=sql.Identifier("u", cast(str, users.pk.column)),
        key=session_column("session_key"),
    )
