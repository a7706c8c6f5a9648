"""Counting a search's matches and unread through each path (vocabulary, word index, trigram spans,
probing the read or the unread), and the kept counts, against a Store in this process: no sockets."""

from __future__ import annotations

import pytest

from mailcatch.storage.search import counts, vocabulary
from mailcatch.storage.search.compile import Unread
from mailcatch.storage.search.counts import Tally
from mailcatch.storage.search.vocabulary import ByWords
from mailcatch.storage.store import Store
from tests.helpers import run_async
from tests.storage.mailbox import add
from tests.storage.spies import Paths

MESSAGES = [  # subject, body, sender
    ("Meeting at noon", "Can we MEET? The meetings room is free.", "ada@example.com"),
    ("Pre-meeting notes", "premeeting agenda", "grace@example.org"),
    ("Invoice 1042", "Your invoice is attached; invoices are due monthly.", "billing@example.com"),
    ("Weekly report", "meetings went well", "ken@example.net"),
    ("Hello", "nothing to see here", "meetup@example.com"),
    ("Again", "one more meeting", "ada@example.com"),
]
QUERIES = [
    "report",
    "hello",
    "meet",
    "meeting",
    "meet invoice",
    "absent",
    "from:ada@example.com",
    "from:example",
    "from:nobody",
    "subject:meeting",
    "pre-meeting",
    "me",
    "meet is:unread",
    "is:unread",
    "-is:read",
    "is:read",
    "from:ada subject:again",
]


async def _fill(store: Store, messages: list[tuple[str, str, str]] = MESSAGES) -> dict[str, str]:
    """Add messages; their IDs by subject."""
    return {subject: await add(store, subject, body, sender) for subject, body, sender in messages}


async def _expected(store: Store, query: str) -> tuple[int, int]:
    """The counts a search must give: its matches, found by listing them, and the unread among them."""
    found = await store.matching_ids(query)
    summaries, _ = await store.summaries(0, 10_000)
    read = {summary["ID"]: summary["Read"] for summary in summaries}
    return len(found), sum(not read[message_id] for message_id in found)


async def _check(store: Store, queries: list[str]) -> None:
    for query in queries:
        result = await store.search(query, limit=1)
        assert (result.count, result.unread) == await _expected(store, query), query
        assert len(result.messages) == min(1, result.count), query


@pytest.mark.parametrize("variant", ["whole", "split", "looked-up", "listed", "probe-set"])
@pytest.mark.parametrize("read", ["none", "few", "most", "all"])
def test_counts_equal_what_the_matches_are_in_every_way_of_counting(
    store: Store, monkeypatch: pytest.MonkeyPatch, variant: str, read: str
) -> None:
    """Every query gives the counts of its matches, whichever read state is rarer and however the
    spans are split and the probed messages checked."""
    if variant == "split":
        monkeypatch.setattr(counts, "SPLIT_SPAN", 1)  # a span per message or so, counted side by side
    elif variant == "listed":
        monkeypatch.setattr(counts, "LOOKED_UP", 0)  # the few probed are listed in the count's SQL
    elif variant == "probe-set":
        monkeypatch.setattr(counts, "FEW_PROBED", 0)  # probed as a set, as when they are many

    async def scenario() -> None:
        ids = list((await _fill(store)).values())
        if read != "none":
            await store.set_read(None if read == "all" else ids[:1] if read == "few" else ids[1:], True)
        unread = Unread.among(store.total, store.unread)
        assert (
            unread
            is {"none": Unread.ALL, "few": Unread.PROBE_READ, "most": Unread.PROBE_UNREAD, "all": Unread.NONE}[read]
        )
        await _check(store, QUERIES)

    run_async(scenario())


def test_each_search_is_counted_the_cheapest_way(store: Store, paths: Paths) -> None:
    async def counted(query: str) -> tuple[int, int]:
        paths.clear()
        result = await store.search(query)
        assert (result.count, result.unread) == await _expected(store, query), query
        return result.count, result.unread

    async def scenario() -> None:
        await _fill(store)
        # One word in one form: the vocabulary's count, nothing counted.
        assert await counted("report") == (1, 1)
        assert [w.messages for w in paths.words] == [1] and paths.whole == [Tally(1, 1, 6)] and paths.spans == []
        # A word in several forms: counted through the word index.
        assert await counted("meet") == (5, 5)
        assert paths.words[0].match is not None and paths.words[0].messages is None and paths.whole == []
        assert paths.spans == [((0, 6), paths.words[0].match)]
        # A word in no word at all: nothing to count.
        assert await counted("absent") == (0, 0)
        assert paths.words == [ByWords("")] and paths.spans == []
        # One from: term: the senders' counts.
        assert await counted("from:example.com") == (4, 4)
        assert paths.senders == ["example.com"] and [(t.count, t.unread, t.through) for t in paths.whole if t] == [
            (4, 4, 6)
        ]
        assert paths.spans == []
        # Words with other conditions: the word index, joined to the messages.
        assert await counted("meet is:unread") == (5, 5)
        assert paths.whole == [] and paths.spans == [((0, 6), paths.words[0].match)]
        # Anything else: the trigrams.
        for query in ("subject:meeting", "pre-meeting", "from:ada subject:again"):
            await counted(query)
            assert paths.words == [] and paths.whole == [] and paths.spans == [((0, 6), None)], query

    run_async(scenario())


def test_the_vocabulary_counts_the_unread_by_looking_up_the_few_read(
    store: Store, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        ids = await _fill(store)
        await store.set_read([ids["Weekly report"]], True)  # the read are the few: each is looked up
        paths.clear()
        result = await store.search("report")
        assert (result.count, result.unread) == (1, 0)
        assert paths.whole == [Tally(1, 0, 6)] and paths.spans == []
        monkeypatch.setattr(counts, "LOOKED_UP", 0)  # too many to look up: counted after all
        await store.set_read([ids["Hello"]], True)
        paths.clear()
        result = await store.search("report")
        assert (result.count, result.unread) == (1, 0)
        assert paths.whole == [None] and paths.spans == [((0, 6), paths.words[0].match)]

    run_async(scenario())


def test_a_term_in_too_many_words_is_counted_through_the_trigrams(
    store: Store, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vocabulary, "MAX_WORD_FORMS", 2)  # meet: meet, meeting, meetings, premeeting, meetup

    async def scenario() -> None:
        await _fill(store)
        paths.clear()
        assert (await store.search("meet")).count == 5
        assert paths.words == [vocabulary.TRIGRAMS_ONLY] and paths.spans == [((0, 6), None)]

    run_async(scenario())


def test_kept_counts_count_only_new_mail_until_anything_else_changes(store: Store, paths: Paths) -> None:
    async def search(query: str, start: int = 0) -> tuple[int, int]:
        paths.clear()
        result = await store.search(query, start=start, limit=1)
        assert (result.count, result.unread) == await _expected(store, query), query
        return result.count, result.unread

    async def scenario() -> None:
        ids = await _fill(
            store,
            [("alpha 1", "x", "a@example.com"), ("alpha 2", "x", "a@example.com"), ("beta 1", "x", "a@example.com")],
        )
        assert await search("alpha subject:alpha") == (2, 2)
        assert paths.spans == [((0, 3), None)] and len(store.searcher.kept) == 1
        assert await search("alpha subject:alpha", start=1) == (2, 2)  # the next page: nothing counted
        assert paths.spans == []
        await _fill(store, [("alpha 3", "x", "a@example.com"), ("beta 2", "x", "a@example.com")])
        assert await search("alpha subject:alpha") == (3, 3)
        assert paths.spans == [((3, 5), None)]  # only the new messages
        await store.set_read([ids["alpha 1"]], True)  # read state: counted anew
        assert await search("alpha subject:alpha") == (3, 2)
        assert paths.spans == [((0, 5), None)]
        await store.delete([ids["alpha 2"]])
        assert await search("alpha subject:alpha") == (2, 1)
        assert paths.spans == [((0, 5), None)]
        assert await search("alpha subject:alpha") == (2, 1)
        assert paths.spans == []
        assert not hasattr(store, "search_counts")  # the counts are the searcher's, not the store's

    run_async(scenario())


def test_kept_counts_are_per_way_of_counting_the_unread(store: Store, paths: Paths) -> None:
    """Read state moves `changes`, but the kept counts are also keyed by how the unread were counted."""

    async def scenario() -> None:
        await _fill(store, [("alpha 1", "x", "a@example.com"), ("alpha 2", "x", "a@example.com")])
        await store.search("alpha subject:alpha")
        await store.search("is:unread")
        assert len(store.searcher.kept) == 2
        await store.set_read(None, True)
        paths.clear()
        result = await store.search("alpha subject:alpha")
        assert (result.count, result.unread) == (2, 0) and paths.spans == [((0, 2), None)]

    run_async(scenario())
