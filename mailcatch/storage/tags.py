"""Message tags as stored: set, renamed and deleted through the API.

A message's tags live twice: in order in `messages.tags` (JSON, what the API shows) and
one row per tag in `message_tags` (what `tag:` searches and the tag list read). Every
change here rewrites both in one transaction and publishes an `update` event.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mailcatch import json_text
from mailcatch.mail.tags import clean_tags
from mailcatch.models import Event
from mailcatch.storage.database import in_chunks

if TYPE_CHECKING:
    from mailcatch.storage.store import Store

__all__ = ["delete_tag", "rename_tag", "set_tags", "tag_counts"]

def _rewrite(conn: sqlite3.Connection, seq: int, tags: list[str]) -> None:
    conn.execute("UPDATE messages SET tags = ? WHERE seq = ?", (json_text.dumps(tags), seq))
    conn.execute("DELETE FROM message_tags WHERE seq = ?", (seq,))
    conn.executemany("INSERT OR IGNORE INTO message_tags (seq, tag) VALUES (?, ?)", [(seq, tag) for tag in tags])


def _publish(store: Store, changed: list[tuple[str, list[str]]]) -> None:
    store.changes += 1
    store.publish_changes([Event("update", {"ID": message_id, "Tags": tags}) for message_id, tags in changed],
                          Event("update", {"ID": "*"}))


async def set_tags(store: Store, ids: Sequence[str], tags: Sequence[str]) -> list[str]:
    """Replace the tags of these messages (an empty list removes them all); returns the IDs that exist."""
    wanted = list(dict.fromkeys(ids))
    new_tags = clean_tags(tags)

    def apply(conn: sqlite3.Connection) -> list[tuple[str, list[str]]]:
        changed = []
        for marks, chunk in in_chunks(wanted):
            for seq, message_id in conn.execute(f"SELECT seq, id FROM messages WHERE id IN ({marks})", chunk):
                _rewrite(conn, seq, new_tags)
                changed.append((message_id, new_tags))
        return changed

    changed: list[tuple[str, list[str]]] = await store.db.write(apply)
    _publish(store, changed)
    return [message_id for message_id, _ in changed]


async def _edit_tag(store: Store, tag: str, replacement: str | None) -> int:
    """Rename a tag on every message (or remove it when `replacement` is None); returns how many changed."""
    def apply(conn: sqlite3.Connection) -> list[tuple[str, list[str]]]:
        rows = conn.execute("SELECT m.seq, m.id, m.tags FROM messages m JOIN message_tags t ON t.seq = m.seq"
                            " WHERE t.tag = ?", (tag,)).fetchall()
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

    changed: list[tuple[str, list[str]]] = await store.db.write(apply)
    _publish(store, changed)
    return len(changed)


async def rename_tag(store: Store, tag: str, name: str) -> int:
    """Rename a tag on every message that has it; returns how many messages changed."""
    return await _edit_tag(store, tag, name)


async def delete_tag(store: Store, tag: str) -> int:
    """Remove a tag from every message (the messages stay); returns how many messages changed."""
    return await _edit_tag(store, tag, None)


async def tag_counts(store: Store) -> dict[str, int]:
    """Each tag in use with its number of messages, by tag name."""
    def query(conn: sqlite3.Connection) -> dict[str, int]:
        rows: list[Any] = conn.execute("SELECT tag, count(*) FROM message_tags GROUP BY tag ORDER BY tag").fetchall()
        return {tag: count for tag, count in rows}

    return await store.db.read(query)
