"""docker-compose.yaml, read as Compose reads it (no Docker engine runs here): the services
agree with each other, every secret it needs is in .env.example, and the settings it gives
the app load."""

import re

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
