"""Fixtures of the HTTP API tests (helpers to import live in api_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import serve
from fastapi.testclient import TestClient

from candor.models.settings import Settings


@pytest.fixture(scope="module")
def api(trained_settings: Settings) -> Iterator[TestClient]:
    """A client of the app serving the session's champion, sending the scorer's key.

    A module that needs other settings or another role defines its own ``api``."""
    with serve(trained_settings) as client:
        yield client
