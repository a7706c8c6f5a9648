"""Recent searches' counts, kept so that paging, or a search refreshed as mail arrives, counts only what is new."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["COUNTS_KEPT", "Counted", "KeptCounts"]

COUNTS_KEPT = 64
"""Searches whose counts a Searcher keeps."""


@dataclass(frozen=True, slots=True)
class Counted:
    """The counts of one search, valid while the store's `changes` stays the same; messages
    added since (seq above `through`) are counted on top of them."""

    changes: int
    through: int
    count: int
    unread: int


class KeptCounts:
    """The counts of the last COUNTS_KEPT searches, by a key that tells one search from another.

    Only new messages leave counts valid: they are counted on top. Anything else the store
    changes (a deletion, read state, tags) moves its `changes`, and the counts are dropped.
    """

    def __init__(self) -> None:
        self._kept: dict[Hashable, Counted] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def take(self, key: Hashable, changes: int, newest: int) -> Counted | None:
        """The counts kept for `key`, if still valid with the store at `changes` and its newest seq at
        `newest`; they are no longer kept until `keep` gives them back."""
        known = self._kept.pop(key, None)
        if known is None or known.changes != changes or known.through > newest:
            return None
        return known

    def keep(self, key: Hashable, counted: Counted) -> None:
        """Keep the counts of `key`, forgetting the least recently kept beyond COUNTS_KEPT."""
        self._kept[key] = counted
        while len(self._kept) > COUNTS_KEPT:
            del self._kept[next(iter(self._kept))]
