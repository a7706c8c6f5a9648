"""The store in memory and in a file: persistence, pruning, deletion, read state."""

from __future__ import annotations

import asyncio
import os
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from mailcatch.errors import StoreError
from mailcatch.events import EventBus
from mailcatch.models import ReceivedEnvelope, SessionInfo, SessionLine, Transaction
from mailcatch.storage import scratch, store
from mailcatch.storage.search import index as search_index
from mailcatch.storage.search.shards import shards_of
from tests.helpers import wait_for_count


def _send(catcher, count: int, start: int = 0) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in range(start, start + count):
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: m{number}\r\n\r\nbody {number}\r\n".encode())


@pytest.mark.parametrize("mode", ["memory", "file"])
def test_messages_are_stored_in_either_mode(start_catcher, tmp_path: Path, mode: str) -> None:
    database = str(tmp_path / "mail.db") if mode == "file" else None
    catcher = start_catcher(database=database)
    _send(catcher, 3)
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        listing = wait_for_count(api, 3)
        assert [m["Subject"] for m in listing["messages"]] == ["m2", "m1", "m0"]
    if database:
        with sqlite3.connect(database) as conn:
            assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 3


def test_a_file_database_survives_a_restart(start_catcher, tmp_path: Path) -> None:
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database)
    _send(first, 2)
    with httpx.Client(verify=False, base_url=first.url) as api:
        wait_for_count(api, 2)
        old_id = api.get("/api/v1/messages").json()["messages"][0]["ID"]
        api.get(f"/api/v1/message/{old_id}")  # marks it read
    first.stop()
    second = start_catcher(database=database)
    with httpx.Client(verify=False, base_url=second.url) as api:
        listing = api.get("/api/v1/messages").json()
        assert listing["total"] == 2 and listing["unread"] == 1
        assert listing["messages"][0]["ID"] == old_id and listing["messages"][0]["Read"] is True
        transcript = api.get(f"/api/v1/message/{old_id}/transcript").json()
        assert transcript["Lines"][-1]["Text"] == "221 Bye"
        _send(second, 1, start=2)
        assert [m["Subject"] for m in wait_for_count(api, 3)["messages"]] == ["m2", "m1", "m0"]


@pytest.mark.parametrize("marked", [0, 1, 2, 3, 4])
def test_the_unread_count_is_right_after_a_restart(start_catcher, tmp_path: Path, marked: int) -> None:
    """Start-up counts whichever of the read and the unread are fewer."""
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database)
    _send(first, 4)
    with httpx.Client(verify=False, base_url=first.url) as api:
        ids = [m["ID"] for m in wait_for_count(api, 4)["messages"]]
        if marked:
            api.put("/api/v1/messages", json={"IDs": ids[:marked], "Read": True})
    first.stop()
    second = start_catcher(database=database)
    with httpx.Client(verify=False, base_url=second.url) as api:
        listing = api.get("/api/v1/messages").json()
        assert (listing["total"], listing["unread"]) == (4, 4 - marked)


def test_marking_read_in_many_commits_marks_exactly_what_was_asked(
    start_catcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read state changes MARK_CHUNK messages to a commit, so that mail is not held up behind them."""
    monkeypatch.setattr(store, "MARK_CHUNK", 3)
    catcher = start_catcher()
    _send(catcher, 10)
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        ids = [m["ID"] for m in wait_for_count(api, 10)["messages"]]

        def state() -> tuple[int, list[bool]]:
            listing = api.get("/api/v1/messages").json()
            return listing["unread"], [m["Read"] for m in listing["messages"]]

        api.put("/api/v1/messages", json={"Read": True})
        assert state() == (0, [True] * 10)
        api.put("/api/v1/messages", json={"IDs": ids[:7], "Read": False})
        assert state() == (7, [False] * 7 + [True] * 3)
        api.put("/api/v1/messages", json={"Read": False})
        assert state() == (10, [False] * 10)


def test_max_keeps_only_the_newest(start_catcher, tmp_path: Path) -> None:
    database = str(tmp_path / "mail.db")
    catcher = start_catcher(database=database, max_messages=3)
    _send(catcher, 7)
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        listing = wait_for_count(api, 3)
        assert listing["total"] == 3
        assert [m["Subject"] for m in listing["messages"]] == ["m6", "m5", "m4"]
        found = api.get("/api/v1/search", params={"query": "body"}).json()  # waits for the index
        assert found["messages_count"] == 3
    with sqlite3.connect(database) as conn:
        for table in ("messages", "message_data"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 3, table
    with sqlite3.connect(database + "-search") as conn:
        assert conn.execute("SELECT count(*) FROM messages_fts").fetchone()[0] == 3


def test_in_memory_the_oldest_messages_make_room_before_sqlite_is_full(
    start_catcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-memory database can't grow past 1 GB: before the store or its search index
    would, the oldest messages are dropped (as --max would), and every new one is accepted."""
    monkeypatch.setattr(store, "MEMORY_LIMIT", 4 * 1024 * 1024)  # the same logic, at a size a test can reach
    catcher = start_catcher(max_messages=0)
    body = "".join(f"line {n} of a long text body, searched like any other\r\n" for n in range(2000))  # ~100 KB
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in range(60):
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: big {number}\r\n\r\n{body}".encode())
    with httpx.Client(base_url=catcher.url) as api:
        listing = api.get("/api/v1/messages", params={"limit": 100}).json()
        kept = [m["Subject"] for m in listing["messages"]]
        assert 5 < listing["total"] < 60 and len(kept) == listing["total"]
        assert kept == [f"big {n}" for n in range(59, 59 - len(kept), -1)]  # the newest, in order
        found = api.get("/api/v1/search", params={"query": "searched like", "limit": 100}).json()
        assert found["messages_count"] == listing["total"]  # the index holds exactly what is kept
        assert [m["Subject"] for m in found["messages"]] == kept


def test_delete_some_then_all(catcher, api: httpx.Client) -> None:
    _send(catcher, 4)
    ids = [m["ID"] for m in wait_for_count(api, 4)["messages"]]
    assert api.request("DELETE", "/api/v1/messages", json={"IDs": ids[:2]}).status_code == 200
    listing = api.get("/api/v1/messages").json()
    assert [m["ID"] for m in listing["messages"]] == ids[2:]
    assert api.get(f"/api/v1/message/{ids[0]}").status_code == 404
    assert api.delete("/api/v1/messages").status_code == 200
    assert api.get("/api/v1/messages").json()["total"] == 0


def test_read_state_and_unread_count(catcher, api: httpx.Client) -> None:
    _send(catcher, 3)
    ids = [m["ID"] for m in wait_for_count(api, 3)["messages"]]
    assert api.get("/api/v1/messages").json()["unread"] == 3
    api.get(f"/api/v1/message/{ids[0]}")
    listing = api.get("/api/v1/messages").json()
    assert listing["unread"] == 2 and listing["messages"][0]["Read"] is True
    assert api.put("/api/v1/messages", json={"IDs": ids, "Read": True}).status_code == 200
    assert api.get("/api/v1/messages").json()["unread"] == 0
    assert api.put("/api/v1/messages", json={"IDs": [ids[1]], "Read": False}).status_code == 200
    listing = api.get("/api/v1/messages").json()
    assert listing["unread"] == 1 and listing["messages"][1]["Read"] is False


def _search_subjects(catcher, query: str) -> list[str]:
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        return sorted(m["Subject"] for m in api.get("/api/v1/search", params={"query": query}).json()["messages"])


def _unindex(conn: sqlite3.Connection, where: str) -> None:
    """Take messages out of the search index, words and senders included, as if they had never been indexed."""
    conn.executescript(search_index._BATCH_WORDS)
    for shard in shards_of(conn):
        search_index._unindex_words(
            conn, shard, [seq for (seq,) in conn.execute(f"SELECT rowid FROM {shard.table} WHERE {where}")]
        )
        conn.execute(f"DELETE FROM {shard.table} WHERE {where}")


def test_messages_missing_from_the_search_index_are_indexed_at_start(start_catcher, tmp_path: Path) -> None:
    """Indexing trails the 250 reply; after a crash, start-up indexes what was stored but not indexed."""
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database)
    _send(first, 3)
    assert _search_subjects(first, "body") == ["m0", "m1", "m2"]
    first.stop()
    with sqlite3.connect(database + "-search") as conn:  # as if the process died before indexing two of them
        _unindex(conn, "rowid > (SELECT min(rowid) FROM messages_fts)")
        conn.execute("UPDATE search_meta SET value = (SELECT min(rowid) FROM messages_fts) WHERE key = 'upto'")
    second = start_catcher(database=database)
    assert _search_subjects(second, "body") == ["m0", "m1", "m2"]
    second.stop()
    with sqlite3.connect(database + "-search") as conn:
        assert conn.execute("SELECT count(*) FROM messages_fts").fetchone()[0] == 3


def test_a_long_indexing_commits_as_it_goes_and_indexes_each_message_once(
    start_catcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index commits every COMMIT_SECONDS, so that searches never wait long for its lock;
    what each commit records as indexed must be exactly what is, or a restart would index
    messages twice (or never)."""
    monkeypatch.setattr(search_index, "COMMIT_SECONDS", 0.0)  # commit after every statement
    monkeypatch.setattr(search_index, "INSERT_ROWS", 3)
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database)
    _send(first, 40)
    assert _search_subjects(first, "body") == sorted(f"m{n}" for n in range(40))
    first.stop()
    with sqlite3.connect(database + "-search") as conn:
        assert conn.execute("SELECT count(*), max(rowid) FROM messages_fts").fetchone() == (40, 40)
        assert conn.execute("SELECT value FROM search_meta WHERE key = 'upto'").fetchone() == ("40",)
        _unindex(conn, "rowid > 5")  # as if indexing had stopped early
        conn.execute("UPDATE search_meta SET value = '5' WHERE key = 'upto'")
    second = start_catcher(database=database)  # catches up, committing as it goes
    _send(second, 10, start=40)
    assert len(_search_subjects(second, "body")) == 50
    second.stop()
    with sqlite3.connect(database + "-search") as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT rowid) FROM messages_fts").fetchone() == (50, 50)
        assert conn.execute("SELECT count(*) FROM messages_words('body')").fetchone() == (50,)


@pytest.mark.parametrize("damage", ["missing", "foreign", "unfinished"])
def test_a_search_index_that_does_not_fit_the_database_is_rebuilt(start_catcher, tmp_path: Path, damage: str) -> None:
    database, other = str(tmp_path / "mail.db"), str(tmp_path / "other.db")
    first = start_catcher(database=database)
    _send(first, 3)
    assert _search_subjects(first, "body") == ["m0", "m1", "m2"]
    first.stop()
    if damage == "foreign":  # the index of another database, whose messages have the same seqs
        elsewhere = start_catcher(database=other)
        with smtplib.SMTP(elsewhere.smtp_host, elsewhere.smtp_port) as client:
            for number in range(5):
                client.sendmail("a@example.com", ["b@example.com"], f"Subject: x{number}\r\n\r\nstranger\r\n")
        assert len(_search_subjects(elsewhere, "stranger")) == 5
        elsewhere.stop()
        for suffix in ("", "-wal", "-shm"):
            Path(database + "-search" + suffix).unlink(missing_ok=True)
            if Path(other + "-search" + suffix).exists():
                Path(other + "-search" + suffix).rename(database + "-search" + suffix)
    elif damage == "missing":
        Path(database + "-search").unlink()
    else:  # a failed index write marks the index to be rebuilt
        with sqlite3.connect(database + "-search") as conn:
            for shard in shards_of(conn):
                conn.execute(f"DELETE FROM {shard.table}")
            conn.execute("UPDATE search_meta SET value = '0' WHERE key = 'clean'")
    second = start_catcher(database=database)
    assert _search_subjects(second, "body") == ["m0", "m1", "m2"]
    assert _search_subjects(second, "stranger") == []


def test_deleted_messages_are_not_found_and_later_ones_are(catcher, api: httpx.Client) -> None:
    _send(catcher, 4)
    ids = [m["ID"] for m in wait_for_count(api, 4)["messages"]]
    api.request("DELETE", "/api/v1/messages", json={"IDs": ids[:1]})
    assert _search_subjects(catcher, "body") == ["m0", "m1", "m2"]
    assert api.get("/api/v1/search", params={"query": "body"}).json()["messages_count"] == 3
    api.delete("/api/v1/messages")
    assert api.get("/api/v1/search", params={"query": "body"}).json()["messages_count"] == 0
    _send(catcher, 2, start=10)
    assert _search_subjects(catcher, "body") == ["m10", "m11"]


def test_search_sees_a_message_as_soon_as_it_is_acknowledged(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in range(20):
            message = f"Subject: s{number}\r\n\r\nneedle{number}\r\n".encode()
            client.sendmail("a@example.com", ["b@example.com"], message)
            found = api.get("/api/v1/search", params={"query": f"needle{number}"}).json()
            assert [m["Subject"] for m in found["messages"]] == [f"s{number}"]


def _big_message(megabytes: float) -> bytes:
    line = b"bulk line of a big message, to be stored in pieces and read back exactly....\r\n"
    body = line * int(megabytes * 1024 * 1024 / len(line))
    return b"Subject: big one\r\n\r\n" + body + b"needle at the very end\r\n"


def test_a_big_message_is_stored_in_pieces_and_read_back_exactly(start_catcher, tmp_path: Path) -> None:
    database = str(tmp_path / "mail.db")
    catcher = start_catcher(database=database)
    big = _big_message(3.5)
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("a@example.com", ["b@example.com"], big)
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: small one\r\n\r\nneedle\r\n")
    with httpx.Client(verify=False, base_url=catcher.url) as api:
        big_id = next(m["ID"] for m in wait_for_count(api, 2)["messages"] if m["Subject"] == "big one")
        assert api.get(f"/api/v1/message/{big_id}/raw").content == big
        assert api.get(f"/api/v1/message/{big_id}").json()["Text"].endswith("needle at the very end\r\n")
        hog = {item["ID"]: item for item in api.get("/api/v2/messages").json()["items"]}
        assert hog[big_id]["Raw"]["Data"].encode() == big
        with sqlite3.connect(database) as conn:
            assert conn.execute("SELECT count(*) FROM message_pieces").fetchone()[0] == 4
        catcher.stop()
        Path(database + "-search").unlink()  # rebuilt at start from the stored bytes, pieces included
    again = start_catcher(database=database)
    assert _search_subjects(again, '"bulk line of a big message"') == ["big one"]
    with httpx.Client(verify=False, base_url=again.url) as api:
        assert api.get(f"/api/v1/message/{big_id}/raw").content == big
        assert api.request("DELETE", "/api/v1/messages", json={"IDs": [big_id]}).status_code == 200
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM message_pieces").fetchone()[0] == 0


def test_pieces_of_a_message_never_stored_are_removed_at_start(start_catcher, tmp_path: Path) -> None:
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database)
    with smtplib.SMTP(first.smtp_host, first.smtp_port) as client:
        client.sendmail("a@example.com", ["b@example.com"], _big_message(1.5))
    first.stop()
    with sqlite3.connect(database) as conn:  # as if the process died while storing a second big message
        conn.execute("INSERT INTO message_pieces (owner, data) VALUES (12345, x'00')")
    second = start_catcher(database=database)
    with httpx.Client(verify=False, base_url=second.url) as api:
        assert api.get("/api/v1/messages").json()["total"] == 1
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM message_pieces WHERE owner = 12345").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM message_pieces").fetchone()[0] == 2
    with httpx.Client(verify=False, base_url=second.url) as api:
        api.delete("/api/v1/messages")
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM message_pieces").fetchone()[0] == 0


def test_looking_for_pieces_left_by_a_crash_reads_no_message_rows(start_catcher, tmp_path: Path) -> None:
    """Start-up's clean-up of orphan pieces goes through an index: a million messages don't slow it down."""
    from mailcatch.storage.writes import FORGET_ORPHAN_PIECES

    database = str(tmp_path / "mail.db")
    start_catcher(database=database).stop()
    with sqlite3.connect(database) as conn:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + FORGET_ORPHAN_PIECES)]
    assert not [step for step in plan if step.startswith("SCAN message_data")], plan


def test_in_memory_the_search_index_is_a_private_file_removed_at_close() -> None:
    """An in-memory SQLite database stops at 1 GB and can't be read while written, so in
    memory mode the search index is a file in a private temporary directory, gone at close."""

    async def scenario() -> tuple[str, str]:
        kept = store.Store(None, EventBus())
        kept.open()
        try:
            folder = str(Path(kept.index.uri.removeprefix("file:").split("?")[0]).parent)
            assert Path(folder).is_dir() and oct(Path(folder).stat().st_mode & 0o777) == "0o700"
            await kept.add(b"Subject: kept\r\n\r\nfindable words\r\n", *_envelope_and_tx())
            found = await kept.search("findable")
            return folder, found.messages[0]["Subject"]
        finally:
            kept.close()

    folder, subject = asyncio.run(scenario())
    assert subject == "kept"
    assert not Path(folder).exists()


def _envelope_and_tx() -> tuple[ReceivedEnvelope, Transaction]:
    now = time.time()
    session = SessionInfo("s1", "127.0.0.1:40000", now, "app.example", False, "")
    lines = [SessionLine(now, "C", "DATA")]
    return (
        ReceivedEnvelope("a@example.com", [], ["b@example.com"], session.peer, "app.example", "", False, now),
        Transaction(session, 0, 1, lines, 0),
    )


def test_in_memory_without_a_temporary_directory_the_store_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_directory))
    with pytest.raises(StoreError, match="can't create a temporary directory for the search index"):
        store.Store(None, EventBus())


def test_in_memory_the_directories_of_killed_catchers_are_removed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A catcher killed outright can't remove its temporary directory: the next one does."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for name, pid in (("killed", ended.stdout.strip()), ("running", str(os.getpid())), ("garbled", "x")):
        (tmp_path / f"{scratch.SCRATCH_PREFIX}{name}").mkdir()
        (tmp_path / f"{scratch.SCRATCH_PREFIX}{name}" / "pid").write_text(pid)
    (tmp_path / "unrelated").mkdir()
    kept = store.Store(None, EventBus())
    try:
        left = sorted(p.name.removeprefix(scratch.SCRATCH_PREFIX) for p in tmp_path.iterdir())
        assert "killed" not in left and {"running", "garbled", "unrelated"} <= set(left) and len(left) == 4
    finally:
        kept.close()
    assert sorted(p.name.removeprefix(scratch.SCRATCH_PREFIX) for p in tmp_path.iterdir()) == [
        "garbled",
        "running",
        "unrelated",
    ]


def test_the_sqlite_store_offers_all_of_the_interface_the_other_sides_use() -> None:
    """web/ and smtp/ see a store only as a MessageStore: the SQLite Store has each of its members,
    methods async where the interface's are, with the same parameters."""
    import inspect

    from mailcatch.storage.interface import MessageStore

    kept = store.Store(None, EventBus())
    try:
        for name in (n for n in vars(MessageStore) if not n.startswith("_")):
            wanted, offered = getattr(MessageStore, name), getattr(kept, name)
            if isinstance(wanted, property):
                assert not callable(offered), name
                continue
            assert inspect.iscoroutinefunction(offered) == inspect.iscoroutinefunction(wanted), name
            assert list(inspect.signature(offered).parameters) == list(inspect.signature(wanted).parameters)[1:], name
    finally:
        kept.close()
