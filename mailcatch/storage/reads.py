"""The SQLite store's queries: functions over a connection, run on a reader thread (or, at start-up, the writer's)."""

from __future__ import annotations

import sqlite3

from mailcatch import json_text
from mailcatch.mail.parse import parse_message
from mailcatch.models import ReceivedEnvelope
from mailcatch.shapes import MessageSummary
from mailcatch.storage.interface import StoredMessage
from mailcatch.storage.prepare import MAX_INDEXED_BODY, search_fields
from mailcatch.storage.rows import MESSAGE_COLUMNS, SUMMARY_COLUMNS, named, stored_message, summary_json
from mailcatch.storage.search import Compiled
from mailcatch.storage.search.index import Fields
from mailcatch.storage.search.shards import shards_of
from mailcatch.storage.tags import tags_in_use

__all__ = [
    "count_messages",
    "identity",
    "load_for_index",
    "message",
    "newest_seq",
    "page_with_tags",
    "raw_bytes",
    "raw_page",
    "session_and_lines",
    "usage",
]

_MATCHED_MESSAGE_COLUMNS = ", ".join(f"m.{column.strip()}" for column in MESSAGE_COLUMNS.split(","))
"""MESSAGE_COLUMNS of `messages m`, as a search's SELECT names them."""


def count_messages(conn: sqlite3.Connection) -> tuple[int, int]:
    """How many messages there are, and how many of them are unread."""
    total: int = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    # Count whichever of the read and the unread are fewer (each has a partial index):
    # at a million messages, mostly unread, this takes 66 ms off the start-up.
    half = total // 2 + 1
    read: int = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE read = 1 LIMIT ?)", (half,)
    ).fetchone()[0]
    unread: int = (
        total - read if read < half else conn.execute("SELECT count(*) FROM messages WHERE read = 0").fetchone()[0]
    )
    return total, unread


def newest_seq(conn: sqlite3.Connection) -> int:
    """The highest seq ever given, even to a message since deleted (0: none yet)."""
    # Seqs are never reused, as AUTOINCREMENT promises, even after every message is deleted.
    newest: int = conn.execute(
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),"
        " coalesce((SELECT max(seq) FROM messages), 0))"
    ).fetchone()[0]
    return newest


def identity(conn: sqlite3.Connection) -> str:
    """The database's identity, which its search index records (see migration 0003)."""
    found: str = conn.execute("SELECT id FROM mailcatch_identity").fetchone()[0]
    return found


LOAD_ROWS = 256
"""Messages read back for the search index at a time, at most."""


def raw_bytes(conn: sqlite3.Connection, seq: int) -> bytes:
    """A stored message's bytes exactly as received (b"" if there is no such message)."""
    row = conn.execute("SELECT raw, pieces FROM message_data WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return b""
    raw, pieces = row
    if pieces is None:
        return bytes(raw)
    return b"".join(
        piece for (piece,) in conn.execute("SELECT data FROM message_pieces WHERE owner = ? ORDER BY id", (pieces,))
    )


def page_with_tags(conn: sqlite3.Connection, start: int, limit: int) -> tuple[list[MessageSummary], list[str]]:
    """A page of summaries, newest first, and every tag in use."""
    rows = (
        named(conn)
        .execute(f"SELECT {SUMMARY_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ? OFFSET ?", (limit, start))
        .fetchall()
    )
    return [summary_json(row) for row in rows], tags_in_use(conn)


def message(conn: sqlite3.Connection, message_id: str, raw: bool) -> StoredMessage | None:
    """One message by ID (or `latest`), with its bytes if `raw`; None if there is no such message."""
    where = "seq = (SELECT max(seq) FROM messages)" if message_id == "latest" else "id = ?"
    params = () if message_id == "latest" else (message_id,)
    row = named(conn).execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {where}", params).fetchone()
    if row is None:
        return None
    return stored_message(row, raw_bytes(conn, row["seq"]) if raw else b"")


def session_and_lines(conn: sqlite3.Connection, session_id: str) -> tuple[sqlite3.Row | None, list[str]]:
    """A session's `sessions` row (None if it is gone) and its transcript chunks, in order."""
    session = named(conn).execute("SELECT id, peer, started FROM sessions WHERE id = ?", (session_id,)).fetchone()
    chunks = [
        chunk
        for (chunk,) in conn.execute(
            "SELECT lines FROM transcript_chunks WHERE session_id = ? ORDER BY first_line", (session_id,)
        )
    ]
    return session, chunks


def raw_page(conn: sqlite3.Connection, compiled: Compiled, start: int, limit: int) -> tuple[int, list[StoredMessage]]:
    """How many messages a search matches, and one page of them with their bytes, newest first."""
    total: int = conn.execute(*compiled.count(shards=shards_of(conn))).fetchone()[0]
    rows = compiled.rows(named(conn), _MATCHED_MESSAGE_COLUMNS, start, limit)
    return total, [stored_message(row, raw_bytes(conn, row["seq"])) for row in rows]


def usage(conn: sqlite3.Connection) -> tuple[int, int]:
    """Bytes of the database's pages, and how many messages it has ever stored."""
    size = conn.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetchone()
    accepted = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
    return (size[0] if size else 0), (accepted[0] if accepted else 0)


def load_for_index(conn: sqlite3.Connection, after: int, before: int, max_bytes: int) -> list[tuple[int, Fields]]:
    """Search fields of the stored messages with `after` < seq < `before`, in order: as many as
    fit in `max_bytes` of raw message (at least one, at most LOAD_ROWS), each parsed only as far
    as search needs (the start of its bodies)."""
    rows = (
        named(conn)
        .execute(
            "SELECT seq, envelope, created, size FROM messages WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?",
            (after, before, LOAD_ROWS),
        )
        .fetchall()
    )
    loaded: list[tuple[int, Fields]] = []
    total = 0
    for row in rows:
        if loaded and total + row["size"] > max_bytes:
            break
        total += row["size"]
        parsed = parse_message(raw_bytes(conn, row["seq"]), measure_parts=False, text_limit=MAX_INDEXED_BODY)
        envelope = ReceivedEnvelope.from_json(json_text.loads(row["envelope"]), row["created"])
        loaded.append((row["seq"], search_fields(parsed, envelope)))
    return loaded
