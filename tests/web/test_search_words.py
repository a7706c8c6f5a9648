"""Counting plain words through the word index gives the same counts as the trigrams: substrings
inside words, any case, any field, after deletions, and for an index made before it existed."""

from __future__ import annotations

import smtplib
import sqlite3
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailcatch.storage.search import index as search_index
from mailcatch.storage.search import vocabulary
from tests.helpers import wait_for_count

MESSAGES = [
    ("Meeting at noon", "Can we MEET? The meetings room is free.", "ada@example.com", None),
    ("Pre-meeting notes", "premeeting agenda, été 2024", "grace@example.org", "notes_meeting.pdf"),
    ("Invoice 1042", "Your invoice is attached. Invoices are due monthly.", "billing@example.com", "invoice.pdf"),
    ("Weekly report", "<p>The <b>report</b> for this week: <i>meet</i>ings went well</p>", "ken@example.net", None),
    ("Hello", "nothing to see here", "meetup@example.com", None),
    ("Été", "Réunion annuelle", "alan@example.com", None),
]
WORDS = [
    "meet",
    "meeting",
    "MEETINGS",
    "eeting",
    "invoice",
    "voice",
    "report",
    "example",
    "pdf",
    "notes",
    "nothing",
    "hello",
    "2024",
    "annuelle",
    "absent",
]


def _send(catcher: Any, messages: list[tuple[str, str, str, str | None]]) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for subject, body, sender, attachment in messages:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = sender, "team@example.com", subject
            if body.startswith("<p>"):
                message.set_content(body, subtype="html")
            else:
                message.set_content(body)
            if attachment:
                message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=attachment)
            client.send_message(message)


def _listing(api: httpx.Client, query: str) -> dict[str, Any]:
    return api.get("/api/v1/search", params={"query": query, "limit": 1000}).json()


def _found(api: httpx.Client, query: str) -> tuple[int, int, int]:
    """(messages_count, messages_unread, how many the page lists: the page is found through the trigrams)."""
    found = _listing(api, query)
    return found["messages_count"], found["messages_unread"], len(found["messages"])


@pytest.fixture
def word_counts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """How searches were to be counted by words (a `match` of None: through the trigrams)."""
    used: list[Any] = []
    real = vocabulary.by_words

    def spy(conn: sqlite3.Connection, words: Any) -> Any:
        used.append(real(conn, words))
        return used[-1]

    monkeypatch.setattr(vocabulary, "by_words", spy)
    return used


def _check_counts(api: httpx.Client, word_counts: list[Any], queries: list[str]) -> None:
    """Each query's counts are those of what its (trigram-found) pages list, and were counted by words."""
    for query in queries:
        word_counts.clear()
        found = _listing(api, query)
        listed = found["messages"]
        assert found["messages_count"] == len(listed), query
        assert found["messages_unread"] == sum(not m["Read"] for m in listed), query
        assert word_counts and word_counts[0].match is not None, f"{query!r} was not counted by words"


def test_word_counts_match_the_trigram_results(catcher, api: httpx.Client, word_counts: list[Any]) -> None:
    _send(catcher, MESSAGES)
    wait_for_count(api, len(MESSAGES))
    _check_counts(api, word_counts, [*WORDS, "meet invoice", "meeting report", "example pdf"])
    assert _found(api, "meet") == (4, 4, 4)  # "meet" within Meeting, MEET, meetings, premeeting, meetup...
    assert _found(api, "absent") == (0, 0, 0)
    word_counts.clear()
    assert _found(api, "me") == (4, 4, 4)  # too short for either index: a scan, not counted by words
    assert _found(api, "subject:meeting") == (2, 2, 2)  # one field: counted through the trigrams
    assert _found(api, "pre-meeting") == (1, 1, 1)  # not a plain word: the same
    assert word_counts == []


def test_word_counts_stay_exact_after_deletions(
    catcher, api: httpx.Client, word_counts: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "UNINDEX_CHUNK", 1)  # a deletion of several, taken out in steps
    _send(catcher, MESSAGES)
    wait_for_count(api, len(MESSAGES))
    ids = [m["ID"] for m in api.get("/api/v1/search", params={"query": "meet"}).json()["messages"]]
    api.request("DELETE", "/api/v1/messages", json={"IDs": ids[:2]})
    api.put("/api/v1/messages", json={"IDs": ids[2:3], "Read": True})
    _check_counts(api, word_counts, ["invoice", "example", "report"])
    assert _found(api, "meet") == (2, 1, 2)
    api.delete("/api/v1/messages")
    _send(catcher, MESSAGES[2:3])
    wait_for_count(api, 1)
    _check_counts(api, word_counts, ["invoice", "example"])
    assert _found(api, "invoice") == (1, 1, 1)
    assert _found(api, "meeting") == (0, 0, 0)


def test_a_term_in_too_many_words_is_counted_by_trigrams(
    catcher, api: httpx.Client, word_counts: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vocabulary, "MAX_WORD_FORMS", 2)  # meet: meet, meeting, meetings, premeeting, meetup
    _send(catcher, MESSAGES)
    wait_for_count(api, len(MESSAGES))
    assert _found(api, "meet") == (4, 4, 4)
    assert [used.match for used in word_counts] == [None]


def test_an_index_made_by_an_earlier_version_is_made_anew_in_shards(
    start_catcher, tmp_path: Path, word_counts: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier version kept the trigrams in one table, `messages_fts`, and no `layout`: its index is rebuilt."""
    database = str(tmp_path / "mail.db")
    first = start_catcher(database=database)
    _send(first, MESSAGES)
    with httpx.Client(base_url=first.url) as api:
        wait_for_count(api, len(MESSAGES))
        _found(api, "settled")  # returns once everything is indexed
    first.stop()
    with sqlite3.connect(database + "-search") as conn:  # the index as an earlier version left it
        conn.executescript(
            "DROP VIEW messages_fts; DROP TABLE messages_fts_1; DROP TABLE search_shards;"
            " CREATE VIRTUAL TABLE messages_fts USING fts5 (subject, sender, recipients, body, files, tokenize = 'trigram');"
            " INSERT INTO messages_fts (rowid, subject) VALUES (1, 'stale trigrams');"
            " DELETE FROM search_meta WHERE key = 'layout';"
        )
    second = start_catcher(database=database)
    with httpx.Client(base_url=second.url) as api:
        wait_for_count(api, len(MESSAGES))
        _found(api, "settled")
        _check_counts(api, word_counts, WORDS)
        assert _found(api, "stale trigrams") == (0, 0, 0)
        ids = [m["ID"] for m in api.get("/api/v1/search", params={"query": "invoice"}).json()["messages"]]
        api.request("DELETE", "/api/v1/messages", json={"IDs": ids})
        _send(second, MESSAGES[:1])
        wait_for_count(api, len(MESSAGES))
        _check_counts(api, word_counts, ["meeting", "invoice", "example"])
        assert _found(api, "invoice") == (0, 0, 0)
        assert _found(api, "from:example.com") == (4, 4, 4)
        assert _sender_pages(api, monkeypatch, ["from:example.com", "from:grace"]) == {
            "from:example.com": 4,
            "from:grace": 1,
        }
    second.stop()
    with sqlite3.connect(database + "-search") as conn:
        assert conn.execute("SELECT type FROM sqlite_master WHERE name = 'messages_fts'").fetchone() == ("view",)
        assert conn.execute("SELECT value FROM search_meta WHERE key = 'layout'").fetchone() == (search_index.LAYOUT,)


def test_one_word_in_one_form_is_counted_from_the_vocabulary(
    catcher, api: httpx.Client, word_counts: list[Any]
) -> None:
    """The vocabulary's count of messages with a word follows new mail, deletions and read state."""
    _send(catcher, MESSAGES)
    wait_for_count(api, len(MESSAGES))
    single = ["report", "hello", "annuelle", "nothing", "noon"]
    _check_counts(api, word_counts, single)
    assert all(used.messages is not None for used in word_counts)
    ids = [m["ID"] for m in api.get("/api/v1/messages").json()["messages"]]  # newest first
    api.request("DELETE", "/api/v1/messages", json={"IDs": [ids[2], ids[4]]})  # the report; Pre-meeting notes
    api.put("/api/v1/messages", json={"IDs": [ids[1]], "Read": True})  # Hello: one read, the others unread
    _send(catcher, MESSAGES[3:5])  # another report and another hello
    wait_for_count(api, len(MESSAGES))
    _check_counts(api, word_counts, single)
    assert _found(api, "report") == (1, 1, 1)
    assert _found(api, "hello") == (2, 1, 2)
    api.put("/api/v1/messages", json={"Read": True})
    api.put("/api/v1/messages", json={"IDs": [ids[1]], "Read": False})  # now the unread are the few
    _check_counts(api, word_counts, [*single, "notes"])
    assert _found(api, "hello") == (2, 1, 2)
    assert _found(api, "notes") == (0, 0, 0)


def test_a_from_search_is_counted_from_the_senders(catcher, api: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """One from: term is counted by adding up the senders it is part of; the counts follow new
    mail, deletions and read state, and equal what the (trigram-found) pages list."""
    counted: list[str] = []
    real = vocabulary.senders

    def spy(conn: sqlite3.Connection, value: str) -> Any:
        counted.append(value)
        return real(conn, value)

    monkeypatch.setattr(vocabulary, "senders", spy)
    _send(catcher, [*MESSAGES, ("Again", "more", "ada@example.com", None)])
    wait_for_count(api, len(MESSAGES) + 1)
    queries = [
        "from:ada@example.com",
        "from:example.com",
        "from:EXAMPLE.ORG",
        "from:meetup",
        "from:nobody@x.io",
        "from:example",
    ]

    def check() -> None:
        for query in queries:
            counted.clear()
            found = _listing(api, query)
            assert counted, f"{query!r} was not counted from the senders"
            assert found["messages_count"] == len(found["messages"]), query
            assert found["messages_unread"] == sum(not m["Read"] for m in found["messages"]), query

    check()
    assert _found(api, "from:ada@example.com") == (2, 2, 2)
    assert _found(api, "from:example") == (7, 7, 7)
    ids = {m["Subject"]: m["ID"] for m in api.get("/api/v1/messages").json()["messages"]}
    api.request("DELETE", "/api/v1/messages", json={"IDs": [ids["Again"], ids["Hello"]]})
    api.put("/api/v1/messages", json={"IDs": [ids["Meeting at noon"]], "Read": True})
    check()
    assert _found(api, "from:ada@example.com") == (1, 0, 1)
    assert _found(api, "from:meetup") == (0, 0, 0)
    counted.clear()
    assert _found(api, "from:ada subject:meeting") == (1, 0, 1)  # more than one term: counted as before
    assert _found(api, "from:ad") == (1, 0, 1)  # too short for trigrams
    assert counted == []


def _sender_pages(api: httpx.Client, monkeypatch: pytest.MonkeyPatch, queries: list[str]) -> dict[str, int]:
    """Each from: query lists the same pages (whole, and two at a time) through the messages of
    its senders as through the trigrams; returns how many each found."""
    listed: list[int] = []
    real = vocabulary.sender_page

    def spy(conn: sqlite3.Connection, ids: list[int], *args: Any) -> Any:
        listed.append(len(ids))
        return real(conn, ids, *args)

    def pages() -> dict[str, list[list[str]]]:
        return {
            query: [
                [m["ID"] for m in api.get("/api/v1/search", params={"query": query, **page}).json()["messages"]]
                for page in ({"limit": 1000}, {"start": 1, "limit": 2})
            ]
            for query in queries
        }

    with monkeypatch.context() as patch:
        patch.setattr(vocabulary, "sender_page", spy)
        by_senders = pages()
        # a page is listed when there are more matches than it skips: the whole one (start=0) and the second (start=1)
        assert len(listed) == sum((len(whole) > 0) + (len(whole) > 1) for whole, _ in by_senders.values())
        listed.clear()
        patch.setattr(vocabulary, "SENDER_PAGE_MESSAGES", 0)
        by_trigrams = pages()
        assert listed == []
    assert by_senders == by_trigrams
    return {query: len(whole) for query, (whole, _) in by_senders.items()}


def test_a_from_search_lists_its_page_from_the_messages_of_its_senders(
    catcher, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _send(
        catcher,
        [
            *MESSAGES,
            ("Again", "more", "Ada Lovelace <ada@example.com>", None),
            ("Shouting", "x", "ADA <Ada@Example.COM>", None),
        ],
    )
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("bounces@example.com", ["team@example.com"], b"Subject: no From header\r\n\r\nx\r\n")
    wait_for_count(api, len(MESSAGES) + 3)
    queries = ["from:ada@example.com", 'from:"Ada Lovelace"', "from:example.com", "from:bounces", "from:EXAMPLE.ORG"]
    assert _sender_pages(api, monkeypatch, queries) == dict(zip(queries, [3, 1, 7, 1, 1], strict=True))
    assert [m["Subject"] for m in _listing(api, "from:bounces")["messages"]] == ["no From header"]
    ids = {m["Subject"]: m["ID"] for m in api.get("/api/v1/messages").json()["messages"]}
    api.request("DELETE", "/api/v1/messages", json={"IDs": [ids["Again"], ids["Hello"]]})
    assert _sender_pages(api, monkeypatch, queries) == dict(zip(queries, [2, 0, 5, 1, 1], strict=True))
