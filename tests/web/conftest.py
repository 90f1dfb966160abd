"""Fixtures of the web's tests."""

import pytest


@pytest.fixture
def folded_42_seconds_behind(olap_cursor):
    """The capture has folded the shop's changes up to 42 seconds ago (in the test's
    transaction, rolled back afterwards; deleted too, should it ever be committed)."""
    olap_cursor.execute(
        "INSERT INTO cdc_progress (id, source_time, folded_at) "
        "VALUES (1, now() - interval '42 seconds', now())"
    )
    try:
        yield
    finally:
        olap_cursor.execute("DELETE FROM cdc_progress WHERE id = 1")
