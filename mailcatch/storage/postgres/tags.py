"""Tags on PostgreSQL: the SQL that sets, renames, deletes and lists them, inside the caller's transaction.

As in the SQLite store (mailcatch.storage.tags), a message's tags live twice: in order in
`messages.tags` (JSON, what the API shows) and one row per tag in `message_tags`; a tag is
one whatever its case, and keeps the spelling a message already gives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from mailcatch import json_text
from mailcatch.mail.tags import clean_tags

__all__ = ["Retagged", "edit_tag", "set_tags", "tag_counts", "tags_in_use"]

Retagged = list[tuple[str, list[str]]]
"""The messages whose tags changed: (message ID, its tags now) each."""


async def _rewrite(conn: AsyncConnection[Any], seq: int, tags: list[str]) -> None:
    await conn.execute("UPDATE messages SET tags = %s WHERE seq = %s", (json_text.dumps(tags), seq))
    await conn.execute("DELETE FROM message_tags WHERE seq = %s", (seq,))
    if tags:
        await conn.execute(
            "INSERT INTO message_tags (seq, tag) SELECT %s, unnest(%s::text[]) ON CONFLICT DO NOTHING", (seq, tags)
        )


async def set_tags(conn: AsyncConnection[Any], ids: Sequence[str], tags: list[str]) -> Retagged:
    """Give these messages exactly `tags` (already clean), each spelled as a message already spells it."""
    spelled = []
    for tag in tags:
        cursor = await conn.execute("SELECT tag FROM message_tags WHERE lower(tag) = lower(%s) LIMIT 1", (tag,))
        found = await cursor.fetchone()
        spelled.append(found[0] if found else tag)
    tags = clean_tags(spelled)
    cursor = await conn.execute("SELECT seq, id FROM messages WHERE id = ANY(%s) ORDER BY seq", (list(ids),))
    changed = []
    for seq, message_id in await cursor.fetchall():
        await _rewrite(conn, seq, tags)
        changed.append((message_id, tags))
    return changed


async def edit_tag(conn: AsyncConnection[Any], tag: str, replacement: str | None) -> Retagged:
    """Rename a tag on every message that has it (remove it when `replacement` is None)."""
    cursor = await conn.execute(
        "SELECT m.seq, m.id, m.tags FROM messages m JOIN message_tags t ON t.seq = m.seq"
        " WHERE lower(t.tag) = lower(%s) ORDER BY m.seq FOR UPDATE OF m",
        (tag,),
    )
    changed = []
    for seq, message_id, tags_json in await cursor.fetchall():
        old: list[str] = json_text.loads(tags_json)
        if replacement is None:
            new = [t for t in old if t.lower() != tag.lower()]
        else:
            new = clean_tags(replacement if t.lower() == tag.lower() else t for t in old)
        await _rewrite(conn, seq, new)
        changed.append((message_id, new))
    return changed


async def tag_counts(conn: AsyncConnection[Any]) -> dict[str, int]:
    """Each tag in use with its number of messages, by tag name."""
    cursor = await conn.execute(
        "SELECT min(tag), count(*) FROM message_tags GROUP BY lower(tag) ORDER BY lower(tag), min(tag)"
    )
    return {tag: count for tag, count in await cursor.fetchall()}


async def tags_in_use(conn: AsyncConnection[Any]) -> list[str]:
    """Every tag in use, sorted (ignoring case)."""
    cursor = await conn.execute("SELECT min(tag) FROM message_tags GROUP BY lower(tag) ORDER BY lower(tag)")
    return [tag for (tag,) in await cursor.fetchall()]
