"""Counting the matches of a search, and the unread among them, as cheaply as the indexes allow.

Counting is what takes long when a word is common. When every text term is a plain word
(letters and digits), the matches are counted from the word index instead of the trigrams
(see mailcatch.storage.search.vocabulary). A search for one term found in one word only,
and nothing else, needs no counting at all: the vocabulary keeps the number of messages
that have each word. Nor does a search for one `from:` term: the vocabulary of senders
keeps the number of messages from each. Otherwise a long range of messages is counted in
spans, side by side on reader threads, and the unread among the matches are told by
probing the rarer of the read and the unread messages.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import mailcatch.storage.search.vocabulary as vocabulary  # its look-ups called through it, for tests to spy on
from mailcatch.storage.database import Database
from mailcatch.storage.search.compile import Compiled, Unread
from mailcatch.storage.search.kept import Counted
from mailcatch.storage.search.shards import shards_of
from mailcatch.storage.search.vocabulary import ByWords, Senders

__all__ = [
    "FEW_PROBED",
    "LOOKED_UP",
    "SPLIT_SPAN",
    "Counting",
    "Snapshot",
    "Tally",
    "count_matches",
    "few_probed",
    "spans",
]

SPLIT_SPAN = 20_000
"""Counting over more seqs than this is split in parts counted at once on reader threads (a
common word's first count over 100,000 messages takes about 1.6 times less on 2 cores)."""
FEW_PROBED = 100
"""Up to this many read (or unread) messages are listed in a count's SQL rather than probed as a set."""
LOOKED_UP = 20
"""Up to this many, each is looked up on its own rather than checked against every match (one
lookup costs about as much as checking 3,000 matches)."""

Span = tuple[int, int]
"""Seqs from low (excluded) to high (included)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a search sees of the store and its index as it begins."""

    newest: int
    """The newest seq searched: committed (and, for a search through the full-text index, indexed)."""
    changes: int
    """The store's count of changes other than new messages."""
    unread: Unread


@dataclass(slots=True)
class Tally:
    """A search's counts over the messages up to seq `through`."""

    count: int
    unread: int
    through: int
    senders: Senders | None = None
    """The senders of a one-term `from:` search, when counting looked them up: its page may be listed from them."""


def spans(low: int, high: int) -> list[Span]:
    """(low, high] as one span, or as one per core (up to 4) when it is long."""
    if high - low <= SPLIT_SPAN:
        return [(low, high)]
    step = -(-(high - low) // min(4, os.cpu_count() or 1))
    return [(edge, min(edge + step, high)) for edge in range(low, high, step)]


def few_probed(conn: sqlite3.Connection, unread: Unread, span: Span) -> list[int] | None:
    """The seqs in (low, high] of the messages `unread` probes, when there are few: checking each
    match against a short list costs half as much as against the set."""
    if unread.probed is None:
        return None
    seqs = [
        row[0]
        for row in conn.execute(
            f"SELECT seq FROM messages WHERE read = {unread.probed} AND seq > ? AND seq <= ? LIMIT ?",
            (*span, FEW_PROBED + 1),
        )
    ]
    return seqs if len(seqs) <= FEW_PROBED else None


@dataclass(frozen=True, slots=True)
class Counting:
    """How one search is counted: its SQL, how its unread are told, and through which index."""

    compiled: Compiled
    unread: Unread
    words_match: str | None = None
    """A word-index query that stands in for the trigrams (see vocabulary.ByWords.match)."""

    def span(self, conn: sqlite3.Connection, span: Span) -> tuple[int, float]:
        """The matches with a seq in `span`, and the unread among them (a float: SQL's total())."""
        probed = few_probed(conn, self.unread, span)
        shards = shards_of(conn)
        if probed is not None and len(probed) <= LOOKED_UP:
            found = conn.execute(*self.compiled.count(Unread.NONE, span, self.words_match, shards=shards)).fetchone()[0]
            return found, self.unread_among(conn, found, probed)
        found, unread_found = conn.execute(
            *self.compiled.count(self.unread, span, self.words_match, probed, shards)
        ).fetchone()
        return found, unread_found

    def unread_among(self, conn: sqlite3.Connection, found: int, probed: Sequence[int]) -> int:
        """The unread among `found` matches, looking up each of the few `probed` (read or unread)."""
        shards = shards_of(conn)
        hits = sum(
            int(
                conn.execute(
                    *self.compiled.count(Unread.NONE, (seq - 1, seq), self.words_match, shards=shards)
                ).fetchone()[0]
            )
            for seq in probed
        )
        return hits if self.unread is Unread.PROBE_UNREAD else found - hits

    def whole(self, conn: sqlite3.Connection, messages: int, upto: int) -> Tally | None:
        """The counts of all `messages` matches up to seq `upto` (a vocabulary's count), if their unread are
        easily told."""
        if self.unread is Unread.ALL:
            return Tally(messages, messages, upto)
        if self.unread is Unread.NONE:
            return Tally(messages, 0, upto)
        probed = few_probed(conn, self.unread, (0, upto))
        if probed is None or len(probed) > LOOKED_UP:
            return None
        return Tally(messages, self.unread_among(conn, messages, probed), upto)

    def from_vocabulary(self, conn: sqlite3.Connection, words: ByWords) -> tuple[Tally | None, Senders | None]:
        """The counts of a one-word or one-sender search from a vocabulary, if the unread among them are
        easily told; and the senders looked up, if it is a `from:` search."""
        senders = None
        if self.compiled.sender is not None:
            senders = vocabulary.senders(conn, self.compiled.sender)
            messages, upto = senders.messages, senders.upto
        else:
            assert words.messages is not None
            messages, upto = words.messages, words.upto
        whole = self.whole(conn, messages, upto)
        if whole is not None:
            whole.senders = senders
        return whole, senders


async def count_matches(db: Database, compiled: Compiled, seen: Snapshot, known: Counted | None) -> Tally:
    """The counts of a search over the messages up to `seen.newest`: those `known` (kept from an
    earlier search) and the others counted."""
    new = [span for span in spans(known.through if known else 0, seen.newest) if span[1] > span[0]]
    if not new:
        return Tally(known.count, known.unread, seen.newest) if known else Tally(0, 0, seen.newest)
    words = (
        await db.read(lambda conn: vocabulary.by_words(conn, compiled.words))
        if compiled.words
        else vocabulary.TRIGRAMS_ONLY
    )
    counting = Counting(compiled, seen.unread, words.match)
    senders = None
    if known is None and compiled.where == "1" and (words.messages is not None or compiled.sender is not None):
        whole, senders = await db.read(lambda conn: counting.from_vocabulary(conn, words))
        if whole is not None:  # counted as of the index holding every message up to whole.through
            return whole
    counted = await _count_spans(db, counting, new) if words.match != "" else []  # "": a term is in no word
    return Tally(
        sum(part[0] for part in counted) + (known.count if known else 0),
        int(sum(part[1] for part in counted)) + (known.unread if known else 0),
        seen.newest,
        senders,
    )


async def _count_spans(db: Database, counting: Counting, parts: list[Span]) -> list[tuple[int, float]]:
    """The counts of each span, counted side by side on reader threads."""
    return await asyncio.gather(*(db.read(functools.partial(counting.span, span=span)) for span in parts))
