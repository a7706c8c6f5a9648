"""Mailpit's search syntax over GET/DELETE /api/v1/search, PUT {Search, Read} and latest?query=."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mailcatch.server import ServerThread
from mailcatch.storage.search import compile_terms, parse_query
from mailcatch.storage.search.compile import Unread
from tests.helpers import running, wait_for_count
from tests.messages import build, send
from tests.postgres.databases import fresh_database

WELCOME, INVOICE, RESET, WEIRD, BIG, SHORT = (
    "Welcome aboard",
    "Invoice 2024-001",
    "Password reset",
    'Weird "quotes" * NEAR (x) AND y',
    "Big report",
    "ok go",
)
ALL = {WELCOME, INVOICE, RESET, WEIRD, BIG, SHORT}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catcher(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    """A catcher in memory, then one on a fresh PostgreSQL database: the same searches, the same answers."""
    if request.param == "sqlite":
        with running() as catcher:
            yield catcher
        return
    with fresh_database() as url, running(database=url) as catcher:
        yield catcher


@pytest.fixture(scope="module")
def api(catcher: ServerThread) -> Iterator[httpx.Client]:
    """A client for a catcher holding six varied messages; the first is read, the rest unread."""
    invoice = build(
        INVOICE,
        "billing@shop.test",
        "Carol <carol+billing@example.net>",
        "Please find it attached.",
        "<p>Total <b>\u20ac42</b> due</p>",
        Cc="dave@example.com",
    )
    invoice.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="invoice.pdf")
    messages = [
        (
            build(
                WELCOME,
                "Alice Smith <alice@example.com>",
                "bob@example.org",
                "Your account is ready.",
                X_Tags="onboarding",
            ),
            None,
        ),
        (invoice, None),
        (
            build(
                RESET,
                "noreply@app.test",
                "bob@example.org",
                "Reset it here: https://app.test/reset/abc",
                Reply_To="support@app.test",
                Message_ID="<reset-123@app.test>",
            ),
            ["bob@example.org", "erin@example.com"],
        ),
        (build(WEIRD, "zed@example.com", "bob@example.org", "rates: a-b%c and 50% off"), None),
        (build(BIG, "alice@example.com", "team@example.com", "row of numbers\n" * 1500), None),
        (build(SHORT, "Ed <ed@x.io>", "team@example.com", "zq"), None),
    ]
    for message, rcpt in messages:
        send(catcher, message, rcpt=rcpt)
        time.sleep(0.005)
    with httpx.Client(base_url=catcher.url, timeout=10) as client:
        wait_for_count(client, len(messages))
        first = client.get("/api/v1/messages", params={"start": len(messages) - 1}).json()["messages"][0]
        client.get(f"/api/v1/message/{first['ID']}")  # opening it marks it read
        yield client


def subjects(api: httpx.Client, query: str) -> set[str]:
    response = api.get("/api/v1/search", params={"query": query})
    assert response.status_code == 200, response.text
    return {m["Subject"] for m in response.json()["messages"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # plain words: substrings of subject, addresses, bodies (HTML without its tags) and file names
        ("welcome", {WELCOME}),
        ("WELCOME", {WELCOME}),
        ("elcom", {WELCOME}),
        ("account is ready", {WELCOME}),
        ('"account is ready"', {WELCOME}),
        ('"ready account"', set()),
        ("invoice.pdf", {INVOICE}),
        ("\u20ac42", {INVOICE}),
        ("<b>", set()),
        ("app.test", {RESET}),
        ("-alice", ALL - {WELCOME, BIG}),
        ("!alice", ALL - {WELCOME, BIG}),
        ('-"row of numbers"', ALL - {BIG}),
        ("zq", {SHORT}),
        ("-zq", ALL - {SHORT}),
        # operators
        ("from:alice", {WELCOME, BIG}),
        ("from:Smith", {WELCOME}),
        ("FROM:X.IO", {SHORT}),
        ("-from:alice", ALL - {WELCOME, BIG}),
        ("to:bob", {WELCOME, RESET, WEIRD}),
        ("to:carol", {INVOICE}),
        ("to:dave", set()),
        ("-to:bob", {INVOICE, BIG, SHORT}),
        ("cc:dave", {INVOICE}),
        ("-cc:dave", ALL - {INVOICE}),
        ("bcc:erin", {RESET}),
        ("reply-to:support", {RESET}),
        ("-reply-to:support", ALL - {RESET}),
        ("addressed:dave", {INVOICE}),
        ("addressed:support@app", {RESET}),
        ("addressed:alice", {WELCOME, BIG}),
        ("addressed:io", {SHORT}),
        ("subject:invoice", {INVOICE}),
        ('subject:"password reset"', {RESET}),
        ("subject:go", {SHORT}),
        ("-subject:invoice", ALL - {INVOICE}),
        ("message-id:reset-123", {RESET}),
        ("message-id:<reset-123@app.test>", {RESET}),
        ("-message-id:reset", ALL - {RESET}),
        ("tag:onboarding", {WELCOME}),
        ("tag:ONBOARDING", {WELCOME}),
        ("tag:billing", {INVOICE}),
        ("-tag:billing", ALL - {INVOICE}),
        ("is:tagged", {WELCOME, INVOICE}),
        ("-is:tagged", ALL - {WELCOME, INVOICE}),
        ("is:read", {WELCOME}),
        ("is:unread", ALL - {WELCOME}),
        ("!is:read", ALL - {WELCOME}),
        ("-is:unread", {WELCOME}),
        ("has:attachment", {INVOICE}),
        ("has:attachments", {INVOICE}),
        ("-has:attachment", ALL - {INVOICE}),
        ("larger:10k", {BIG}),
        ("larger:10240", {BIG}),
        ("smaller:10K", ALL - {BIG}),
        ("-larger:10k", ALL - {BIG}),
        ("-smaller:0.01MB", {BIG}),
        ("before:2000-01-01", set()),
        ("after:2000-01-01", ALL),
        ("before:2999-12-31T23:59:59Z", ALL),
        ('after:"2999-12-31 10:00"', set()),
        ("-after:2999-12-31", ALL),
        ("-before:2000/01/01", ALL),
        ("after:946684800", ALL),
        # combinations
        ("from:alice larger:10k", {BIG}),
        ("to:bob -subject:password", {WELCOME, WEIRD}),
        ("is:unread to:bob reset", {RESET}),
        ("to:", ALL),
        # FTS5 syntax characters are searched for, never interpreted
        ('"quotes"', {WEIRD}),
        ("NEAR", {WEIRD}),
        ("(x)", {WEIRD}),
        ("*", {WEIRD}),
        ("AND", {WEIRD}),
        ('" OR "', set()),
        ("a-b%c", {WEIRD}),
        ("%", {WEIRD}),
        ("_", set()),
        ("50%", {WEIRD}),
        ("subject:*", {WEIRD}),
        ("'; DROP TABLE messages; --", set()),
        ("foo:bar", set()),
    ],
)
def test_operator(api: httpx.Client, query: str, expected: set[str]) -> None:
    assert subjects(api, query) == expected


def test_counts_order_and_paging(api: httpx.Client) -> None:
    page = api.get("/api/v1/search", params={"query": "to:bob", "limit": 2}).json()
    assert (page["total"], page["unread"]) == (6, 5)
    assert (page["messages_count"], page["messages_unread"], page["count"], page["start"]) == (3, 2, 2, 0)
    assert [m["Subject"] for m in page["messages"]] == [WEIRD, RESET]
    assert "onboarding" in page["tags"] and "billing" in page["tags"]
    rest = api.get("/api/v1/search", params={"query": "to:bob", "start": 2}).json()
    assert [m["Subject"] for m in rest["messages"]] == [WELCOME]
    assert rest["messages_count"] == 3 and rest["start"] == 2
    beyond = api.get("/api/v1/search", params={"query": "to:bob", "start": 10}).json()
    assert beyond["messages"] == [] and beyond["messages_count"] == 3


def test_unread_matches_are_counted_when_most_messages_are_read(api: httpx.Client) -> None:
    """The unread count of a search probes the rarer read state: here the unread, not the read."""
    listed = api.get("/api/v1/messages").json()["messages"]
    read_before = [m["ID"] for m in listed if m["Read"]]
    reset = [m["ID"] for m in listed if m["Subject"] == RESET]
    try:
        api.put("/api/v1/messages", json={"Read": True})
        api.put("/api/v1/messages", json={"IDs": reset, "Read": False})
        for query in ("to:bob", "larger:1"):  # through the full-text index, and without it
            page = api.get("/api/v1/search", params={"query": query}).json()
            assert (page["unread"], page["messages_unread"]) == (1, 1), query
    finally:
        api.put("/api/v1/messages", json={"Read": False})
        api.put("/api/v1/messages", json={"IDs": read_before, "Read": True})


def test_summaries_are_the_listing_shape(api: httpx.Client) -> None:
    listed = {m["ID"]: m for m in api.get("/api/v1/messages").json()["messages"]}
    for found in api.get("/api/v1/search", params={"query": "example"}).json()["messages"]:
        assert found == listed[found["ID"]]


def test_time_zone_for_dates(api: httpx.Client) -> None:
    assert subjects(api, "after:2000-01-01") == ALL
    response = api.get("/api/v1/search", params={"query": "after:2000-01-01", "tz": "Pacific/Auckland"})
    assert response.status_code == 200 and response.json()["messages_count"] == 6


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "no search query"),
        ({"query": "  "}, "no search query"),
        ({"query": "has:inline"}, "has:inline"),
        ({"query": "hello", "tz": "Mars/Olympus"}, "time zone"),
    ],
)
def test_bad_queries_are_400(api: httpx.Client, params: dict[str, str], fragment: str) -> None:
    response = api.get("/api/v1/search", params=params)
    assert response.status_code == 400
    assert fragment in response.json()["Error"]


def test_latest_with_query(api: httpx.Client) -> None:
    assert api.get("/api/v1/message/latest", params={"query": "to:bob"}).json()["Subject"] == WEIRD
    assert api.get("/api/v1/message/latest", params={"query": "from:alice"}).json()["Subject"] == BIG
    raw = api.get("/api/v1/message/latest/raw", params={"query": "subject:invoice"})
    assert b"Invoice 2024-001" in raw.content
    missing = api.get("/api/v1/message/latest", params={"query": "subject:nothing-like-this"})
    assert missing.status_code == 404 and "Error" in missing.json()


def test_delete_and_mark_by_search(start_catcher) -> None:
    catcher = start_catcher()
    send(catcher, build("keep me"), build("drop one", to="x@drop.test"), build("drop two", to="y@drop.test"))
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        wait_for_count(api, 3)
        assert api.put("/api/v1/messages", json={"Search": "to:drop.test", "Read": True}).text == "ok"
        listing = api.get("/api/v1/messages").json()
        assert listing["unread"] == 1
        assert {m["Subject"] for m in listing["messages"] if m["Read"]} == {"drop one", "drop two"}
        assert api.put("/api/v1/messages", json={"Search": "nothing-matches", "Read": True}).text == "ok"
        assert api.get("/api/v1/messages").json()["unread"] == 1
        assert api.delete("/api/v1/search", params={"query": "drop"}).text == "ok"
        listing = api.get("/api/v1/messages").json()
        assert [m["Subject"] for m in listing["messages"]] == ["keep me"] and listing["total"] == 1
        assert api.delete("/api/v1/search").status_code == 400


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database file with mailcatch's schema, every migration applied."""
    path = tmp_path_factory.mktemp("schema") / "mail.db"
    with running(database=str(path)):
        pass
    return path


@pytest.mark.parametrize(
    "query",
    [
        "welcome",
        '"password reset"',
        "from:alice",
        "subject:invoice",
        "to:bob",
        "tag:billing",
        "is:tagged",
        "is:read",
        "is:unread",
        "-is:read",
        "has:attachment",
        "larger:10k",
        "smaller:1k",
        "after:2020-01-01",
        "before:2020-01-01",
        "message-id:reset-123",
        "from:alice has:attachment",
        "is:unread to:bob reset",
    ],
)
@pytest.mark.parametrize("unread", ["probe", "probe-read", "all", "none"])
@pytest.mark.parametrize("probed", [None, [3, 5]])
def test_no_full_scan_of_messages(schema: Path, query: str, unread: str, probed: list[int] | None) -> None:
    """Counting the matches of every operator (but short words, reply-to: and negated words) reads FTS5 or an index.

    (A page may be found by reading messages newest first until it is full, which stops early.)
    """
    compiled = compile_terms(parse_query(query))
    with contextlib.closing(sqlite3.connect(schema)) as conn:
        conn.execute("ATTACH DATABASE ? AS search", (f"{schema}-search",))
        sql, params = compiled.count(Unread(unread), probed=probed)
        details = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        assert not [d for d in details if re.fullmatch(r"SCAN (m|messages)", d)], (sql, details)
