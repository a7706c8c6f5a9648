"""Big messages stored in pieces, and deletes that land while their pieces are being written (issue 15)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

import mailcatch.storage.writes as writes
from mailcatch.models import ReceivedEnvelope, SessionLine, Transaction
from mailcatch.storage.store import PIECE_SIZE, Store
from tests.helpers import run_async
from tests.storage.mailbox import SESSION, add, opened_store

PIECES = 5


def big(subject: str) -> bytes:
    """A message stored in PIECES pieces, the last one short."""
    head = f"From: a@example.com\r\nTo: b@example.com\r\nSubject: {subject}\r\n\r\n".encode()
    raw = head + (b"B" * 78 + b"\r\n") * ((PIECES - 1) * PIECE_SIZE // 80 + 100)
    assert (PIECES - 1) * PIECE_SIZE < len(raw) < PIECES * PIECE_SIZE
    return raw


async def add_raw(store: Store, raw: bytes) -> str:
    now = time.time()
    envelope = ReceivedEnvelope("a@example.com", [], ["b@example.com"], SESSION.peer, SESSION.helo, "", False, now)
    summary = await store.add(raw, envelope, Transaction(SESSION, 0, 1, [SessionLine(now, "C", "DATA")]))
    return summary["ID"]


async def pieces_stored(store: Store) -> int:
    def count(conn: sqlite3.Connection) -> int:
        found: int = conn.execute("SELECT count(*) FROM message_pieces").fetchone()[0]
        return found

    return await store.db.read(count)


@pytest.fixture(params=["memory", "file"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    return str(tmp_path / "mail.db") if request.param == "file" else None


def test_delete_all_after_the_first_piece_keeps_the_message_whole(
    database: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete lands after the first piece's commit and before the message's row: the row finds every piece."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        first_piece = asyncio.Event()
        store_piece = writes.store_piece

        def spied(conn: sqlite3.Connection, owner: int, piece: bytes) -> None:
            store_piece(conn, owner, piece)
            loop.call_soon_threadsafe(first_piece.set)

        monkeypatch.setattr(writes, "store_piece", spied)
        with opened_store(database) as store:
            await add(store, "small, stored before")
            raw = big("big")
            adding = asyncio.create_task(add_raw(store, raw))
            await asyncio.wait_for(first_piece.wait(), 10)
            assert await store.delete(None) == []
            message_id = await adding
            stored = await store.get(message_id)
            assert stored.raw == raw
            assert store.stats() == {"Total": 1, "Unread": 1}
            assert await pieces_stored(store) == PIECES

            await store.delete(None)  # no piece outlives its message
            assert await pieces_stored(store) == 0

    run_async(scenario())


def test_pieces_of_a_message_that_failed_are_forgotten_and_delete_all_takes_the_rest(
    database: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise sqlite3.OperationalError("refused by the test")

    async def scenario() -> None:
        with opened_store(database) as store:
            kept = await add_raw(store, big("kept"))
            with monkeypatch.context() as patched:
                patched.setattr(writes, "insert_messages", refuse)
                with pytest.raises(Exception, match="refused by the test"):
                    await add_raw(store, big("failed"))
            assert (await store.get(kept)).raw == big("kept")  # forgetting spares another message's pieces
            assert await pieces_stored(store) == PIECES
            await store.delete(None)
            assert await pieces_stored(store) == 0

    run_async(scenario())


def test_a_read_sees_one_state_of_the_database_while_a_delete_commits(tmp_path: Path) -> None:
    """A message's row and its pieces are read in one snapshot: a delete committed between the two
    statements (here by a second connection, at exactly that moment) is not half seen."""
    path = tmp_path / "mail.db"
    raw = big("snapshot")

    async def scenario() -> None:
        with opened_store(str(path)) as store:
            message_id = await add_raw(store, raw)

            def row_then_pieces(conn: sqlite3.Connection) -> tuple[int, int]:
                (owner,) = conn.execute(
                    "SELECT pieces FROM message_data JOIN messages USING (seq) WHERE id = ?", (message_id,)
                ).fetchone()
                other = sqlite3.connect(path, isolation_level=None)
                other.execute("DELETE FROM message_pieces WHERE owner = ?", (owner,))
                other.close()
                (count,) = conn.execute("SELECT count(*) FROM message_pieces WHERE owner = ?", (owner,)).fetchone()
                return owner, count

            _, count = await store.db.read(row_then_pieces)
            assert count == PIECES
            assert await pieces_stored(store) == 0

    run_async(scenario())
