"""Rows of the SQLite store read into what the rest of mailcatch uses: API summaries, stored messages, transcripts.

Rows are read by column name (`sqlite3.Row`, from a cursor made by `named`), so that a
column added to a SELECT can't shift what another one is read as.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from mailcatch import json_text
from mailcatch.models import Direction, ReceivedEnvelope, SessionLine, rfc3339
from mailcatch.shapes import MessageSummary, TranscriptJSON
from mailcatch.storage.interface import StoredMessage

__all__ = [
    "MESSAGE_COLUMNS",
    "SUMMARY_COLUMNS",
    "lines_json",
    "named",
    "new_summary",
    "stored_message",
    "summary_json",
    "transcript_json",
    "transcript_lines",
]

SUMMARY_COLUMNS = "seq, id, created, read, tags, summary"
"""The columns of `messages` an API summary is made of."""
MESSAGE_COLUMNS = SUMMARY_COLUMNS + ", envelope, session_id, tx_start, tx_end"
"""The columns of `messages` a StoredMessage is made of."""


def named(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor whose rows are read by column name."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row  # this cursor only: the hot paths elsewhere keep plain tuples
    return cursor


def new_summary(message_id: str, created: float, read: bool, tags: list[str], fixed: dict[str, Any]) -> MessageSummary:
    """The API summary of a message, in Mailpit's field order; `fixed` holds the fields that never change."""
    return {
        "ID": message_id,
        "MessageID": fixed["MessageID"],
        "Read": read,
        "From": fixed["From"],
        "To": fixed["To"],
        "Cc": fixed["Cc"],
        "Bcc": fixed["Bcc"],
        "ReplyTo": fixed["ReplyTo"],
        "Subject": fixed["Subject"],
        "Created": rfc3339(created),
        "Username": fixed["Username"],
        "Tags": tags,
        "Size": fixed["Size"],
        "Attachments": fixed["Attachments"],
        "Snippet": fixed["Snippet"],
    }


def summary_json(row: sqlite3.Row | Mapping[str, Any] | Sequence[Any]) -> MessageSummary:
    """The API summary of a row of SUMMARY_COLUMNS.

    A `sqlite3.Row` (or a mapping: the PostgreSQL store's rows) is read by name; a plain tuple (what the search package's reads give,
    which stay tuples to keep its big reads cheap) is read in SUMMARY_COLUMNS order.
    """
    if isinstance(row, (sqlite3.Row, Mapping)):
        message_id, created, read, tags, fixed = row["id"], row["created"], row["read"], row["tags"], row["summary"]
    else:
        _, message_id, created, read, tags, fixed = row
    return new_summary(message_id, created, bool(read), json_text.loads(tags), json_text.loads(fixed))


def stored_message(row: sqlite3.Row | Mapping[str, Any], raw: bytes) -> StoredMessage:
    """A StoredMessage from a row of MESSAGE_COLUMNS and the message's bytes."""
    created: float = row["created"]
    return StoredMessage(
        seq=row["seq"],
        id=row["id"],
        created=created,
        read=bool(row["read"]),
        tags=json_text.loads(row["tags"]),
        summary=summary_json(row),
        envelope=ReceivedEnvelope.from_json(json_text.loads(row["envelope"]), created),
        session_id=row["session_id"],
        tx_start=row["tx_start"],
        tx_end=row["tx_end"],
        raw=raw,
    )


def lines_json(lines: list[SessionLine]) -> str:
    """Transcript lines as stored in `transcript_chunks.lines`: a JSON list of [time, direction, text]."""
    return json_text.dumps([(line.time, line.dir, line.text) for line in lines])


def transcript_lines(chunks: Sequence[str]) -> list[tuple[float, Direction, str]]:
    """The lines of a session's transcript chunks (each a `lines_json` text), in the order given."""
    return [(line[0], line[1], line[2]) for chunk in chunks for line in json_text.loads(chunk)]


def transcript_json(
    message: StoredMessage, session: sqlite3.Row | Mapping[str, Any] | None, lines: list[tuple[float, Direction, str]]
) -> TranscriptJSON:
    """The API transcript of a message: its session (`sessions` row, None if gone), envelope and every line."""
    envelope = message.envelope
    return {
        "ID": message.id,
        "Session": {
            "ID": message.session_id,
            "Peer": session["peer"] if session else envelope.peer,
            "Helo": envelope.helo,
            "TLS": envelope.tls,
            "Username": envelope.username,
            "Started": rfc3339(session["started"] if session else message.created),
        },
        "Envelope": {"From": envelope.mail_from, "To": envelope.rcpt_to},
        "Transaction": {"Start": message.tx_start, "End": min(message.tx_end, len(lines))},
        "Lines": [{"Time": rfc3339(t), "Dir": d, "Text": text} for t, d, text in lines],
    }
