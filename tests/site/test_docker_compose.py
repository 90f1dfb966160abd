"""docker-compose.yaml, read as Compose reads it (no Docker engine runs here): the services
agree with each other, every secret it needs is in .env.example, and the settings it gives
the app load."""

import itertools
import re
import shlex
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.settings_process import ROOT, boot

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


def test_every_image_has_a_pinned_version(compose):
    for name, service in compose["services"].items():
        if "image" in service:
            repository, _, tag = service["image"].rpartition(":")
            assert repository and re.fullmatch(r"v?\d+(\.\d+)+(-[\w.]+)?", tag), (name, service["image"])


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
    assert "pg_isready" in postgres["healthcheck"]["test"][1]


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
