"""Loading the real settings in a fresh interpreter, with an environment of the test's own."""

import os
import subprocess
import sys

from tests.support import ROOT

STRONG_KEY = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP"
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.CHARTJS_URL, s.DATABASES['olap']['ENGINE'], sep='\\n')"
)


def production_env(**overrides):
    """A production environment (None removes a variable)."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "analytics_site.settings",
        "DATABASE_URL": "postgres://u@127.0.0.1:5432/oltp",
        "OLAP_DATABASE_URL": "postgres://root@127.0.0.1:4566/dev",
        "CATALOG_DATABASE_URL": "sqlite:////var/lib/dashboard/catalog.db",
        "SECRET_KEY": STRONG_KEY,
        **overrides,
    }
    return {name: value for name, value in env.items() if value is not None}


def boot(script=PRINT_SETTINGS, **overrides):
    """Run `script` after loading the real settings with the given environment."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=production_env(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )
