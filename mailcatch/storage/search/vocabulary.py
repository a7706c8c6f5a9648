"""Look-ups in the search index's vocabularies: the words a term is part of, and the senders.

The vocabulary gives the words that contain each plain-word term (`meet` is in `meeting`
and `meetings`), and the word index the messages with one of them: the same messages as
the trigrams find, because such a term can only occur within a word. The vocabulary also
keeps the number of messages that have each word, and a vocabulary of senders the number
of messages from each (a message has one sender, so the counts of those a `from:` term is
part of add up) and which messages they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mailcatch.storage.search.compile import SUMMARY_COLUMNS, phrase

__all__ = [
    "MAX_WORD_FORMS",
    "SENDER_PAGE_MESSAGES",
    "SENDER_PAGE_SENDERS",
    "ByWords",
    "Senders",
    "by_words",
    "sender_page",
    "senders",
]

MAX_WORD_FORMS = 64
"""Vocabulary words containing a term that a count through the word index may take; past
this (a term such as `com`), the count goes through the trigrams."""
SENDER_PAGE_MESSAGES = 5000
"""A one-term `from:` search whose senders have up to this many messages between them lists its
page from the messages of those senders; for more, the trigrams find the newest matches quickly."""
SENDER_PAGE_SENDERS = 500
"""...and whose term is part of up to this many senders."""
_INDEXED_UPTO = "(SELECT value FROM search_meta WHERE key = 'upto')"
"""The seq the search index holds every message up to: read in the same statement as a
vocabulary's count, so that the two agree."""


@dataclass(frozen=True, slots=True)
class ByWords:
    """How the matches of plain words are counted through the word index."""

    match: str | None
    """A word-index query for messages with, for each term, a word that contains it: "" if some
    term is in no word, None if one is in too many (they are counted through the trigrams)."""
    messages: int | None = None
    """For a single term found in one word only: the number of messages with that word..."""
    upto: int = 0
    """...when the index held every message up to this seq."""


TRIGRAMS_ONLY = ByWords(None)
"""Words that are not counted through the word index."""


def by_words(conn: sqlite3.Connection, words: Sequence[str]) -> ByWords:
    """How to count the messages that have every one of these plain words (as parts of words)."""
    groups = []
    for term in words:
        forms = [
            row[0]
            for row in conn.execute(
                "SELECT w.word FROM search_words_fts f JOIN search_words w ON w.id = f.rowid"
                " WHERE search_words_fts MATCH ? AND w.messages > 0 LIMIT ?",
                (phrase(term), MAX_WORD_FORMS + 1),
            )
        ]
        if len(forms) > MAX_WORD_FORMS:
            return ByWords(None)
        if not forms:
            return ByWords("")
        groups.append("(" + " OR ".join(map(phrase, forms)) + ")")
    if len(words) > 1 or len(forms) > 1:
        return ByWords(" AND ".join(groups))
    messages, upto = conn.execute(
        f"SELECT messages, {_INDEXED_UPTO} FROM search_words WHERE word = ?", (forms[0],)
    ).fetchone()
    return ByWords(groups[0], messages, int(upto))


@dataclass(slots=True)
class Senders:
    """The senders a `from:` term is part of."""

    messages: int
    """How many messages they sent..."""
    upto: int
    """...when the index held every message up to this seq."""
    ids: list[int] | None
    """Their ids, when few enough for the page to be listed from their messages."""


def senders(conn: sqlite3.Connection, value: str) -> Senders:
    """The senders `value` is part of: one lookup both counts the matches and lists their page."""
    messages, count, ids, upto = conn.execute(
        "SELECT total(s.messages), count(*), group_concat(s.id), " + _INDEXED_UPTO + " FROM search_senders_fts f"
        " JOIN search_senders s ON s.id = f.rowid WHERE search_senders_fts MATCH ? AND s.messages > 0",
        (phrase(value),),
    ).fetchone()
    few = 0 < count <= SENDER_PAGE_SENDERS and messages <= SENDER_PAGE_MESSAGES
    return Senders(int(messages), int(upto), [int(id) for id in ids.split(",")] if few else None)


def sender_page(conn: sqlite3.Connection, ids: list[int], newest: int, limit: int, start: int) -> list[Any]:
    """Rows (SUMMARY_COLUMNS) of a page of the messages (up to seq `newest`) from these senders."""
    return conn.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM sender_messages x JOIN messages m ON m.seq = x.seq"
        f" WHERE x.sender IN ({','.join('?' * len(ids))}) AND x.seq <= ? ORDER BY x.seq DESC LIMIT ? OFFSET ?",
        [*ids, newest, limit, start],
    ).fetchall()
