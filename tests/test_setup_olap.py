import re

import pytest
from django.core.management import call_command
from django.db import connections

from dashboard.olap.engine import POSTGRESQL, RISINGWAVE
from dashboard.olap.schema import schema_statements

pytestmark = pytest.mark.django_db(databases=["default", "olap"])


def orders_columns():
    with connections["olap"].cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'orders' ORDER BY ordinal_position"
        )
        return cursor.fetchall()


def test_running_twice_keeps_the_table_and_its_rows(capsys):
    with connections["olap"].cursor() as cursor:
        cursor.execute("INSERT INTO orders VALUES (1, 1, 1, 1.50, '2026-01-01', 'CA')")
    call_command("setup_olap")
    call_command("setup_olap")
    assert capsys.readouterr().out.count("OLAP database 'olap' (postgresql) is ready.") == 2
    with connections["olap"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders")
        assert cursor.fetchone() == (1,)


def test_orders_table_has_the_original_columns():
    assert orders_columns() == [
        ("orderid", "bigint"),
        ("itemid", "integer"),
        ("qty", "integer"),
        ("price", "numeric"),
        ("dt", "date"),
        ("state", "character varying"),
    ]


@pytest.mark.parametrize("engine", [RISINGWAVE, POSTGRESQL])
def test_ddl_avoids_what_risingwave_rejects(engine):
    ddl = " ".join(schema_statements(engine)).upper()
    assert not re.search(r"NUMERIC\s*\(", ddl)
    assert not re.search(r"VARCHAR\s*\(", ddl)
    for unsupported in ("SERIAL", "IDENTITY", "UNIQUE", "FOREIGN KEY", "REFERENCES", "CHECK"):
        assert unsupported not in ddl
    assert "PRIMARY KEY (ORDERID, ITEMID)" in ddl
    assert all("IF NOT EXISTS" in statement.upper() for statement in schema_statements(engine))
