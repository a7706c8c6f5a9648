"""Fixtures for the plugin's tests: pytester, a shared Catcher, a catcher in another process (helpers in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailcatch import Catcher
from tests.plugin.helpers import CatcherProcess, running_catcher_process

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
    """A catcher in a process of its own, in memory, for the module."""
    with running_catcher_process() as process:
        yield process
