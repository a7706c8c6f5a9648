"""What tests call (conftest.py keeps the fixtures): settings and catchers for a test, waiting for mail, async code.

Catchers here are for a whole module (`running`) or in a process of their own (`spawned`);
a test's own catcher is conftest's `catcher` fixture.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from mailcatch.config import HostPort, Settings
from mailcatch.server import ServerThread

LOOPBACK = HostPort("127.0.0.1", 0)
T = TypeVar("T")

_STARTED = re.compile(r"SMTP on (\S+), web UI and API on (\S+) ")


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test catcher: free ports on 127.0.0.1, in memory unless told otherwise."""
    values: dict[str, Any] = {"smtp": LOOPBACK, "listen": LOOPBACK, "quiet": True}
    values.update(overrides)
    return Settings(**values)


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


@contextmanager
def running(**overrides: Any) -> Iterator[ServerThread]:
    """A catcher for a whole module (started once, stopped at the end)."""
    catcher = ServerThread(make_settings(**overrides)).start()
    try:
        yield catcher
    finally:
        catcher.stop()


@dataclass
class Spawned:
    """A catcher running as `python -m mailcatch` in a process of its own."""

    smtp_host: str
    smtp_port: int
    url: str


def stop_process(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, and SIGKILL if it hasn't ended within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def spawned(*args: str) -> Iterator[Spawned]:
    """Run `python -m mailcatch` on free loopback ports (for load tests: no GIL shared with the test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILCATCH_")}
    command = [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--quiet", *args]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    drain = threading.Thread(target=process.stderr.read, daemon=True)
    try:
        for line in process.stderr:
            found = _STARTED.search(line)
            if found:
                break
        else:
            raise RuntimeError(f"mailcatch exited with {process.wait()} before it started")
        drain.start()
        host, port = found.group(1).rsplit(":", 1)
        yield Spawned(host, int(port), found.group(2))
    finally:
        stop_process(process)
        if drain.is_alive():
            drain.join()
        process.stderr.close()


CLIENTS_JS = Path(__file__).resolve().parent / "clients_js"
"""The npm clients the tests run (package.json pins them; `npm ci` there installs them)."""


def node_with(package: str) -> str:
    """The node executable, with this npm package installed in CLIENTS_JS; in CI their absence fails the test."""
    node = shutil.which("node")
    if node is not None and (CLIENTS_JS / "node_modules" / package / "package.json").exists():
        return node
    problem = "node is not installed" if node is None else f"{package} is not installed: run `npm ci` in {CLIENTS_JS}"
    if os.environ.get("CI"):
        pytest.fail(problem)
    pytest.skip(problem)
