"""Both Dolt engines: the statements each is sent, and which one a connection gets.

The embedded engine runs in every other catalog test. A Dolt sql-server cannot run here (no
Docker engine, no registry ships Dolt), so its side is checked as generated SQL against the
forms in Dolt's documentation (CALL DOLT_CHECKOUT('b'), SELECT ... FROM t AS OF 'ref'), and
its driver and settings are loaded for real without a server.
"""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from dashboard.catalog import versions
from dashboard.catalog.dialects import Doltlite, DoltServer, dialect
from dashboard.catalog.models import Item

HOSTILE = "x'); DROP TABLE dashboard_item; --"
SYSTEM_TABLE_READ = re.compile(r'FROM "?dolt_(branches|status|log)\b')


def recorded(operation):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connections["catalog"].execute_wrapper(record):
        operation()
    return statements


def test_the_embedded_catalog_speaks_doltlite_and_postgresql_is_refused():
    assert isinstance(dialect("catalog"), Doltlite)
    with pytest.raises(ImproperlyConfigured, match="'default' database is postgresql, which has no Dolt"):
        dialect("default")


@pytest.mark.parametrize(
    ("procedure", "arguments", "doltlite", "server"),
    [
        ("dolt_checkout", ["fix/o.k-1"], "SELECT dolt_checkout(%s)", "CALL DOLT_CHECKOUT(%s)"),
        ("dolt_branch", ["new", "main"], "SELECT dolt_branch(%s, %s)", "CALL DOLT_BRANCH(%s, %s)"),
        ("dolt_branch", ["-D", "old"], "SELECT dolt_branch(%s, %s)", "CALL DOLT_BRANCH(%s, %s)"),
        (
            "dolt_commit",
            ["-Am", "ann: renamed item 1", "--author", "ann <ann@example.com>"],
            "SELECT dolt_commit(%s, %s, %s, %s)",
            "CALL DOLT_COMMIT(%s, %s, %s, %s)",
        ),
        (
            "dolt_merge",
            ["feature", "--author", "a <a@b>"],
            "SELECT dolt_merge(%s, %s, %s)",
            "CALL DOLT_MERGE(%s, %s, %s)",
        ),
        ("dolt_reset", ["--hard"], "SELECT dolt_reset(%s)", "CALL DOLT_RESET(%s)"),
    ],
)
def test_each_operation_is_a_function_embedded_and_a_stored_procedure_on_the_server(
    procedure, arguments, doltlite, server
):
    assert Doltlite().call(procedure, *arguments) == (doltlite, arguments)
    assert DoltServer().call(procedure, *arguments) == (server, arguments)


@pytest.mark.parametrize("engine", [Doltlite(), DoltServer()])
def test_arguments_are_bound_and_only_known_operations_are_called(engine):
    sql, params = engine.call("dolt_checkout", HOSTILE)
    assert HOSTILE not in sql and params == [HOSTILE]
    with pytest.raises(ValueError, match="not a version-control operation"):
        engine.call("dolt_gc")


def test_a_table_s_past_is_a_table_function_embedded_and_as_of_on_the_server():
    assert Doltlite().table_at("dashboard_item") == "SELECT * FROM dolt_at_dashboard_item(%s)"
    assert DoltServer().table_at("dashboard_item") == "SELECT * FROM `dashboard_item` AS OF %s"


@pytest.mark.parametrize(
    ("row", "conflicted"),
    [
        # DOLT_MERGE's result: hash, fast_forward, conflicts, message.
        (("p0h8...", 0, 1, "conflicts found"), True),
        (("p0h8...", 1, 0, "merge successful"), False),
        (("p0h8...", 0, 0, "merge successful"), False),
    ],
)
def test_a_server_merge_reports_conflicts_in_its_result_row(row, conflicted):
    assert DoltServer().merge_conflicted(row) is conflicted
    # doltlite answers a bare hash and refuses a conflicted merge with an error instead.
    assert Doltlite().merge_conflicted((row[0],)) is False


@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_every_version_control_statement_goes_through_the_engine_s_dialect(catalog):
    def work():
        versions.create_branch("review")
        versions.checkout("review")
        Item.objects.using("catalog").filter(itemid=1).update(name="Renamed")
        versions.commit("ann: renamed item 1", "ann <ann@example.com>")
        versions.checkout(versions.MAIN)
        versions.merge("review", "ann <ann@example.com>")
        versions.rows_at(Item, "review")
        Item.objects.using("catalog").filter(itemid=2).update(name="Scratch")
        versions.discard_changes()
        versions.delete_branch("review")

    statements = recorded(work)
    # Everything that touched version control, less reads of its system tables.
    calls = [sql for sql, _ in statements if "dolt_" in sql and not SYSTEM_TABLE_READ.search(sql)]
    assert calls == [
        "SELECT dolt_branch(%s, %s)",
        "SELECT dolt_checkout(%s)",
        "SELECT dolt_commit(%s, %s, %s, %s)",
        "SELECT dolt_checkout(%s)",
        "SELECT dolt_merge(%s, %s, %s)",
        "SELECT * FROM dolt_at_dashboard_item(%s)",
        "SELECT dolt_reset(%s)",
        "SELECT dolt_branch(%s, %s)",
    ]
    assert Item.objects.using("catalog").get(itemid=1).name == "Renamed"
    assert Item.objects.using("catalog").get(itemid=2).name != "Scratch"
