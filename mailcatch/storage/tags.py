"""Message tags as stored: the SQL that sets, renames, deletes and lists them, as functions over a connection.

A message's tags live twice: sorted (ignoring case) in `messages.tags` (JSON, what the API shows) and
one row per tag in `message_tags` (what `tag:` searches and the tag list read). Every
change here rewrites both, inside the caller's transaction; the Store runs these on its
writer thread and publishes what changed. Tag text is cleaned by mailcatch.mail.tags.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from mailcatch import json_text
from mailcatch.mail.tags import clean_tags
from mailcatch.storage.database import in_chunks

__all__ = ["Retagged", "edit_tag", "set_tags", "tag_counts", "tags_in_use"]

Retagged = list[tuple[str, list[str]]]
"""The messages whose tags changed: (message ID, its tags now) each."""

_TAGS_IN_USE = """
WITH RECURSIVE found(tag) AS (
    SELECT min(tag) FROM message_tags
    UNION ALL
    SELECT (SELECT min(tag) FROM message_tags WHERE tag > found.tag) FROM found WHERE found.tag IS NOT NULL
)
SELECT tag FROM found WHERE tag IS NOT NULL
"""


def _rewrite(conn: sqlite3.Connection, seq: int, tags: list[str]) -> None:
    conn.execute("UPDATE messages SET tags = ? WHERE seq = ?", (json_text.dumps(tags), seq))
    conn.execute("DELETE FROM message_tags WHERE seq = ?", (seq,))
    conn.executemany("INSERT OR IGNORE INTO message_tags (seq, tag) VALUES (?, ?)", [(seq, tag) for tag in tags])


def _spelled_as_stored(conn: sqlite3.Connection, tags: list[str]) -> list[str]:
    """Each tag as a message already spells it (tags are one whatever their case, as in Mailpit), in order."""
    spelled = []
    for tag in tags:
        found = conn.execute("SELECT tag FROM message_tags WHERE tag = ? LIMIT 1", (tag,)).fetchone()
        spelled.append(found[0] if found else tag)
    return clean_tags(spelled)


def set_tags(conn: sqlite3.Connection, ids: Sequence[str], tags: list[str]) -> Retagged:
    """Give these messages exactly `tags` (already clean); the messages that exist are changed.

    A tag some message already has keeps that message's spelling (`Later` stays `Later` when
    `later` is set), as Mailpit keeps one spelling of each tag.
    """
    tags = _spelled_as_stored(conn, tags)
    changed = []
    for marks, chunk in in_chunks(ids):
        for seq, message_id in conn.execute(f"SELECT seq, id FROM messages WHERE id IN ({marks})", chunk):
            _rewrite(conn, seq, tags)
            changed.append((message_id, tags))
    return changed


def edit_tag(conn: sqlite3.Connection, tag: str, replacement: str | None) -> Retagged:
    """Rename a tag on every message that has it (remove it when `replacement` is None)."""
    rows = conn.execute(
        "SELECT m.seq, m.id, m.tags FROM messages m JOIN message_tags t ON t.seq = m.seq WHERE t.tag = ?", (tag,)
    ).fetchall()
    changed = []
    for seq, message_id, tags_json in rows:
        old: list[str] = json_text.loads(tags_json)
        if replacement is None:
            new = [t for t in old if t.lower() != tag.lower()]
        else:
            new = clean_tags(replacement if t.lower() == tag.lower() else t for t in old)
        _rewrite(conn, seq, new)
        changed.append((message_id, new))
    return changed


def tag_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Each tag in use with its number of messages, by tag name."""
    rows = conn.execute("SELECT tag, count(*) FROM message_tags GROUP BY tag ORDER BY tag")
    return {tag: count for tag, count in rows}


def tags_in_use(conn: sqlite3.Connection) -> list[str]:
    """Every tag in use, sorted; one index seek per tag, however many messages carry it."""
    return [tag for (tag,) in conn.execute(_TAGS_IN_USE)]
