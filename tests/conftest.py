import os
import time

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connections
from django.db.backends.base.creation import TEST_DATABASE_PREFIX

from dashboard.catalog import versions
from dashboard.catalog.models import Item
from dashboard.dbrouter import OLAP
from dashboard.orders import mirror
from tests.support.http import free_port
from tests.support.oscar_shop import MIGRATED_TEMPLATE, TemplateMigration, drop_shop_database

BOTH_DATABASES = ["default", OLAP]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Nothing is migrated onto the OLAP side: its schema comes from setup_olap, as in
    # production.
    if not connections[OLAP].settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
        yield
        return  # no test of this run uses the OLAP database, so no test database was made
    with django_db_blocker.unblock():
        call_command("setup_olap", verbosity=0)
    yield
    # The rollups' mirror keeps two connections to the test database, which could not be
    # dropped with them open.
    mirror.stop()


@pytest.fixture(autouse=True)
def fresh_mirror():
    """Each test that starts the rollups' mirror (dashboard/orders/mirror.py: any committed
    request for figures without a state) leaves none behind: the next starts anew, so what
    one test's data made of it (a refusal, say) does not carry over."""
    yield
    if mirror.started():
        mirror.stop()


@pytest.fixture
def olap_cursor():
    with connections[OLAP].cursor() as cursor:
        yield cursor


@pytest.fixture
def empty_orders(django_db_blocker):
    """For tests whose writes are committed: the orders table is emptied afterwards.

    Django's flush leaves it alone because the model is unmanaged.
    """
    yield
    with django_db_blocker.unblock(), connections[OLAP].cursor() as cursor:
        cursor.execute("TRUNCATE orders")


@pytest.fixture
def user_client(client):
    """A test client logged in as an ordinary (non-staff) user."""
    client.force_login(User.objects.create_user("analyst"))
    return client


@pytest.fixture
def olap_unreachable():
    """Point the OLAP alias at a port nothing listens on: a real refused connection."""
    olap = connections["olap"]
    closed_port = free_port()  # nothing listens there
    original = olap.settings_dict["PORT"]
    olap.close()
    olap.settings_dict["PORT"] = closed_port
    yield
    olap.close()
    olap.settings_dict["PORT"] = original


TESTS = "Tests <tests@localhost>"


@pytest.fixture
def catalog():
    """Two items committed on main; afterwards the repository is put back as it was."""
    versions.commit("before the test", TESTS)
    with connections["catalog"].cursor() as cursor:
        cursor.execute("SELECT commit_hash FROM dolt_log LIMIT 1")
        (start,) = cursor.fetchone()
    Item.objects.bulk_create(
        [
            Item(itemid=1, name="Teal Oak Mug", category="Kitchen"),
            Item(itemid=2, name="Jute Rug", category="Home"),
        ]
    )
    versions.commit("two items", TESTS)
    yield
    versions.checkout(versions.MAIN)
    for name in versions.branch_names():
        if name != versions.MAIN:
            versions.delete_branch(name)
    with connections["catalog"].cursor() as cursor:
        cursor.execute("SELECT dolt_reset('--hard', %s)", [start])


# The oscar template's migration, begun in the background after collection when a test of
# the run needs it (see TemplateMigration); None otherwise.
oscar_template_migration = None


def pytest_collection_finish(session):
    global oscar_template_migration
    if session.config.option.collectonly:
        return
    if any("migrated_oscar" in item.fixturenames for item in session.items):
        # What the tmp_path_factory fixture returns; fixtures cannot be requested here.
        log_dir = session.config._tmp_path_factory.mktemp("oscar_template")
        oscar_template_migration = TemplateMigration(log_dir / "driver.log")


@pytest.fixture(scope="session")
def migrated_oscar():
    """A django-oscar database migrated once per run (tests/oscar_shop): the template each
    oscar test shop is copied from. Its name; dropped at the end of the run."""
    global oscar_template_migration
    migration, oscar_template_migration = oscar_template_migration, None
    assert migration, "pytest_collection_finish starts the migration for every run that needs it"
    try:
        yield migration.result()
    finally:
        drop_shop_database(MIGRATED_TEMPLATE)


def _descendants(pid):
    """[(pid, command line)] of the live processes below `pid`, read from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            state, parent = fields[0], int(fields[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue  # gone meanwhile
        if state != "Z":
            children.setdefault(parent, []).append((int(entry), command))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def pytest_sessionfinish(session, exitstatus):
    """No test may leave a process behind (a loader, a worker, a server): the run fails if
    one is still there a few seconds after the last test."""
    if oscar_template_migration:  # begun, but no test got to use it (an interrupted run)
        oscar_template_migration.cancel()
        drop_shop_database(MIGRATED_TEMPLATE)
    deadline = time.monotonic() + 5
    while (leftovers := _descendants(os.getpid())) and time.monotonic() < deadline:
        time.sleep(0.2)
    if leftovers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(f"  {pid}: {command}" for pid, command in leftovers)
        if reporter:
            reporter.write_line(f"Processes left behind by the tests:\n{lines}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
