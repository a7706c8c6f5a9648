"""Look-ups of one message that the SMTP side's options ask for: a Message-ID already stored, a new message
matching a tag filter's search. Functions over a reader connection."""

from __future__ import annotations

import sqlite3

from mailcatch.storage.search import Compiled

__all__ = ["has_message_id", "message_matches"]


def has_message_id(conn: sqlite3.Connection, message_id: str) -> bool:
    """Whether a stored message has this Message-ID (as stored: without its angle brackets)."""
    sql = "SELECT 1 FROM messages WHERE message_id = ? LIMIT 1"
    return conn.execute(sql, (message_id,)).fetchone() is not None


def message_matches(conn: sqlite3.Connection, message_id: str, compiled: Compiled) -> bool:
    """Whether the message with this ID matches a compiled search (looked up by its seq, not by a scan)."""
    row = conn.execute("SELECT seq FROM messages WHERE id = ?", (message_id,)).fetchone()
    if row is None:
        return False
    seq = row[0]
    sql = f"SELECT 1 FROM messages m WHERE m.seq = ? AND {compiled.where}"
    params = [seq, *compiled.params]
    if compiled.match is not None:
        sql += " AND EXISTS (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ? AND rowid = ?)"
        params += [compiled.match, seq]
    return conn.execute(sql, params).fetchone() is not None
