"""The exact DDL each engine gets, checked in as SQL a reviewer can read: a change to the
schema shows up as a diff of tests/orders/golden/*.sql.

After an intended change, rewrite the files and review the diff:
    UPDATE_GOLDEN=1 scripts/test.sh tests/orders/test_ddl_golden.py
"""

import os
import re

import pytest
from django.core.management import call_command
from django.db import connections

from dashboard.orders.schema import (
    ROLLUPS,
    postgresql_statements,
    risingwave_capture_statements,
    risingwave_statements,
)
from tests.support import ROOT

GOLDEN = ROOT / "tests" / "orders" / "golden"
HEADER = (
    "-- The DDL `manage.py setup_olap` gives a new {engine} database, in order.\n"
    "-- Generated from dashboard/orders/schema.py; tests/orders/test_ddl_golden.py checks it.\n\n"
)


def as_sql_file(engine, statements):
    return (
        HEADER.format(engine=engine)
        + "".join(f"{statement};\n\n" for statement in statements).rstrip()
        + "\n"
    )


@pytest.mark.parametrize(
    ("engine", "statements", "name"),
    [
        ("PostgreSQL", postgresql_statements, "postgresql"),
        ("RisingWave", risingwave_statements, "risingwave"),
        # With ORDERS_SOURCE=cdc; the source's values are bound parameters, shown as %(name)s.
        ("RisingWave (ORDERS_SOURCE=cdc)", risingwave_capture_statements, "risingwave_capture"),
    ],
    ids=["postgresql", "risingwave", "risingwave_capture"],
)
def test_generated_ddl_equals_the_golden_file(engine, statements, name):
    path = GOLDEN / f"{name}.sql"
    generated = as_sql_file(engine, statements())
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(generated)
    assert generated == path.read_text(), f"{path} differs: run UPDATE_GOLDEN=1 and review the diff"


def statements_in(path):
    """The statements of a golden file, its header dropped."""
    text = path.read_text().split("\n\n", 1)[1]
    return [statement.strip().removesuffix(";") for statement in text.split(";\n\n") if statement.strip()]


# setup_olap also asks questions (which engine, which columns exist), locks the table and
# records where the capture's next fold starts; those are not DDL.
NOT_DDL = re.compile(r"(SELECT|LOCK|TRUNCATE|SET |SAVEPOINT|RELEASE|INSERT INTO cdc_progress)\b")


@pytest.mark.django_db(databases=["olap"])
def test_setup_olap_runs_exactly_the_golden_ddl_on_a_new_postgresql_database():
    olap = connections["olap"]
    with olap.cursor() as cursor:
        # Inside the test's transaction: rolled back afterwards.
        cursor.execute("DROP TABLE orders, " + ", ".join(rollup.name for rollup in ROLLUPS) + " CASCADE")
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql.strip().rstrip(";"))
        return execute(sql, params, many, context)

    with olap.execute_wrapper(record):
        call_command("setup_olap", verbosity=0)
    ddl = [statement for statement in sent if not NOT_DDL.match(statement)]
    assert ddl == statements_in(GOLDEN / "postgresql.sql")


@pytest.mark.parametrize("name", ["risingwave", "risingwave_capture"])
def test_the_risingwave_files_have_only_what_risingwave_accepts(name):
    statements = statements_in(GOLDEN / f"{name}.sql")
    text = "\n".join(statements)
    # RisingWave rejects NUMERIC(p, s), has no SERIAL, no triggers, and no UNIQUE indexes.
    assert not re.search(r"NUMERIC\s*\(|SERIAL|TRIGGER|FUNCTION|UNIQUE|COPY", text)
    views = [statement for statement in statements if statement.startswith("CREATE MATERIALIZED VIEW")]
    assert [view.split()[6] for view in views] == [rollup.name for rollup in ROLLUPS]
