"""Fixtures of the storage tests: a Store opened in this process, and spies on how searches are counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailcatch.storage.store import Store
from tests.storage.mailbox import opened_store
from tests.storage.spies import Paths, spy_on_counting


@pytest.fixture
def store() -> Iterator[Store]:
    """An in-memory store with its search index, no server."""
    with opened_store() as opened:
        yield opened


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> Paths:
    """How each search of the test is counted."""
    return spy_on_counting(monkeypatch)
