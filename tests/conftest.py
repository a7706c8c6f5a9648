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


@pytest.fixture
def catcher(start_catcher: Callable[..., ServerThread]) -> ServerThread:
    """A fresh in-memory catcher on free ports."""
    return start_catcher()


@pytest.fixture
def api(catcher: ServerThread) -> Iterator[httpx.Client]:
    """An HTTP client for the catcher's API."""
    with httpx.Client(verify=False, base_url=catcher.url, timeout=10) as client:
        yield client
