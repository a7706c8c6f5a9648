"""The writer's group commit: jobs queued together commit together, and a failing job fails alone."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mailcatch.errors import DatabaseDamaged, ReadFailed, StoreError
from mailcatch.storage.database import Database


@pytest.mark.parametrize("mode", ["memory", "file"])
def test_a_failing_job_fails_alone_and_the_rest_of_its_batch_commits(tmp_path: Path, mode: str) -> None:
    db = Database(str(tmp_path / "mail.db") if mode == "file" else None)
    db.open()
    committed: list[list[Any]] = []
    resyncs: list[int] = []
    db.after_commit = committed.append
    db.resync = lambda conn: resyncs.append(1)

    def good(name: str) -> Any:
        def job(conn: sqlite3.Connection) -> str:
            conn.execute("INSERT INTO mailcatch_identity VALUES (?)", (name,))
            db.note(name)
            return name

        return job

    def bad(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO mailcatch_identity VALUES ('undone')")
        db.note("undone")
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    async def main() -> list[Any]:
        # Queued in one turn of the loop: the writer takes them as one batch.
        return await asyncio.gather(
            db.write(good("first")), db.write(bad), db.write(good("second")), return_exceptions=True
        )

    try:
        first, failed, second = asyncio.run(main())
        assert (first, second) == ("first", "second")
        assert isinstance(failed, StoreError) and "no_such_table" in str(failed)
        assert [name for notes in committed for name in notes] == ["first", "second"]
        assert resyncs == [1, 1]  # after the undone batch, and after its rerun

        async def names() -> list[str]:
            return await db.read(lambda conn: [row[0] for row in conn.execute("SELECT id FROM mailcatch_identity")])

        assert asyncio.run(names())[1:] == ["first", "second"]  # the database's own identity comes first
    finally:
        db.close()


def test_jobs_together_run_in_one_call_and_a_bad_one_still_fails_alone(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "mail.db"))
    db.open()
    calls: list[list[str]] = []

    def insert_many(conn: sqlite3.Connection, names: list[str]) -> list[str]:
        calls.append(list(names))
        for name in names:
            if name == "bad":
                conn.execute("INSERT INTO no_such_table VALUES (1)")
        conn.execute("INSERT INTO mailcatch_identity VALUES " + ",".join(["(?)"] * len(names)), names)
        return [name.upper() for name in names]

    async def main(names: list[str]) -> list[Any]:
        return await asyncio.gather(*(db.write_together(insert_many, name) for name in names), return_exceptions=True)

    try:
        assert asyncio.run(main(["a", "b", "c"])) == ["A", "B", "C"]
        assert calls == [["a", "b", "c"]]  # one call for the batch
        calls.clear()
        first, failed, last = asyncio.run(main(["d", "bad", "e"]))
        assert (first, last) == ("D", "E") and isinstance(failed, StoreError)
        assert calls == [["d", "bad", "e"], ["d"], ["bad"], ["e"]]  # the batch, then each job alone

        async def names() -> list[str]:
            return await db.read(lambda conn: [row[0] for row in conn.execute("SELECT id FROM mailcatch_identity")])

        assert asyncio.run(names())[1:] == ["a", "b", "c", "d", "e"]
    finally:
        db.close()


def test_a_message_that_shares_a_batch_with_a_failing_job_is_stored_whole(tmp_path: Path) -> None:
    """The batch is undone and rerun job by job: the message (with its session, for the transcript) is kept."""
    import time

    from mailcatch.events import EventBus
    from mailcatch.models import ReceivedEnvelope, SessionInfo, SessionLine, Transaction
    from mailcatch.storage.store import Store

    store = Store(str(tmp_path / "mail.db"), EventBus(), max_messages=0)
    store.open()

    def bad(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    async def main() -> tuple[Any, Any]:
        now = time.time()
        session = SessionInfo("session-1", "127.0.0.1:40000", now, "app.example")
        envelope = ReceivedEnvelope("a@example.com", [], ["b@example.com"], session.peer, "app.example", "", False, now)
        tx = Transaction(
            session, 0, 2, [SessionLine(now, "C", "MAIL FROM:<a@example.com>"), SessionLine(now, "S", "250 OK")]
        )
        busy = store.db.write(lambda conn: time.sleep(0.3))  # holds the writer, so the next two meet in a batch
        await asyncio.sleep(0.05)
        added = asyncio.ensure_future(store.add(b"Subject: kept\r\n\r\nbody\r\n", envelope, tx))
        await asyncio.sleep(0.05)
        failed = store.db.write(bad)
        await busy
        return tuple(await asyncio.gather(added, failed, return_exceptions=True))  # type: ignore[return-value]

    try:
        summary, error = asyncio.run(main())
        assert isinstance(error, StoreError)
        assert not isinstance(summary, Exception), f"the message was lost: {summary}"
        assert summary["Subject"] == "kept"

        async def check() -> dict[str, Any]:
            return await store.transcript(summary["ID"])

        transcript = asyncio.run(check())
        assert transcript["Session"]["ID"] == "session-1" and transcript["Lines"][0]["Text"].startswith("MAIL FROM")
        assert store.total == 1 and store.unread == 1
    finally:
        store.close()


def test_read_failures_become_store_errors_by_kind(tmp_path: Path) -> None:
    """A read that raises sqlite3.Error raises a StoreError: busy (503, may pass), damaged
    (with what to do), or another failure (500); never the sqlite3 exception itself."""
    db = Database(str(tmp_path / "mail.db"))
    db.open()

    def failing(error: sqlite3.Error) -> Any:
        def read(conn: sqlite3.Connection) -> None:
            raise error

        return read

    def raised(error: sqlite3.Error) -> BaseException:
        async def main() -> BaseException:
            try:
                await db.read(failing(error))
            except BaseException as caught:
                return caught
            raise AssertionError("the read did not fail")

        return asyncio.run(main())

    def coded(kind: type[sqlite3.Error], message: str, code: int) -> sqlite3.Error:
        error = kind(message)
        error.sqlite_errorcode = code  # type: ignore[attr-defined]
        return error

    try:
        damaged = raised(coded(sqlite3.DatabaseError, "database disk image is malformed", 11))
        assert isinstance(damaged, DatabaseDamaged)
        assert "is damaged" in str(damaged) and "restore the file from a copy" in str(damaged)
        busy = raised(coded(sqlite3.OperationalError, "database is locked", 5))
        assert type(busy) is StoreError and "could not be read" in str(busy)
        other = raised(coded(sqlite3.OperationalError, "disk I/O error", 10))
        assert isinstance(other, ReadFailed) and "disk I/O error" in str(other)
        assert isinstance(raised(sqlite3.InterfaceError("bad parameter")), ReadFailed)
    finally:
        db.close()
