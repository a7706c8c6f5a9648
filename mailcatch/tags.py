"""Message tags as Mailpit has them: from X-Tags and plus-addressing, set, renamed and deleted through the API.

A message's tags live twice: in order in `messages.tags` (JSON, what the API shows) and
one row per tag in `message_tags` (what `tag:` searches and the tag list read). Every
change here rewrites both in one transaction and publishes an `update` event.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from mailcatch import json_text
from mailcatch.database import in_chunks
from mailcatch.models import Event

if TYPE_CHECKING:
    from mailcatch.store import Store

__all__ = ["clean_tags", "delete_tag", "plus_tags", "rename_tag", "set_tags", "tag_counts", "with_plus_tags"]

MAX_TAG_LENGTH = 100


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags with whitespace collapsed, empty ones dropped and repeats (ignoring case) removed, in order."""
    seen: dict[str, str] = {}
    for tag in tags:
        tag = " ".join(tag.split())[:MAX_TAG_LENGTH]
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return list(seen.values())


def plus_tags(addresses: Iterable[str]) -> list[str]:
    """Tags from plus-addressed recipients: `user+tag@example.com` gives `tag`."""
    tags = []
    for address in addresses:
        local = address.rpartition("@")[0] if "@" in address else ""
        _, plus, tag = local.partition("+")
        if plus and tag:
            tags.append(tag)
    return clean_tags(tags)


def with_plus_tags(tags: Sequence[str], addresses: Iterable[str]) -> list[str]:
    """A message's own tags (X-Tags) followed by those of its plus-addressed recipients."""
    return clean_tags([*tags, *plus_tags(addresses)])


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
