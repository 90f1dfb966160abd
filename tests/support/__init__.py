"""What several test modules share: reference computations, order and rollup helpers, the
browser, subprocess settings. Fixtures live in tests/conftest.py."""

from pathlib import Path

# The checkout: scripts, templates and docs are found from here.
ROOT = Path(__file__).resolve().parents[2]
