"""Search on PostgreSQL gives SQLite's answers: one corpus delivered over SMTP to a catcher of each,
then the same queries over HTTP to both, whose matches (by subject, in order), counts and errors
must be equal; and the trigram indexes are what PostgreSQL searches through."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcatch.server import ServerThread
from tests.helpers import make_settings, wait_for_count
from tests.messages import build, png, send
from tests.postgres.databases import fresh_database


@dataclass
class Pair:
    """A catcher on in-memory SQLite and one on a fresh PostgreSQL database, holding the same mail."""

    sqlite: httpx.Client
    postgres: httpx.Client
    database: str
    boundary: int
    """A Unix time (whole seconds) between the first messages delivered and the last three."""


def _inline() -> EmailMessage:
    message = build(
        "Spring catalogue", "Shop <news@shop.test>", "reader@example.com", "see the logo", '<img src="cid:logo">'
    )
    html = message.get_payload()[1]  # type: ignore[index]
    html.add_related(png(), maintype="image", subtype="png", cid="<logo>", filename="logo.png")
    return message


def _corpus() -> tuple[list[tuple[EmailMessage, list[str] | None]], list[EmailMessage]]:
    """(message, envelope recipients or None) delivered first, then three delivered after the boundary."""
    invoice = build(
        "Invoice 2024-001",
        "billing@shop.test",
        "Carol <carol@example.com>",
        "Total due: 100% of 42_50 EUR, see invoice.pdf",
        Cc="Dave Doe <dave@corp.test>",
        Message_ID="<ABC-123@Mailer.Example>",
    )
    invoice.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="Invoice-2024.pdf")
    big = build("Monthly report", "reports@corp.test", "Bob Builder <bob@example.org>", "figures " * 3000)
    first: list[tuple[EmailMessage, list[str] | None]] = [
        (
            build(
                "Welcome aboard",
                "Ann Admin <ann@example.com>",
                "Bob Builder <bob@example.org>",
                "Hello and welcome to the team",
                X_Tags="onboarding",
            ),
            None,
        ),
        (invoice, None),
        (
            build(
                "Réunion d'équipe",
                "Élodie Ñúñez <elodie@exemple.fr>",
                "ÉQUIPE <equipe@exemple.fr>",
                "Ordre du jour : ÉTÉ, café, naïve",
            ),
            None,
        ),
        (
            build(
                "Password reset",
                "no-reply@auth.test",
                "eve@example.com",
                "reset it",
                "<p>Click <b>here</b> to reset your password</p>",
                Reply_To="Support Team <support@help.test>",
            ),
            None,
        ),
        (
            build(
                "Ἡ ΣΊΣΥΦΟΣ newsletter",
                "Ὀδυσσεύς <odysseus@ithaca.gr>",
                "penelope@ithaca.gr",
                "ΣΊΣΥΦΟΣ and ὈΔΥΣΣΕΎΣ; µ and \u017f; İstanbul",
            ),
            None,
        ),
        (_inline(), None),
        (big, None),
        (
            build(
                "Quarterly", "report@corp.test", "board@corp.test", "the numbers alpha\x1fbeta", Cc="ann@example.com"
            ),
            ["board@corp.test", "ann@example.com", "hidden@example.net"],
        ),
        (build("OK", "ok@short.test", "User <user+Sales@example.com>", "é", X_Tags="Urgent, billing"), None),
    ]
    later = [
        build("Late notice", "Ann Admin <ann@example.com>", "carol@example.com", "a late welcome"),
        build("Late invoice", "billing@shop.test", "Dave <dave@corp.test>", "the invoice, again", X_Tags="urgent"),
        build("Last one", "zed@example.com", "Zoë <zoe@example.com>", "the end", Reply_To="ann@example.com"),
    ]
    return first, later


def _deliver(catchers: list[ServerThread]) -> int:
    first, later = _corpus()
    for message, rcpt in first:
        for catcher in catchers:
            send(catcher, message, rcpt=rcpt, mail_from="Bounces@Mailer.test" if rcpt else None)
    boundary = math.ceil(time.time() + 0.2)
    time.sleep(max(0.0, boundary - time.time() + 0.2))
    for catcher in catchers:
        send(catcher, *later)
    return boundary


def _by_subject(api: httpx.Client) -> dict[str, str]:
    wait_for_count(api, 12)
    return {m["Subject"]: m["ID"] for m in api.get("/api/v1/messages", params={"limit": 100}).json()["messages"]}


def _mark(api: httpx.Client) -> None:
    """The same read state and tags on both: two read, tags set through the API."""
    ids = _by_subject(api)
    read = [ids["Welcome aboard"], ids["Password reset"]]
    assert api.put("/api/v1/messages", json={"IDs": read, "Read": True}).status_code == 200
    tagged = {"IDs": [ids["Quarterly"], ids["Monthly report"]], "Tags": ["Finance"]}
    assert api.put("/api/v1/tags", json=tagged).status_code == 200


@contextmanager
def _pair() -> Iterator[Pair]:
    """Both catchers, the corpus delivered to each, marked alike."""
    with (
        fresh_database() as url,
        ServerThread(make_settings()) as on_sqlite,
        ServerThread(make_settings(database=url)) as on_postgres,
        httpx.Client(base_url=on_sqlite.url, timeout=10) as sqlite,
        httpx.Client(base_url=on_postgres.url, timeout=10) as postgres,
    ):
        boundary = _deliver([on_sqlite, on_postgres])
        for api in (sqlite, postgres):
            _mark(api)
        yield Pair(sqlite, postgres, url, boundary)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """One pair for the read-only queries of this module."""
    with _pair() as both:
        yield both


def _answer(api: httpx.Client, params: dict[str, Any]) -> dict[str, Any]:
    """What a search answers, without what tells the catchers apart (IDs, times)."""
    response = api.get("/api/v1/search", params=params)
    body = response.json()
    if response.status_code != 200:
        return {"status": response.status_code, "body": body}
    return {
        "subjects": [m["Subject"] for m in body["messages"]],
        **{key: body[key] for key in ("total", "unread", "count", "messages_count", "start", "tags")},
    }


QUERIES = [
    # plain words and phrases: substrings, any case, never across two fields
    "welcome", "WELCOME", "elcom", '"and welcome"', '"Quarterly report"', "quarterly", "exAmple.COM",
    "invoice-2024.pdf", "logo.png", "<b>here", "here to reset", "team -welcome",
    # short values (ASCII case only, as SQLite's LIKE), wildcards taken literally
    "ok", "OK", "é", "É", "o", "%", "_", "100%", "42_5", "100%_", '"alpha\x1fbeta"', '"quarterly\x1freport"', "ha\x1fbe", "\x1f", "a\x1f", '"beta\x1f"', ".*", "[", "\\", "(b", "^", "$", ": ", "d'",
    # non-ASCII case, folded as the trigram tokenizer folds it
    "ÉTÉ", "été", "CAFÉ", "naÏve", "réunion", "RÉUNION", "σίσυφος", "ΣΊΣΥΦΟΣ", "ὀδυσσεύς", "ΟΔΥΣΣ", "μ and",
    "\u017f and", "s and", "istanbul", "İstanbul", '"μ and"', '"s; İst"', "σίσυφοσ", "ΣΊΣΥΦΟς",
    # subject:, from:, to:, cc:, bcc:, reply-to:, addressed:
    "subject:invoice", "-subject:invoice", "subject:\"d'équipe\"", "subject:RÉ", "subject:ok",
    "from:ann", 'from:"ann admin"', "from:bounces", "from:élodie", "from:ÉLODIE", "from:él", "-from:shop",
    "to:bob", 'to:"bob builder <bob"', "to:<bob", "to:<eve", "to:carol", "to:équipe", "to:ÉQUIPE", "-to:example",
    "to:sales", "cc:dave", "cc:CORP.test", "-cc:dave", "cc:ann", "bcc:hidden", "bcc:HIDDEN", "-bcc:hidden",
    "reply-to:support", 'reply-to:"support team"', "reply-to:ann", "-reply-to:support", "reply-to:zz",
    "addressed:support", "addressed:bob", "addressed:hidden", "addressed:ann", "-addressed:ann",
    # message-id:, tag:, is:, has:
    "message-id:abc-123", "message-id:<ABC-123@mailer.example>", "message-id:nope", "-message-id:abc",
    "tag:onboarding", "tag:ONBOARDING", "tag:urgent", "-tag:urgent", "tag:sales", "tag:finance", "tag:fin",
    "is:tagged", "-is:tagged", "is:read", "is:unread", "-is:read", "-is:unread", "IS:READ",
    "has:attachment", "has:attachments", "-has:attachment", "is:starred", "has:pizza", "-is:starred",
    # sizes and dates
    "larger:10k", "smaller:2k", "larger:1.5k smaller:10k", "-larger:10k", "-smaller:2k", "larger:huge",
    "larger:20000b", "after:2000-01-01", "before:2000-01-01", "-after:2000-01-01", "after:garbage",
    "before:2999-12-31T23:59:59Z", "after:{boundary}", "before:{boundary}", "-after:{boundary}", "-before:{boundary}",
    "after:{boundary_utc}", "before:{boundary_utc} from:ann",
    # combinations, operators mailcatch doesn't know, empty values, nothing at all
    "from:ann is:unread", "to:example.com -has:attachment larger:1k", "invoice -is:read tag:urgent",
    "foo:bar", "subject:", "-", '""', "", "welcome welcome", '!"late"', "!is:read",
]  # fmt: skip


def _query(text: str, pair: Pair) -> str:
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(pair.boundary))
    return text.replace("{boundary_utc}", moment).replace("{boundary}", str(pair.boundary))


@pytest.mark.parametrize("query", QUERIES)
def test_the_same_answers(pair: Pair, query: str) -> None:
    params = {"query": _query(query, pair)}
    expected = _answer(pair.sqlite, params)
    assert _answer(pair.postgres, params) == expected
    if query and "status" not in expected:  # paging through the same matches
        for start, limit in ((0, 1), (1, 2), (3, 50), (50, 10)):
            paged = {**params, "start": start, "limit": limit}
            assert _answer(pair.postgres, paged) == _answer(pair.sqlite, paged), (start, limit)


def test_the_corpus_answers_what_it_was_built_for(pair: Pair) -> None:
    """The queries above are not all empty: a few of SQLite's answers, written out (both agree on them)."""
    for api in (pair.sqlite, pair.postgres):
        answers = {q: _answer(api, {"query": _query(q, pair)}) for q in QUERIES}
        assert answers["welcome"]["subjects"] == ["Late notice", "Welcome aboard"]
        assert answers['"Quarterly report"']["messages_count"] == 0  # the subject's end and sender's start
        assert answers["é"]["subjects"] == ["OK", "Réunion d'équipe"]  # short: ASCII case alone, as SQLite's LIKE
        assert answers["É"]["subjects"] == ["Réunion d'équipe"]
        assert answers["ÉTÉ"]["subjects"] == answers["été"]["subjects"] == ["Réunion d'équipe"]
        # as FTS5 folds µ, the long s and final ς
        for folded in ("σίσυφος", "σίσυφοσ", "ΣΊΣΥΦΟς", '"μ and"', '"s; İst"'):
            assert answers[folded]["subjects"] == ["Ἡ ΣΊΣΥΦΟΣ newsletter"], folded
        assert answers["to:équipe"]["subjects"] == [] and answers["to:ÉQUIPE"]["subjects"] == ["Réunion d'équipe"]
        assert answers["to:<eve"]["subjects"] == []  # SQLite's recipients text has no "<" before an unnamed address
        assert answers["bcc:hidden"]["subjects"] == ["Quarterly"]
        assert answers["after:{boundary}"]["subjects"] == ["Last one", "Late invoice", "Late notice"]
        assert answers["larger:10k"]["subjects"] == ["Monthly report"]
        assert answers["is:read"]["unread"] == 10 and answers["is:read"]["messages_count"] == 2
        assert answers["tag:urgent"]["subjects"] == ["Late invoice", "OK"]
        assert answers["has:attachment"]["subjects"] == ["Spring catalogue", "Invoice 2024-001"]  # Mailpit's count
        assert answers["logo.png"]["subjects"] == ["Spring catalogue"]
        assert answers["100%_"]["subjects"] == []
        assert answers['"alpha\x1fbeta"']["subjects"] == ["Quarterly"]  # the index's separator, searched for
        assert answers['"quarterly\x1freport"']["subjects"] == []  # never across the subject's end and the sender


@pytest.mark.parametrize(
    "params",
    [
        {"query": "has:inline"},
        {"query": "after:2020-01-01", "tz": "Nowhere/Land"},
        {"query": "welcome\x00"},
        {"query": "after:2020-01-01", "tz": "Pacific/Auckland"},
        {"query": "after:2020-01-01T10:00", "tz": "Asia/Tokyo"},
    ],
)
def test_errors_and_time_zones_alike(pair: Pair, params: dict[str, str]) -> None:
    assert _answer(pair.postgres, params) == _answer(pair.sqlite, params)


def test_latest_by_query_alike(pair: Pair) -> None:
    for query in ("invoice", "from:ann", "tag:finance", "bcc:hidden", "nothing-matches-this"):
        found = [api.get("/api/v1/message/latest", params={"query": query}) for api in (pair.sqlite, pair.postgres)]
        assert found[0].status_code == found[1].status_code, query
        if found[0].status_code == 200:
            assert found[0].json()["Subject"] == found[1].json()["Subject"], query


def test_delete_by_query_alike() -> None:
    """DELETE /api/v1/search takes the same messages away on both (a pair of its own: it changes the mail)."""
    with _pair() as both:
        for query in ("from:ann", "tag:urgent -subject:ok", "larger:10k", "é"):
            for api in (both.sqlite, both.postgres):
                assert api.delete("/api/v1/search", params={"query": query}).status_code == 200
            listings = [
                api.get("/api/v1/messages", params={"limit": 100}).json() for api in (both.sqlite, both.postgres)
            ]
            left = [
                ([m["Subject"] for m in listing["messages"]], listing["total"], listing["unread"])
                for listing in listings
            ]
            assert left[0] == left[1], query
        assert left[0][0] == [
            "Last one", "Quarterly", "Spring catalogue", "Ἡ ΣΊΣΥΦΟΣ newsletter", "Password reset", "Invoice 2024-001",
        ]  # fmt: skip
        assert both.sqlite.delete("/api/v1/search", params={"query": "has:inline"}).json() == (
            both.postgres.delete("/api/v1/search", params={"query": "has:inline"}).json()
        )


def test_searches_go_through_the_trigram_indexes(pair: Pair) -> None:
    """With sequential scans priced out, PostgreSQL plans each kind of search through its GIN index."""
    from mailcatch.storage.postgres.search import where_of
    from mailcatch.storage.search.query import parse_query

    expected = {
        "welcome": "message_search_text",
        "subject:invoice": "message_search_subject",
        "from:shop": "message_search_sender",
        "to:carol": "message_search_recipients",
        "reply-to:support": "message_search_reply_to",
        "message-id:abc-123": "messages_message_id_text",
    }
    with psycopg.connect(pair.database) as conn:
        conn.execute("SET enable_seqscan = off")
        for query, index in expected.items():
            where, params = where_of(parse_query(query))
            plan = conn.execute(
                "EXPLAIN SELECT m.id FROM messages m JOIN message_search s ON s.seq = m.seq"
                f" WHERE {where} ORDER BY m.seq DESC",
                params,
            ).fetchall()
            assert index in "\n".join(line for (line,) in plan), (query, plan)


@pytest.mark.parametrize("kind", ["from", "to", "containing"])
def test_mailhog_search_alike(pair: Pair, kind: str) -> None:
    """MailHog's search (the sender, recipients and text terms) finds the same messages on both."""
    for query in ("ann", "ANN", "example.com", "shop", "hidden", "él", "élodie", "zz", "<bob", "bounces", "a"):
        answers = []
        for api in (pair.sqlite, pair.postgres):
            page = api.get("/api/v2/search", params={"kind": kind, "query": query, "limit": 5}).json()
            answers.append(
                (page["total"], page["count"], [item["Content"]["Headers"]["Subject"] for item in page["items"]])
            )
        assert answers[0] == answers[1], (kind, query)
    assert answers[0][0] > 0  # "a" is found somewhere whatever the kind
    if kind == "from":  # the envelope sender (MAIL FROM) as well as the From header, ASCII case ignored
        page = pair.postgres.get("/api/v2/search", params={"kind": "from", "query": "BOUNCES@mailer"}).json()
        assert [item["Content"]["Headers"]["Subject"] for item in page["items"]] == [["Quarterly"]]


_PIECES = [
    *(
        "alpha",
        "beta",
        "welcome",
        "WELCOME",
        "ann",
        "Bob",
        "example",
        "corp.test",
        "invoice",
        "report",
        "the",
        "and",
        "ok",
    ),
    *("é", "É", "ÉTÉ", "ς", "\u03c3", "Σ", "µ", "\u03bc", "\u017f", "s", "İ", "i", "a", "A", "Ὀ", "ü"),
    *("%", "_", "\\", "<", ">", "@", ".", "*", "[", "(", "'", ";", "\x1f", "\t", "42", "2024"),
    *(" ", " ", " ", '"', '"', "-", "!", ":", "to:", "from:", "cc:", "bcc:", "reply-to:", "addressed:"),
    *("subject:", "message-id:", "tag:", "is:", "has:", "larger:", "smaller:", "before:", "after:"),
    *("read", "unread", "tagged", "attachment", "starred", "urgent", "finance", "1k", "10k", "2000-01-01"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7).map("".join))
def test_any_query_answers_alike(pair: Pair, query: str) -> None:
    """Queries made of the corpus's words, tricky characters and operators, in any order: the same answers."""
    params = {"query": query, "limit": 5}
    assert _answer(pair.postgres, params) == _answer(pair.sqlite, params)
