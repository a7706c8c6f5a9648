"""Running searches over a store: a page of matches with their counts, every match's ID, `latest` by query.

A Searcher reads the store's database and search index, and reads the store's counters
(never writes them): its kept counts are its own, valid while the store's `changes` stays
the same.
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import mailcatch.storage.search.vocabulary as vocabulary  # its look-ups called through it, for tests to spy on
from mailcatch.shapes import MessageSummary
from mailcatch.storage.database import Database
from mailcatch.storage.rows import summary_json
from mailcatch.storage.search.compile import SUMMARY_COLUMNS, Compiled, Unread, compile_terms
from mailcatch.storage.search.counts import Snapshot, Tally, count_matches
from mailcatch.storage.search.index import SearchIndex
from mailcatch.storage.search.kept import Counted, KeptCounts
from mailcatch.storage.search.query import Term, terms_of

__all__ = ["SearchResult", "Searcher", "StoreState"]


class StoreState(Protocol):
    """The counters of a store that a search reads."""

    @property
    def changes(self) -> int:
        """Moves with every change other than a new message (deletions, read state, tags)."""

    @property
    def total(self) -> int: ...

    @property
    def unread(self) -> int: ...


@dataclass(slots=True)
class SearchResult:
    """One page of matching summaries, newest first, with counts over every match."""

    messages: list[MessageSummary]
    count: int
    unread: int
    partial: str | None = None
    """Why matches may be missing (the search index is behind, or could not be updated); None: complete."""
    unindexed: int = 0
    """Stored messages the search could not look into: not in the search index yet."""


class Searcher:
    """Searches a store's messages through its search index, keeping recent searches' counts."""

    def __init__(self, db: Database, index: SearchIndex, state: StoreState) -> None:
        self._db = db
        self._index = index
        self._state = state
        self.kept = KeptCounts()

    async def search(
        self, query: str | Sequence[Term], start: int = 0, limit: int = 50, zone: datetime.tzinfo | None = None
    ) -> SearchResult:
        """One page of the messages matching a query (newest first), with the number matching and unread.

        Counting every match of a common word is the slow part of a search, so the counts are
        kept: paging through the results, or a search refreshed as mail arrives, counts only
        the messages added since, until something else changes (a deletion, read state, tags).
        """
        compiled = compile_terms(terms_of(query), zone)
        stored = self._index.newest  # what the search should see: what was stored when it began
        whole = await self._index.flush()
        seen = self._snapshot(compiled)
        key = (seen.unread, compiled.key)
        tally = await count_matches(self._db, compiled, seen, self.kept.take(key, seen.changes, seen.newest))
        messages = await self._page(compiled, tally, start, limit) if tally.count > start else []
        if whole:  # counts of an index that lacks changes (a deletion) would be kept wrong
            self.kept.keep(key, Counted(seen.changes, tally.through, tally.count, tally.unread))
        partial, unindexed = await self._partial(seen, stored) if compiled.match is not None else (None, 0)
        return SearchResult(messages, tally.count, tally.unread, partial, unindexed)

    async def matching_ids(
        self, query: str | Sequence[Term], zone: datetime.tzinfo | None = None, limit: int | None = None
    ) -> list[str]:
        """IDs of the messages matching a query, newest first (at most `limit` of them)."""
        compiled = compile_terms(terms_of(query), zone)
        await self._index.flush()
        return await self._db.read(lambda conn: [row[0] for row in compiled.rows(conn, "m.id", limit=limit)])

    async def _partial(self, seen: Snapshot, stored: int) -> tuple[str | None, int]:
        """Why a full-text search's results may be incomplete (None: they are complete), and how many of
        the messages stored when it began (up to seq `stored`) it could not look into: those not indexed."""
        failure = self._index.failure
        unindexed = 0
        if stored > seen.newest:
            sql = "SELECT count(*) FROM messages WHERE seq > ? AND seq <= ?"
            unindexed = await self._db.read(lambda conn: int(conn.execute(sql, (seen.newest, stored)).fetchone()[0]))
        behind = f"{unindexed} message{'' if unindexed == 1 else 's'} behind"
        if failure is not None:
            return f"the search index could not be updated ({failure})" + (
                f"; it is {behind}" if unindexed else ""
            ), unindexed
        if unindexed:
            return f"the search index is {behind}", unindexed
        return None, 0

    def _snapshot(self, compiled: Compiled) -> Snapshot:
        """What the search sees: the messages stored (and, for the full-text index, indexed) so far;
        any stored meanwhile wait for the next search."""
        newest = self._index.newest if compiled.match is None else self._index.upto
        return Snapshot(newest, self._state.changes, Unread.among(self._state.total, self._state.unread))

    async def _page(self, compiled: Compiled, tally: Tally, start: int, limit: int) -> list[MessageSummary]:
        """The summaries of one page of the matches up to `tally.through`, newest first."""
        by_senders = compiled.sender is not None and compiled.where == "1"

        def rows(conn: sqlite3.Connection) -> list[MessageSummary]:
            found = _sender_rows(conn, compiled, tally, start, limit) if by_senders else None
            if found is None:
                found = compiled.up_to(tally.through).rows(conn, SUMMARY_COLUMNS, start, limit)
            return [summary_json(row) for row in found]

        return await self._db.read(rows)


def _sender_rows(
    conn: sqlite3.Connection, compiled: Compiled, tally: Tally, start: int, limit: int
) -> list[Any] | None:
    """A one-term `from:` search's page, listed from the messages of its senders when they are few
    (None: find it through the trigrams)."""
    assert compiled.sender is not None
    senders = tally.senders or vocabulary.senders(conn, compiled.sender)
    if senders.ids is None or senders.upto < tally.through:  # too many, or the index is behind the page
        return None
    return vocabulary.sender_page(conn, senders.ids, tally.through, limit, start)
