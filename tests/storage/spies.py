"""Spies on every way a search's count can go: which look-ups it made and what it counted."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from mailcatch.storage.search import vocabulary
from mailcatch.storage.search.counts import Counting, Span, Tally
from mailcatch.storage.search.vocabulary import ByWords, Senders


@dataclass
class Paths:
    """What counting did: the word look-ups, the senders looked up, the spans counted, the vocabularies' counts."""

    words: list[ByWords] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    spans: list[tuple[Span, str | None]] = field(default_factory=list)
    """Each span counted, with the word-index query it was counted through (None: the trigrams)."""
    whole: list[Tally | None] = field(default_factory=list)
    """What each count from a vocabulary gave (None: the unread were not easily told, so it was counted)."""

    def clear(self) -> None:
        for seen in (self.words, self.senders, self.spans, self.whole):
            seen.clear()


def spy_on_counting(monkeypatch: pytest.MonkeyPatch) -> Paths:
    """Record, in the Paths returned, how each search is counted from now on."""
    seen = Paths()
    by_words, senders, count_span, from_vocabulary = (
        vocabulary.by_words,
        vocabulary.senders,
        Counting.span,
        Counting.from_vocabulary,
    )

    def words_spy(conn: sqlite3.Connection, words: Sequence[str]) -> ByWords:
        seen.words.append(by_words(conn, words))
        return seen.words[-1]

    def senders_spy(conn: sqlite3.Connection, value: str) -> Senders:
        seen.senders.append(value)
        return senders(conn, value)

    def span_spy(self: Counting, conn: sqlite3.Connection, span: Span) -> tuple[int, float]:
        seen.spans.append((span, self.words_match))
        return count_span(self, conn, span)

    def whole_spy(self: Counting, conn: sqlite3.Connection, words: ByWords) -> tuple[Tally | None, Senders | None]:
        found = from_vocabulary(self, conn, words)
        seen.whole.append(found[0])
        return found

    monkeypatch.setattr(vocabulary, "by_words", words_spy)
    monkeypatch.setattr(vocabulary, "senders", senders_spy)
    monkeypatch.setattr(Counting, "span", span_spy)
    monkeypatch.setattr(Counting, "from_vocabulary", whole_spy)
    return seen
