"""A Searcher reads the store's counters and never writes them; its kept counts are its own."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mailcatch.errors import HTTPError, MessageNotFound, QueryError
from mailcatch.storage.interface import resolve_latest
from mailcatch.storage.search import Term
from mailcatch.storage.search.kept import COUNTS_KEPT, Counted, KeptCounts
from mailcatch.storage.store import Store
from tests.helpers import run_async
from tests.storage.mailbox import add, searcher_over
from tests.storage.spies import Paths


@dataclass(frozen=True)
class Frozen:
    """Counters that can't be written: a search that tried would fail."""

    changes: int
    total: int
    unread: int


@dataclass
class Movable:
    changes: int
    total: int
    unread: int


def test_a_search_only_reads_the_counters(store: Store) -> None:
    async def scenario() -> None:
        first = await add(store, "alpha 1")
        second = await add(store, "alpha 2")
        state = Frozen(store.changes, store.total, store.unread)
        searcher = searcher_over(store, state)
        result = await searcher.search("alpha")
        assert (result.count, result.unread) == (2, 2)
        assert [m["ID"] for m in result.messages] == [second, first]
        assert await searcher.matching_ids("alpha") == [second, first]
        assert await resolve_latest("latest", "alpha 1", searcher.matching_ids) == first
        assert state == Frozen(store.changes, store.total, store.unread)

    run_async(scenario())


def test_kept_counts_go_when_the_change_counter_moves(store: Store, paths: Paths) -> None:
    """The searcher's counts are valid while `changes` stays; it moves, and they are counted again."""

    async def scenario() -> None:
        for subject in ("alpha 1", "alpha 2", "beta"):
            await add(store, subject)
        state = Movable(0, 3, 3)
        searcher = searcher_over(store, state)
        assert (await searcher.search("alpha subject:alpha")).count == 2
        assert paths.spans == [((0, 3), None)]
        paths.clear()
        assert (await searcher.search("alpha subject:alpha")).count == 2
        assert paths.spans == []
        state.changes += 1  # nothing changed in the database, but the searcher can't know
        assert (await searcher.search("alpha subject:alpha")).count == 2
        assert paths.spans == [((0, 3), None)]
        assert len(searcher.kept) == 1 and len(store.searcher.kept) == 0  # each searcher's counts are its own

    run_async(scenario())


def test_latest_by_query(store: Store) -> None:
    async def scenario() -> None:
        first = await add(store, "alpha 1")
        await add(store, "beta 1")
        assert await store.resolve_id("latest", "alpha") == first
        assert await store.resolve_id("latest", "  ") == "latest"  # no query: the newest message, as without one
        assert await store.resolve_id("some-id", "alpha") == "some-id"
        with pytest.raises(MessageNotFound, match="no message matches 'gamma'") as raised:
            await store.resolve_id("latest", "gamma")
        assert not isinstance(raised.value, HTTPError)
        with pytest.raises(QueryError):
            await store.resolve_id("latest", 'subject:"a\x00b"')

    run_async(scenario())


def test_matching_ids_newest_first_and_limited(store: Store) -> None:
    async def scenario() -> None:
        ids = [await add(store, f"alpha {n}") for n in range(5)]
        assert await store.matching_ids("alpha") == ids[::-1]
        assert await store.matching_ids([Term("subject", "alpha")], limit=2) == ids[:2:-1]
        assert await store.matching_ids("alpha -subject:3") == [ids[4], *ids[2::-1]]

    run_async(scenario())


def test_kept_counts_are_taken_while_valid_and_the_oldest_forgotten() -> None:
    kept = KeptCounts()
    kept.keep("a", Counted(changes=1, through=10, count=4, unread=2))
    assert kept.take("a", changes=1, newest=12) == Counted(1, 10, 4, 2)
    assert kept.take("a", changes=1, newest=12) is None  # taken: kept again only when given back
    kept.keep("a", Counted(1, 10, 4, 2))
    assert kept.take("a", changes=2, newest=12) is None  # something else changed
    kept.keep("a", Counted(1, 10, 4, 2))
    assert kept.take("a", changes=1, newest=9) is None  # counted past what this search sees
    for n in range(COUNTS_KEPT + 1):
        kept.keep(n, Counted(1, n, n, 0))
    assert len(kept) == COUNTS_KEPT
    assert kept.take(0, 1, 100) is None and kept.take(1, 1, 100) == Counted(1, 1, 1, 0)
