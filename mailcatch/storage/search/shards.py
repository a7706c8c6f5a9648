"""The trigram index in shards: a full-text table per span of messages, and a view over them all.

FTS5 merges its segments a term at a time: a merge step can't stop inside a term, so it
rewrites that term's whole list of messages and positions in one transaction. In a single
table, a trigram that nearly every message has keeps such a list for every message ever
indexed: 30 to 140 MB after a million messages, each merge of it a leap of the write-ahead
log and a pause of indexing. A shard takes new messages only until SHARD_CHARS characters of
text went into it; then a new shard begins. A term's list in one shard is bounded by the
shard's text, and so is what a merge step writes.

Shards cover consecutive spans of seqs: shard `id` holds the messages from its `first` seq
to the next shard's `first` (excluded). The newest takes new messages; the older ones only
lose messages, and go once they are empty. The view `messages_fts` joins them (its column
`messages_fts` takes a MATCH, pushed down into each shard by SQLite) for look-ups of a few
messages; a page of matches is read from the newest shards until it is full, and counts add up
the shards' counts (see compile.py).
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["COLUMNS", "SCHEMA", "SHARD_CHARS", "VIEW", "Shard", "Shards", "shards_of"]

COLUMNS = "subject, sender, recipients, body, files"
"""The text a message is found by, a column each, in every shard (and the view)."""
VIEW = "messages_fts"
SHARD_CHARS = 32 * 1024 * 1024
"""Characters of text a shard takes before the next one begins. With 2 KB messages, about
20,000 messages a shard; its commonest trigram's list a few MB, and at most about this much
for text made of one repeated character."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS search_shards (
    id INTEGER PRIMARY KEY, first INTEGER NOT NULL, chars INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True, slots=True)
class Shard:
    """One full-text table and the first seq it holds."""

    id: int
    first: int

    @property
    def table(self) -> str:
        return f"messages_fts_{self.id}"


def shards_of(conn: sqlite3.Connection | sqlite3.Cursor) -> list[Shard]:
    """The index's shards, oldest first (read in the caller's transaction, for a consistent view)."""
    return [Shard(id, first) for id, first in conn.execute("SELECT id, first FROM search_shards ORDER BY id")]


def overlapping(shards: Sequence[Shard], low: int, high: int) -> Iterator[Shard]:
    """The shards that may hold messages with low < seq <= high, oldest first."""
    for number, shard in enumerate(shards):
        following = shards[number + 1].first if number + 1 < len(shards) else None
        if shard.first <= high and (following is None or following > low + 1):
            yield shard


class Shards:
    """The shards as the index thread keeps them: it alone writes them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.all = shards_of(conn)
        self.chars = 0
        """Characters of text in the newest shard."""
        if self.all:
            self.chars = conn.execute("SELECT chars FROM search_shards WHERE id = ?", (self.all[-1].id,)).fetchone()[0]

    @property
    def newest(self) -> Shard:
        return self.all[-1]

    def for_new(self, first: int, chars: int) -> Shard:
        """The shard that takes new messages from seq `first` with `chars` of text, begun anew when the newest is full."""
        if self.chars >= SHARD_CHARS and first > self.newest.first:
            self._add(first)
        self.chars += chars
        self._conn.execute("UPDATE search_shards SET chars = ? WHERE id = ?", (self.chars, self.newest.id))
        return self.newest

    def holding(self, seqs: Sequence[int]) -> dict[Shard, list[int]]:
        """These seqs by the shard that would hold each."""
        firsts = [shard.first for shard in self.all]
        grouped: dict[Shard, list[int]] = {}
        for seq in seqs:
            number = bisect.bisect_right(firsts, seq) - 1
            if number >= 0:
                grouped.setdefault(self.all[number], []).append(seq)
        return grouped

    def drop_empty(self, candidates: Sequence[Shard]) -> None:
        """Drop those of these shards that hold no message any more, but never the newest."""
        empty = [
            shard
            for shard in candidates
            if shard != self.newest
            and shard in self.all
            and self._conn.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {shard.table}_docsize)").fetchone()[0]
        ]
        for shard in empty:
            self._conn.execute(f"DROP TABLE {shard.table}")
            self._conn.execute("DELETE FROM search_shards WHERE id = ?", (shard.id,))
            self.all.remove(shard)
        if empty:
            self._make_view()

    def clear(self) -> None:
        """Drop every shard and begin one anew (in the caller's transaction)."""
        for shard in self.all:
            self._conn.execute(f"DROP TABLE {shard.table}")
        self._conn.execute("DELETE FROM search_shards")
        self.all = []
        self._add(0)

    def _add(self, first: int) -> None:
        number = self.all[-1].id + 1 if self.all else 1
        shard = Shard(number, first)
        self._conn.execute(f"CREATE VIRTUAL TABLE {shard.table} USING fts5 ({COLUMNS}, tokenize = 'trigram')")
        self._conn.execute("INSERT INTO search_shards (id, first) VALUES (?, ?)", (shard.id, shard.first))
        self.all.append(shard)
        self.chars = 0
        self._make_view()

    def _make_view(self) -> None:
        self._conn.execute(f"DROP VIEW IF EXISTS {VIEW}")
        self._conn.execute(
            f"CREATE VIEW {VIEW} AS "
            + " UNION ALL ".join(
                f"SELECT rowid AS rowid, {shard.table} AS {VIEW}, {COLUMNS} FROM {shard.table}" for shard in self.all
            )
        )
