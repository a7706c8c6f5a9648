"""The SQLite store's writes: functions over the writer thread's connection, inside its group commit.

They change rows only; what the Store keeps in memory (counts, the next seq, which
sessions are stored) and what it publishes are the Store's to update.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from mailcatch import json_text
from mailcatch.models import SessionInfo
from mailcatch.storage.prepare import ROW_COLUMNS, Prepared
from mailcatch.storage.rows import named

__all__ = [
    "FORGET_ORPHAN_PIECES",
    "delete_all",
    "delete_where",
    "forget_orphan_pieces",
    "forget_pieces",
    "insert_messages",
    "mark_ids",
    "mark_up_to",
    "save_transcript_tail",
    "store_piece",
]

FORGET_ORPHAN_PIECES = (
    "DELETE FROM message_pieces WHERE owner NOT IN (SELECT pieces FROM message_data WHERE pieces IS NOT NULL)"
)
"""Run at start-up: deletes the pieces of a big message whose storing a crash cut short."""
_TABLES = ("message_tags", "message_pieces", "message_data", "transcript_chunks", "sessions", "messages")
"""Every table of stored messages, the referring ones first."""


def _insert_rows(conn: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]], conflict: str = "") -> None:
    """One INSERT of many rows: `table` is "name (column, ...)"."""
    marks = "(" + ",".join("?" * len(rows[0])) + ")"
    conn.execute(
        f"INSERT {conflict} INTO {table} VALUES {','.join([marks] * len(rows))}",
        [value for row in rows for value in row],
    )


def insert_messages(
    conn: sqlite3.Connection, seqs: Sequence[int], messages: Sequence[Prepared], sessions: Iterable[SessionInfo]
) -> None:
    """Insert new messages (with these seqs) and the `sessions` rows not stored yet: a statement per table for all."""
    _insert_rows(conn, f"messages (seq, {ROW_COLUMNS})", [(seq, *m.row) for seq, m in zip(seqs, messages, strict=True)])
    _insert_rows(
        conn,
        "message_data (seq, raw, pieces)",
        [(seq, m.raw if m.pieces is None else b"", m.pieces) for seq, m in zip(seqs, messages, strict=True)],
    )
    tags = [(seq, tag) for seq, m in zip(seqs, messages, strict=True) for tag in m.tags]
    if tags:
        _insert_rows(conn, "message_tags (seq, tag)", tags, "OR IGNORE")
    new_sessions = [(session.id, session.peer, session.started) for session in sessions]
    if new_sessions:
        _insert_rows(conn, "sessions (id, peer, started)", new_sessions, "OR IGNORE")
    _insert_rows(
        conn,
        "transcript_chunks (session_id, first_line, lines)",
        [(m.tx.session.id, m.tx.first_line, m.transcript) for m in messages],
        "OR REPLACE",
    )


def store_piece(conn: sqlite3.Connection, owner: int, piece: bytes) -> None:
    """Store one piece of a big message's bytes, under the key that will own them."""
    conn.execute("INSERT INTO message_pieces (owner, data) VALUES (?, ?)", (owner, piece))


def forget_pieces(conn: sqlite3.Connection, owner: int) -> None:
    """Delete the pieces of a big message that was not stored after all (unless a stored message names them)."""
    conn.execute(
        "DELETE FROM message_pieces WHERE owner = ? AND NOT EXISTS (SELECT 1 FROM message_data WHERE pieces = ?)",
        (owner, owner),
    )


def forget_orphan_pieces(conn: sqlite3.Connection) -> None:
    """Delete the pieces that no stored message owns (left by a crash)."""
    conn.execute(FORGET_ORPHAN_PIECES)


def save_transcript_tail(conn: sqlite3.Connection, session_id: str, first_line: int, lines: str) -> None:
    """Store a session's last transcript lines (`rows.lines_json`), if the session is still stored."""
    conn.execute(
        "INSERT OR REPLACE INTO transcript_chunks (session_id, first_line, lines)"
        " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)",
        (session_id, first_line, lines, session_id),
    )


def delete_where(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[sqlite3.Row]:
    """Delete the messages `where` selects, with their bytes, tags and (if no message is left of it) session.

    Returns the deleted messages' `seq, id, read, session_id`.
    """
    rows = named(conn).execute(f"SELECT seq, id, read, session_id FROM messages WHERE {where}", params).fetchall()
    if not rows:
        return []
    seqs = [(row["seq"],) for row in rows]
    conn.executemany("DELETE FROM message_pieces WHERE owner = (SELECT pieces FROM message_data WHERE seq = ?)", seqs)
    conn.executemany("DELETE FROM message_data WHERE seq = ?", seqs)
    conn.executemany("DELETE FROM message_tags WHERE seq = ?", seqs)
    conn.executemany("DELETE FROM messages WHERE seq = ?", seqs)
    conn.executemany(
        "DELETE FROM sessions WHERE id = ? AND NOT EXISTS (SELECT 1 FROM messages WHERE session_id = sessions.id)",
        {(row["session_id"],) for row in rows},
    )
    return rows


def delete_all(conn: sqlite3.Connection, in_flight: Collection[int] = ()) -> None:
    """Delete every message, session and transcript, and every message piece but those of `in_flight`.

    `in_flight` are the owner keys of big messages being stored: their pieces are written,
    their row is still to come, and it must find them all.
    """
    for table in _TABLES:
        if table == "message_pieces" and in_flight:
            conn.execute(
                "DELETE FROM message_pieces WHERE owner NOT IN (SELECT value FROM json_each(?))",
                (json_text.dumps(sorted(in_flight)),),
            )
        else:
            conn.execute(f"DELETE FROM {table}")


def _mark(conn: sqlite3.Connection, read: bool, where: str, params: Sequence[Any]) -> list[str]:
    """Mark the messages `where` selects, among those not marked so already; returns their IDs."""
    flag = 1 if read else 0
    rows = conn.execute(
        f"UPDATE messages SET read = ? WHERE read != ? AND {where} RETURNING id", (flag, flag, *params)
    ).fetchall()
    return [message_id for (message_id,) in rows]


def mark_ids(conn: sqlite3.Connection, read: bool, marks: str, ids: Sequence[str]) -> list[str]:
    """Mark these messages (`marks` is their `?,?,...`) read or unread; returns the IDs that changed."""
    return _mark(conn, read, f"id IN ({marks})", ids)


def mark_up_to(conn: sqlite3.Connection, read: bool, newest: int, limit: int) -> list[str]:
    """Mark read or unread up to `limit` of the messages up to seq `newest` not so marked; returns their IDs."""
    # The literal read value lets SQLite find the messages through a partial index.
    return _mark(
        conn,
        read,
        f"seq IN (SELECT seq FROM messages WHERE read = {0 if read else 1} AND seq <= ? LIMIT ?)",
        (newest, limit),
    )
