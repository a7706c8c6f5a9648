"""The trigram index in shards: searches, pages and counts across them equal those of one table,
emptied shards go, and the shards outlive a restart."""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailcatch.server import ServerThread
from mailcatch.storage.search import index as search_index
from mailcatch.storage.search import shards
from tests.helpers import wait_for_count

COUNT = 60


def _body(number: int) -> str:
    kind = "alpha" if number % 2 else "beta"
    return f"{kind} text number {number}. " * 12


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shards of about five messages, each batch of the index thread two messages at most."""
    monkeypatch.setattr(shards, "SHARD_CHARS", 1500)
    monkeypatch.setattr(search_index, "INSERT_ROWS", 2)


def _send(catcher: ServerThread, numbers: range) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in numbers:
            client.sendmail(
                f"sender{number % 3}@example.com",
                ["team@example.com"],
                f"From: sender{number % 3}@example.com\r\nSubject: note {number}\r\n\r\n{_body(number)}\r\n".encode(),
            )


def _shards(database: str) -> list[tuple[int, int]]:
    with sqlite3.connect(database + "-search") as conn:
        return conn.execute("SELECT id, first FROM search_shards ORDER BY id").fetchall()


def _every_page(api: httpx.Client, query: str, limit: int = 7) -> tuple[dict[str, Any], list[str]]:
    """The first page's counts, and the subjects of every page in turn."""
    first = api.get("/api/v1/search", params={"query": query, "limit": limit}).json()
    subjects: list[str] = []
    for start in range(0, first["messages_count"] + limit, limit):
        page = api.get("/api/v1/search", params={"query": query, "start": start, "limit": limit}).json()
        subjects += [m["Subject"] for m in page["messages"]]
    return first, subjects


def _expect(api: httpx.Client, query: str, numbers: list[int], read: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """The query finds exactly these messages, newest first, on every page, with right counts."""
    first, subjects = _every_page(api, query)
    expected = [f"note {n}" for n in sorted(numbers, reverse=True)]
    assert subjects == expected, query
    assert first["messages_count"] == len(numbers), query
    assert first["messages_unread"] == len([n for n in numbers if n not in read]), query


def test_searches_across_shards_find_what_one_table_would(
    small_shards: None, start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    database = str(tmp_path / "mail.db")
    catcher = start_catcher(database=database, max_messages=0)
    _send(catcher, range(COUNT))
    with httpx.Client(base_url=catcher.url) as api:
        wait_for_count(api, COUNT)
        listing = api.get("/api/v1/messages", params={"limit": COUNT}).json()
        ids = {m["Subject"]: m["ID"] for m in listing["messages"]}
        _expect(api, "alpha", [n for n in range(COUNT) if n % 2])  # waits for the index first
        assert len(_shards(database)) >= 8
        _expect(api, '"number 1"', [1, *range(10, 20)])  # a phrase: its trigrams' positions, in each shard
        _expect(api, "from:sender1 beta", [n for n in range(COUNT) if n % 3 == 1 and n % 2 == 0])
        _expect(api, "subject:note -alpha", [n for n in range(COUNT) if n % 2 == 0])
        _expect(api, '"number 5" is:unread', [5, *range(50, 60)])
        read = {3, 13, 33, 53, 55}
        api.put("/api/v1/messages", json={"IDs": [ids[f"note {n}"] for n in read], "Read": True})
        _expect(api, "alpha", [n for n in range(COUNT) if n % 2], read)
        _expect(api, "text", list(range(COUNT)), read)
        found = api.get("/api/v1/message/latest", params={"query": '"number 2"'}).json()
        assert found["Subject"] == "note 29"


def test_emptied_shards_go_and_the_newest_stays(
    small_shards: None, start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    database = str(tmp_path / "mail.db")
    catcher = start_catcher(database=database, max_messages=0)
    _send(catcher, range(COUNT))
    with httpx.Client(base_url=catcher.url) as api:
        wait_for_count(api, COUNT)
        listing = api.get("/api/v1/messages", params={"limit": COUNT}).json()
        _expect(api, "text", list(range(COUNT)))
        before = _shards(database)
        oldest = [m["ID"] for m in listing["messages"]][-30:]  # notes 0 to 29
        api.request("DELETE", "/api/v1/messages", json={"IDs": oldest})
        _expect(api, "text", list(range(30, COUNT)))
        after = _shards(database)
        assert len(after) < len(before) - 2 and after == before[len(before) - len(after) :]
        with sqlite3.connect(database + "-search") as conn:  # the view joins only the shards left
            view = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").fetchone()[0]
        assert view.count("UNION ALL") == len(after) - 1
        api.delete("/api/v1/messages")
        _expect(api, "text", [])
        assert [first for _, first in _shards(database)] == [0]
        _send(catcher, range(100, 104))
        wait_for_count(api, 4)
        _expect(api, '"number 10"', [100, 101, 102, 103])


def test_pruning_drops_old_shards_as_it_goes(
    small_shards: None, start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    database = str(tmp_path / "mail.db")
    catcher = start_catcher(database=database, max_messages=10)
    _send(catcher, range(COUNT))
    with httpx.Client(base_url=catcher.url) as api:
        wait_for_count(api, 10)
        _expect(api, "text", list(range(COUNT - 10, COUNT)))
    assert len(_shards(database)) <= 4  # ten messages of about five to a shard, not twelve shards


def test_shards_outlive_a_restart(
    small_shards: None, start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database, max_messages=0)
    _send(first, range(30))
    with httpx.Client(base_url=first.url) as api:
        wait_for_count(api, 30)
        _expect(api, "alpha", [n for n in range(30) if n % 2])
    first.stop()
    kept = _shards(database)
    second = start_catcher(database=database, max_messages=0)
    _send(second, range(30, 40))
    with httpx.Client(base_url=second.url) as api:
        wait_for_count(api, 40)
        _expect(api, "alpha", [n for n in range(40) if n % 2])
    assert _shards(database)[: len(kept)] == kept  # kept, not made anew; the newest ones follow
