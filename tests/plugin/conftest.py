"""Fixtures for the plugin's tests: pytester, a shared Catcher, a catcher in another process (helpers in helpers.py)."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from mailcatch import Catcher
from tests.plugin.helpers import CatcherProcess

STARTUP_LINE = re.compile(r"SMTP on (?P<smtp>\S+), web UI and API on (?P<url>\S+) \(")
INNER_INI = """
[pytest]
filterwarnings = error
addopts = -p no:cacheprovider -p no:hypothesispytest -p no:benchmark -p no:anyio
"""


def pytest_configure(config: pytest.Config) -> None:
    # pytest refuses `pytest_plugins` outside the top-level conftest, so pytester is loaded here.
    config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs treat warnings as errors and ignore the developer's MAILCATCH_* variables
    (and, when this suite runs under xdist, that this process is one of its workers)."""
    for name in (
        "MAILCATCH_URL",
        "MAILCATCH_SMTP",
        "PYTEST_ADDOPTS",
        "PYTEST_XDIST_AUTO_NUM_WORKERS",
        "PYTEST_XDIST_WORKER",
        "PYTEST_XDIST_WORKER_COUNT",
        "PYTEST_XDIST_TESTRUNUID",
    ):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini(INNER_INI)
    return pytester


@pytest.fixture(scope="module")
def catcher() -> Iterator[Catcher]:
    """One catcher for the module's tests."""
    with Catcher() as running:
        yield running


@pytest.fixture
def mail(catcher: Catcher) -> Catcher:
    """The module's catcher, emptied."""
    catcher.clear()
    return catcher


@pytest.fixture(scope="module")
def catcher_process() -> Iterator[CatcherProcess]:
    """Start `python -m mailcatch` on free ports and read its real addresses from the startup log line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mailcatch", "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    stderr = process.stderr

    def drain() -> None:
        for line in stderr:
            lines.put(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    seen = []
    try:
        while True:
            line = lines.get(timeout=20)
            seen.append(line)
            found = STARTUP_LINE.search(line)
            if found:
                break
        host, _, port = found["smtp"].rpartition(":")
        yield CatcherProcess(found["url"], found["smtp"], host, int(port))
    except queue.Empty:
        pytest.fail(f"mailcatch did not print its startup line; stderr so far: {''.join(seen)!r}")
    finally:
        process.terminate()
        process.wait(timeout=20)
        reader.join(timeout=20)
        stderr.close()
