"""A search that could not look into every message says so: `partial`, `partial_reason` and `unindexed`.

The search index is held back for real: the test takes its database's write lock (as another
process writing it would), so the index thread waits for it, and the messages stored meanwhile
are not searchable yet. A search waits a moment for the index (PATIENCE), then answers with
what is indexed, and says how many messages it could not look into.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from mailcatch.server import ServerThread
from tests.messages import build, send


@contextmanager
def index_held(database: Path) -> Iterator[None]:
    """Hold the write lock of the search index of the catcher whose database is `database`."""
    conn = sqlite3.connect(f"{database}-search", isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def search(catcher: ServerThread, query: str) -> dict[str, Any]:
    found = httpx.get(f"{catcher.url}/api/v1/search", params={"query": query}, timeout=30)
    assert found.status_code == 200, found.text
    page: dict[str, Any] = found.json()
    return page


def complete(catcher: ServerThread, query: str) -> dict[str, Any]:
    """The search's answer once the index has caught up (it may take a retry after the lock is released)."""
    deadline = time.monotonic() + 60
    while (page := search(catcher, query))["partial"]:
        assert time.monotonic() < deadline, page
        time.sleep(0.2)
    return page


def test_a_search_says_when_the_index_is_behind(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> None:
    database = tmp_path / "mail.db"
    catcher = start_catcher(database=str(database))
    send(catcher, build("first report", text="quarterly numbers"))
    page = complete(catcher, "quarterly")
    assert (page["messages_count"], page["partial"], page["partial_reason"], page["unindexed"]) == (1, False, None, 0)

    with index_held(database):
        send(catcher, build("second report", text="quarterly numbers again"))
        page = search(catcher, "quarterly")
        assert page["partial"] is True
        assert page["unindexed"] == 1
        assert page["messages_count"] == 1  # the first; the second is not in the index yet
        assert "1 message behind" in page["partial_reason"], page["partial_reason"]
        # Searches that don't need the full-text index see every message, and are complete.
        unread = search(catcher, "is:unread")
        assert (unread["messages_count"], unread["partial"], unread["unindexed"]) == (2, False, 0)

    page = complete(catcher, "quarterly")
    assert (page["messages_count"], page["partial_reason"], page["unindexed"]) == (2, None, 0)
    assert [message["Subject"] for message in page["messages"]] == ["second report", "first report"]


def test_a_listing_has_no_partial_field(catcher: ServerThread) -> None:
    """GET /api/v1/messages keeps Mailpit's shape exactly: it never needs the search index."""
    page = httpx.get(f"{catcher.url}/api/v1/messages", timeout=30).json()
    assert "partial" not in page and "partial_reason" not in page


def test_a_failed_index_write_is_tried_again_with_its_deletions(
    start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    """The index can't be written for longer than it waits for a lock: it fails, says why, and once it can
    write again applies what it missed: the new message, and the deletion (counted from the word index)."""
    database = tmp_path / "mail.db"
    catcher = start_catcher(database=str(database))
    send(catcher, build("keep", text="common words"), build("drop", text="common words"))
    ids = {message["Subject"]: message["ID"] for message in complete(catcher, "common")["messages"]}

    with index_held(database):
        deleted = httpx.request("DELETE", f"{catcher.url}/api/v1/messages", json={"IDs": [ids["drop"]]}, timeout=30)
        assert deleted.status_code == 200, deleted.text
        send(catcher, build("late", text="common words again"))
        deadline = time.monotonic() + 60
        while "could not be updated" not in str((page := search(catcher, "common"))["partial_reason"]):
            assert time.monotonic() < deadline, page
            time.sleep(0.5)
        assert page["partial"] is True and "database is locked" in page["partial_reason"], page

    page = complete(catcher, "common")
    assert [message["Subject"] for message in page["messages"]] == ["late", "keep"]
    assert (page["messages_count"], page["unindexed"]) == (2, 0)
