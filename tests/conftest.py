"""Shared fixtures: real catchers on free loopback ports, and clients that talk to them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from mailcatch.config import HostPort, Settings
from mailcatch.server import ServerThread

LOOPBACK = HostPort("127.0.0.1", 0)
T = TypeVar("T")


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test catcher: free ports on 127.0.0.1, in memory unless told otherwise."""
    values: dict[str, Any] = {"smtp": LOOPBACK, "listen": LOOPBACK, "quiet": True}
    values.update(overrides)
    return Settings(**values)


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


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in its own thread.

    The browser tests' Playwright keeps an event loop running on the main thread for the
    whole session, so `asyncio.run` there would fail.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main).result()


def wait_for_count(client: httpx.Client, count: int, timeout: float = 5) -> dict[str, Any]:
    """Poll the message list until it holds `count` messages."""
    deadline = time.monotonic() + timeout
    while True:
        listing: dict[str, Any] = client.get("/api/v1/messages").json()
        if listing["total"] >= count or time.monotonic() > deadline:
            return listing
        time.sleep(0.02)
