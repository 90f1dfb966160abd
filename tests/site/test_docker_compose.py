"""docker-compose.yaml, read as Compose reads it (no Docker engine runs here): the services
agree with each other, every secret it needs is in .env.example, the settings it gives the
app load, the stack starts in an order that cannot race (health checks that prove SQL works,
a bounded wait before olap-setup), and every image is a pinned release someone checked. The
health check RisingWave runs and the entrypoint's wait are run here too, against the test
clusters' PostgreSQL (RisingWave speaks its protocol)."""

import itertools
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import uuid
from contextlib import closing, contextmanager
from urllib.parse import urlsplit

import psycopg2
import pytest
import yaml
from django.conf import settings as django_settings
from psycopg2 import sql

from tests.support.settings_process import ROOT, boot, production_env

# Compose's interpolation: $$ is a literal $, ${NAME}, ${NAME:-default}, ${NAME:?error}.
VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?::(?P<kind>[-?])(?P<rest>[^}]*))?\}")


def env_example():
    names = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            names.append(line.split("=", 1)[0])
    return names


def interpolate(text, values):
    def substitute(match):
        if match.group(0) == "$$":
            return "$"
        name, kind, rest = match.group("name", "kind", "rest")
        if name in values:
            return values[name]
        if kind == "?":
            raise AssertionError(f"{name} must be set: {rest}")
        return rest if kind == "-" else ""

    return VARIABLE.sub(substitute, text)


def secret(name):
    # Long and varied enough to pass the settings' own checks (SECRET_KEY).
    return f"{name.lower()}-{'Zx9q' * 13}"


@pytest.fixture(scope="module")
def compose():
    values = {name: secret(name) for name in env_example()}
    return yaml.safe_load(interpolate((ROOT / "docker-compose.yaml").read_text(), values))


def test_every_required_variable_is_documented_in_the_env_example():
    text = (ROOT / "docker-compose.yaml").read_text()
    required = {match.group("name") for match in VARIABLE.finditer(text) if match.group("kind") == "?"}
    assert required and required <= set(env_example())


def test_every_variable_without_a_default_is_in_the_env_example():
    text = (ROOT / "docker-compose.yaml").read_text()
    used = {match.group("name") for match in VARIABLE.finditer(text) if match.group("kind") != "-"}
    assert {name for name in used if name} <= set(env_example())


def images_with_their_comments():
    """(image, the comment lines right above it) for every image of docker-compose.yaml and
    every FROM of the Dockerfile."""
    found = []
    for path, pattern in (("docker-compose.yaml", r"\s+image:\s*(\S+)"), ("Dockerfile", r"FROM\s+(\S+)")):
        lines = (ROOT / path).read_text().splitlines()
        for index, line in enumerate(lines):
            match = re.fullmatch(pattern + r".*", line)
            if match:
                above = itertools.takewhile(lambda text: text.lstrip().startswith("#"), lines[:index][::-1])
                found.append((match.group(1), " ".join(text.strip(" #") for text in reversed(list(above)))))
    return found


def test_every_image_is_a_pinned_release_checked_at_its_source(compose):
    images = images_with_their_comments()
    assert {service["image"] for service in compose["services"].values() if "image" in service} <= {
        image for image, _ in images
    }
    assert any(image.startswith("python:") for image, _ in images)  # the Dockerfile's too
    for image, comment in images:
        repository, _, tag = image.rpartition(":")
        version = re.fullmatch(r"v?(\d+(?:\.\d+)+)(?:-[a-z][\w.-]*)?", tag)
        assert repository and version, image  # never "latest", never a bare "22" or "bookworm"
        # major.minor.patch; PostgreSQL alone numbers its releases major.minor (15.18 is one).
        assert version.group(1).count(".") == (1 if repository == "postgres" else 2), image
        # Where the release was checked, naming the version checked (so a bump updates it).
        assert re.search(r"Tag checked: .*[\w.-]+/[\w.-]+", comment), image
        assert version.group(1) in comment, image


def test_the_app_reaches_the_catalog_on_the_dolt_server_as_its_own_user(compose):
    services = compose["services"]
    dolt = services["dolt"]["environment"]
    for name in ("web", "loader"):
        service = services[name]
        url = service["environment"]["CATALOG_DATABASE_URL"]
        assert url == (
            f"mysql://{dolt['DOLT_USER']}:{dolt['DOLT_PASSWORD']}@dolt:3306/{dolt['DOLT_DATABASE']}"
        )
        assert service["depends_on"]["dolt"] == {"condition": "service_healthy"}
    assert dolt["DOLT_PASSWORD"] == secret("DOLT_PASSWORD") != dolt["DOLT_ROOT_PASSWORD"]
    assert dolt["DOLT_USER"] != "root"
    # The data outlives the container, and readiness waits for the app's user.
    assert "dolt-data:/var/lib/dolt" in services["dolt"]["volumes"] and "dolt-data" in compose["volumes"]
    assert "--use-db" in services["dolt"]["healthcheck"]["test"][1]


def test_the_web_service_s_environment_loads_the_settings_on_the_dolt_server(compose):
    environment = {name: str(value) for name, value in compose["services"]["web"]["environment"].items()}
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "from dashboard.catalog.dialects import dialect; "
        "print(settings.DATABASES['catalog']['ENGINE'], dialect('catalog').name, sep='|')"
    )
    result = boot(script, **environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.mysql|Dolt sql-server"


APP_SERVICES = ("web", "olap-setup", "loader", "cdc-worker")


def settings_of(command):
    """The -c settings of a server command line, as a dict."""
    return dict(value.split("=", 1) for flag, value in itertools.pairwise(command) if flag == "-c")


def manage_commands(command):
    """The manage.py commands a service's command runs, in order (a list, or sh -c "a && b")."""
    if command[:2] == ["sh", "-c"]:
        steps = [shlex.split(step) for step in command[2].split("&&")]
    else:
        steps = [command]
    return [step[2] for step in steps if step[:2] == ["python", "manage.py"]]


def test_postgres_runs_with_logical_decoding_and_a_cap_on_what_slots_keep(compose):
    postgres = compose["services"]["postgres"]
    command = postgres["command"]
    assert command[0] == "postgres"
    settings = settings_of(command)
    assert settings["wal_level"] == "logical"
    assert re.fullmatch(r"\d+[kMGT]B", settings["max_slot_wal_keep_size"])  # never -1, unlimited
    assert int(settings["max_replication_slots"]) >= 1 and int(settings["max_wal_senders"]) >= 1
    # Over TCP: the image's first-start setup runs a temporary server on the Unix socket only.
    assert shlex.split(postgres["healthcheck"]["test"][1])[:3] == ["pg_isready", "-h", "127.0.0.1"]


def test_the_app_takes_its_orders_by_change_data_capture_as_the_capture_s_user(compose):
    services = compose["services"]
    postgres = services["postgres"]["environment"]
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["ORDERS_SOURCE"] == "cdc", name
        source = urlsplit(environment["CDC_SOURCE_URL"])
        assert source.scheme == "postgres", name
        assert (source.username, source.password) == ("dashboard_cdc", secret("CDC_PASSWORD")), name
        # The same server and database the app itself uses, as RisingWave reaches it.
        app = urlsplit(environment["DATABASE_URL"])
        assert (source.hostname, source.port, source.path) == (app.hostname, app.port, app.path), name
        assert (source.hostname, source.path) == ("postgres", "/" + postgres["POSTGRES_DB"]), name
        # The app itself connects as PostgreSQL's owner, never as the capture's user.
        assert app.username == postgres["POSTGRES_USER"] != "dashboard_cdc", name
    assert services["olap-setup"]["environment"]["CDC_PASSWORD"] == secret("CDC_PASSWORD")


def test_olap_setup_migrates_and_creates_the_capture_s_user_before_the_capture(compose):
    setup = compose["services"]["olap-setup"]
    assert manage_commands(setup["command"]) == [
        "migrate",
        "grant_cdc_access",
        "setup_olap",
        "grant_olap_access",
    ]
    # The entrypoint's own steps would run setup_olap before the capture's user exists.
    assert setup["environment"]["SETUP_OLAP"] == "0"
    assert setup["environment"]["PREPARE_DATABASES"] == "0"
    for dependency in ("postgres", "risingwave"):
        assert setup["depends_on"][dependency] == {"condition": "service_healthy"}
    # Everything else that touches PostgreSQL or RisingWave waits for it: no two migrates at once.
    for name in ("web", "loader", "cdc-worker"):
        assert compose["services"][name]["depends_on"]["olap-setup"] == {
            "condition": "service_completed_successfully"
        }, name


def test_the_cdc_worker_runs_beside_the_site(compose):
    worker = compose["services"]["cdc-worker"]
    assert manage_commands(worker["command"]) == ["cdc_worker"]
    assert worker["restart"] == "unless-stopped"
    assert worker["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "profiles" not in worker  # starts with `docker compose up`
    olap = urlsplit(worker["environment"]["OLAP_DATABASE_URL"])
    assert (olap.username, olap.hostname) == ("dashboard_web", "risingwave")


def test_the_loader_writes_into_the_shop_s_database_and_reads_the_olap_side(compose):
    loader = compose["services"]["loader"]["environment"]
    postgres = compose["services"]["postgres"]["environment"]
    assert urlsplit(loader["DATABASE_URL"]).username == postgres["POSTGRES_USER"]
    assert urlsplit(loader["OLAP_DATABASE_URL"]).hostname == "risingwave"
    assert loader["CATALOG_DATABASE_URL"].startswith("mysql://")


def test_olap_setup_waits_for_both_databases_with_a_bound_and_is_never_restarted(compose):
    setup = compose["services"]["olap-setup"]
    environment = setup["environment"]
    # The entrypoint's wait (before the command): PostgreSQL, then RisingWave, as it connects.
    assert environment["WAIT_FOR_SQL"].split() == ["default", "olap"]
    attempts, seconds = int(environment["WAIT_ATTEMPTS"]), float(environment["WAIT_SECONDS"])
    assert attempts >= 10 and seconds > 0 and 30 <= attempts * seconds <= 600
    assert setup["restart"] == "no"
    # No other service waits: web serves logins with the OLAP side down.
    for name, service in compose["services"].items():
        if name != "olap-setup":
            assert "WAIT_FOR_SQL" not in service.get("environment", {}), name


def test_the_web_waits_for_exactly_what_it_needs(compose):
    assert compose["services"]["web"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "dolt": {"condition": "service_healthy"},
        "olap-setup": {"condition": "service_completed_successfully"},
    }


def test_risingwave_s_memory_is_the_option_single_node_reads(compose):
    risingwave = compose["services"]["risingwave"]
    # single_node takes --total-memory-bytes from its command line only (clap `long`, no
    # `env`); RW_TOTAL_MEMORY_BYTES in its environment would be ignored.
    assert risingwave["command"] == ["single_node", "--total-memory-bytes", "8589934592"]
    assert "RW_TOTAL_MEMORY_BYTES" not in risingwave.get("environment", {})
    # .env still sets it, by Compose's interpolation into that option.
    values = {name: secret(name) for name in env_example()} | {"RW_TOTAL_MEMORY_BYTES": "4294967296"}
    text = interpolate((ROOT / "docker-compose.yaml").read_text(), values)
    assert yaml.safe_load(text)["services"]["risingwave"]["command"][2] == "4294967296"
    # Within the container's limit, or its compute node refuses to start.
    limit = re.fullmatch(r"(\d+)g", risingwave["mem_limit"])
    assert limit and int(limit.group(1)) * 2**30 > 8589934592


# RisingWave's health check, as the compose file has it, logs in here and asks this.
SERVER_LINE = 'SERVER = ("127.0.0.1", 4566)'
LOGIN_LINE = r'LOGIN = b"user\0root\0database\0dev\0\0"'


def risingwave_probe(compose):
    test = compose["services"]["risingwave"]["healthcheck"]["test"]
    # The image ships python3.12 (docker/Dockerfile's base stage) and no psql.
    assert test[:3] == ["CMD", "python3.12", "-c"] and len(test) == 4
    script = test[3]
    assert script.count(SERVER_LINE) == 1 and script.count(LOGIN_LINE) == 1
    return script


def test_risingwave_s_health_check_runs_sql_as_olap_setup_logs_in(compose):
    script = risingwave_probe(compose)
    assert "/dev/tcp" not in script and "rw_catalog.rw_worker_nodes" in script
    assert "'WORKER_TYPE_COMPUTE_NODE'" in script and "'RUNNING'" in script
    setup = urlsplit(compose["services"]["olap-setup"]["environment"]["OLAP_DATABASE_URL"])
    assert (setup.username, setup.password, setup.port, setup.path) == ("root", None, 4566, "/dev")
    assert compose["services"]["olap-setup"]["depends_on"]["risingwave"] == {"condition": "service_healthy"}


def olap_server():
    db = django_settings.DATABASES["olap"]
    return db["HOST"], int(db["PORT"]), db["USER"]


@contextmanager
def scratch_database(create=True):
    """A database of its own on the OLAP test cluster, dropped afterwards: (name, admin), where
    admin runs statements on it."""
    host, port, user = olap_server()
    name = f"compose_probe_{uuid.uuid4().hex[:12]}"
    server = psycopg2.connect(host=host, port=port, user=user, dbname="postgres")
    server.autocommit = True
    try:
        if create:
            with server.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

        def admin(statement):
            with closing(psycopg2.connect(host=host, port=port, user=user, dbname=name)) as db:
                db.autocommit = True
                with db.cursor() as cursor:
                    cursor.execute(statement)

        yield name, admin
    finally:
        with server.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        server.close()


def run_probe(script, port, database):
    host, _, user = olap_server()
    login = "".join(f"{key}\\0{value}\\0" for key, value in (("user", user), ("database", database)))
    script = script.replace(SERVER_LINE, f"SERVER = ({host!r}, {port})")
    script = script.replace(LOGIN_LINE, f'LOGIN = b"{login}\\0"')
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_risingwave_s_health_check_passes_only_once_sql_answers_with_a_compute_node_running(compose):
    script = risingwave_probe(compose)
    _, port, _ = olap_server()
    failed = run_probe(script, closed_port(), "dev")
    assert failed.returncode == 1 and "no connection" in failed.stderr
    failed = run_probe(script, port, f"missing_{uuid.uuid4().hex[:8]}")
    assert failed.returncode == 1 and "does not exist" in failed.stderr
    with scratch_database() as (name, admin):
        failed = run_probe(script, port, name)  # answers, but has no such catalog
        assert failed.returncode == 1 and "rw_worker_nodes" in failed.stderr
        admin("CREATE SCHEMA rw_catalog")
        admin("CREATE TABLE rw_catalog.rw_worker_nodes (id int, type text, state text)")
        admin(
            "INSERT INTO rw_catalog.rw_worker_nodes VALUES (1, 'WORKER_TYPE_META', 'RUNNING'), "
            "(2, 'WORKER_TYPE_FRONTEND', 'RUNNING'), (3, 'WORKER_TYPE_COMPUTE_NODE', 'STARTING')"
        )
        failed = run_probe(script, port, name)
        assert failed.returncode == 1 and "no compute node is running yet" in failed.stderr
        admin("UPDATE rw_catalog.rw_worker_nodes SET state = 'RUNNING' WHERE id = 3")
        passed = run_probe(script, port, name)
        assert (passed.returncode, passed.stdout, passed.stderr) == (0, "", "")


def entrypoint_env(olap_url, **overrides):
    """The environment of a container whose entrypoint waits for the olap database alone and
    does nothing else before its command."""
    return production_env(
        OLAP_DATABASE_URL=olap_url,
        PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]),
        WAIT_FOR_SQL="olap",
        PREPARE_DATABASES="0",
        SETUP_OLAP="0",
        **overrides,
    )


ENTRYPOINT = [shutil.which("sh") or "/bin/sh", str(ROOT / "scripts" / "docker-entrypoint.sh")]


@pytest.mark.slow
def test_the_entrypoint_gives_up_after_its_last_attempt_saying_what_it_waited_for():
    port = closed_port()
    result = subprocess.run(
        [*ENTRYPOINT, "echo", "command ran"],
        cwd=ROOT,
        env=entrypoint_env(f"postgres://root@127.0.0.1:{port}/dev", WAIT_ATTEMPTS="3", WAIT_SECONDS="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result
    waiting = [line for line in result.stdout.splitlines() if line.startswith("waiting for")]
    assert [line.split(": ")[0] for line in waiting] == [
        "waiting for the database to answer SQL (attempt 1 of 3)",
        "waiting for the database to answer SQL (attempt 2 of 3)",
    ]
    assert f"olap (127.0.0.1:{port}/dev): OperationalError" in waiting[0]
    assert "gave up after 3 attempts" in result.stderr
    assert "command ran" not in result.stdout


@pytest.mark.slow
def test_the_entrypoint_waits_until_the_database_answers_then_runs_the_command():
    host, port, user = olap_server()
    with scratch_database(create=False) as (name, _):
        env = entrypoint_env(
            f"postgres://{user}@{host}:{port}/{name}", WAIT_ATTEMPTS="300", WAIT_SECONDS="0.1"
        )
        with subprocess.Popen(
            [*ENTRYPOINT, "echo", "command ran"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as process:
            try:
                assert process.stdout is not None
                first = process.stdout.readline()
                assert first.startswith("waiting for the database to answer SQL (attempt 1 of 300)"), first
                assert f'database "{name}" does not exist' in first
                # The database comes up while it waits.
                server = psycopg2.connect(host=host, port=port, user=user, dbname="postgres")
                server.autocommit = True
                with closing(server), server.cursor() as cursor:
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                rest = process.stdout.read()
                assert process.wait(timeout=120) == 0, rest
            finally:
                process.kill()
        lines = rest.splitlines()
        assert lines[-2:] == [f"the database olap ({host}:{port}/{name}) answers SQL", "command ran"], rest
