"""Shared fixtures: real catchers on free loopback ports, and clients that talk to them.

What tests import and call is in tests/helpers.py (and tests/messages.py); conftest holds fixtures only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mailcatch.server import ServerThread
from tests.helpers import make_settings


@pytest.fixture
def start_catcher() -> Iterator[Callable[..., ServerThread]]:
    """Start catchers with chosen settings; each is stopped at the end of the test."""
    running: list[ServerThread] = []

    def start(**overrides: Any) -> ServerThread:
        catcher = ServerThread(make_settings(**overrides)).start()
        running.append(catcher)
        return catcher

    yield start
    for catcher in running:
        catcher.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: run the test's `catcher` on in-memory SQLite and on a fresh PostgreSQL database"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("both_backends") and "catcher" in metafunc.fixturenames:
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of the test's `catcher`: "sqlite" unless the test is marked both_backends."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a new PostgreSQL database of this test's own, dropped after it."""
    from tests.postgres.databases import fresh_database

    with fresh_database() as url:
        yield url


@pytest.fixture
def catcher(
    start_catcher: Callable[..., ServerThread], backend: str, request: pytest.FixtureRequest
) -> Iterator[ServerThread]:
    """A fresh catcher on free ports: in memory, or on a PostgreSQL database of its own (see both_backends)."""
    if backend != "postgresql":
        yield start_catcher()
        return
    # Stopped here, before its database is dropped.
    with ServerThread(make_settings(database=request.getfixturevalue("postgres_database"))) as running:
        yield running


@pytest.fixture
def api(catcher: ServerThread) -> Iterator[httpx.Client]:
    """An HTTP client for the catcher's API."""
    with httpx.Client(verify=False, base_url=catcher.url, timeout=10) as client:
        yield client
