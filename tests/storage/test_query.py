"""Mailpit's query syntax as terms, and terms as SQL: no database, no server."""

from __future__ import annotations

import datetime

import pytest

from mailcatch.errors import HTTPError, QueryError
from mailcatch.storage.search import Compiled, Term, compile_terms, parse_query, zone_named
from mailcatch.storage.search.compile import Unread
from mailcatch.storage.search.query import size, timestamp
from mailcatch.storage.search.shards import Shard


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("hello", [Term("text", "hello")]),
        ("  hello   world ", [Term("text", "hello"), Term("text", "world")]),
        ('"password reset" x', [Term("text", "password reset"), Term("text", "x")]),
        ("-spam !ham", [Term("text", "spam", True), Term("text", "ham", True)]),
        ('-"big report"', [Term("text", "big report", True)]),
        ("FROM:alice To:bob", [Term("from", "alice"), Term("to", "bob")]),
        ('subject:"Weekly report"', [Term("subject", "Weekly report")]),
        ('"from:alice"', [Term("text", "from:alice")]),  # quoted: searched for as written
        ("url:https://x", [Term("text", "url:https://x")]),  # not an operator
        (
            "is:READ has:Attachments -is:tagged",
            [Term("is", "read"), Term("has", "attachments"), Term("is", "tagged", True)],
        ),
        ("tag: subject:", []),  # an operator without a value is left out
        ("-", [Term("text", "-")]),
    ],
)
def test_queries_are_split_into_terms(query: str, terms: list[Term]) -> None:
    assert parse_query(query) == terms


@pytest.mark.parametrize("query", ["is:flagged", "has:kids", "is:starred"])
def test_operator_values_mailpit_does_not_know_are_searched_as_text(query: str) -> None:
    assert parse_query(query) == [Term("text", query)]  # as Mailpit: no error, and (mostly) no match


def test_a_query_error_is_no_http_error() -> None:
    with pytest.raises(QueryError) as raised:
        size("lots")
    assert not isinstance(raised.value, HTTPError)  # the web layer, not search, speaks HTTP


@pytest.mark.parametrize(
    ("value", "expected"), [("2048", 2048), ("200k", 200 * 1024), ("1.5M", 1572864), ("3 GB", 3 * 1024**3), ("10b", 10)]
)
def test_sizes(value: str, expected: int) -> None:
    assert size(value) == expected


def test_dates_and_time_zones() -> None:
    berlin = zone_named("Europe/Berlin")
    assert zone_named(None) is None and zone_named("") is None
    assert (
        timestamp("2024-05-31T14:30", berlin)
        == datetime.datetime(2024, 5, 31, 12, 30, tzinfo=datetime.timezone.utc).timestamp()
    )
    assert timestamp("2024/05/31 12:30Z", berlin) == timestamp("2024-05-31T12:30+00:00", None)
    assert timestamp("1717158600", None) == 1717158600.0
    assert timestamp("Fri, 31 May 2024 12:30:00 +0000", None) == 1717158600.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: size("lots"), "'lots' is not a size (write it as 2048, 200k or 1.5M)"),
        (
            lambda: timestamp("yesterday", None),
            "'yesterday' is not a date (write it as 2024-05-31 or 2024-05-31T14:30)",
        ),
        (lambda: zone_named("Mars/Olympus"), "unknown time zone 'Mars/Olympus' (use a name such as Europe/Berlin)"),
        (lambda: compile_terms([Term("text", "a\x00b")]), "a search must not contain NUL characters"),
    ],
)
def test_values_that_are_not_what_they_should_be_are_query_errors(call: object, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        call()  # type: ignore[operator]
    assert str(raised.value) == message


def test_plain_words_are_kept_for_counting_by_words() -> None:
    compiled = compile_terms(parse_query("Meeting report"))
    assert compiled.match == '"Meeting" AND "report"' and compiled.where == "1"
    assert compiled.words == ("meeting", "report") and compiled.sender is None


@pytest.mark.parametrize("query", ["pre-meeting", "subject:meeting", "meeting subject:report", "été2024"])
def test_anything_but_plain_words_is_not_counted_by_words(query: str) -> None:
    assert compile_terms(parse_query(query)).words == ()


def test_words_with_other_conditions_are_counted_by_words_and_the_conditions() -> None:
    compiled = compile_terms(parse_query("meeting ab is:unread"))  # ab: too short for either index, a LIKE
    assert compiled.words == ("meeting",) and compiled.match == '"meeting"'
    assert compiled.where.endswith(" AND m.read = 0") and compiled.params == ["%ab%"] * 5


def test_one_from_term_may_be_counted_by_senders() -> None:
    compiled = compile_terms(parse_query("from:alice@example.com"))
    assert compiled.match == '{sender} : "alice@example.com"' and compiled.sender == "alice@example.com"
    assert compile_terms(parse_query("from:alice subject:x1y")).sender is None
    assert compile_terms(parse_query("from:al")).sender is None  # too short for trigrams: a LIKE


def test_values_are_parameters_and_fts_phrases() -> None:
    compiled = compile_terms(parse_query('"x" OR 1=1; NEAR(a 50%_off'))
    assert compiled.match == '"1=1;" AND "NEAR(a" AND "50%_off"'  # searched for as written, not FTS5 syntax
    assert compiled.params == ["%x%"] * 5 + ["%OR%"] * 5  # too short for trigrams: LIKE, one per FTS column
    assert compile_terms([Term("subject", 'say "hi"')]).match == '{subject} : "say ""hi"""'
    short = compile_terms(parse_query("a%"))
    assert short.match is None and short.params == ["%a\\%%"] * 5 and "LIKE ? ESCAPE" in short.where


def test_negated_and_state_terms_become_conditions() -> None:
    compiled = compile_terms(parse_query("-is:read -meeting tag:work larger:1k"))
    assert compiled.match is None
    assert compiled.where.startswith("m.read = 0 AND NOT (m.seq IN (SELECT rowid FROM messages_fts WHERE")
    assert compiled.params == ['"meeting"', "work", 1024]


def test_a_compiled_search_limited_to_a_seq_keeps_what_it_may_be_counted_by() -> None:
    compiled = compile_terms(parse_query("meeting is:unread"))
    limited = compiled.up_to(7)
    assert limited.where == "m.seq <= ? AND m.read = 0" and limited.params == [7]
    assert (limited.match, limited.words, limited.sender) == (compiled.match, compiled.words, compiled.sender)
    assert compiled.key != limited.key and compiled.key == compile_terms(parse_query("meeting is:unread")).key


@pytest.mark.parametrize(
    ("total", "unread", "mode"),
    [
        (0, 0, Unread.ALL),
        (5, 5, Unread.ALL),
        (5, 0, Unread.NONE),
        (5, 3, Unread.PROBE_READ),
        (5, 2, Unread.PROBE_UNREAD),
        (4, 2, Unread.PROBE_UNREAD),
    ],
)
def test_the_rarer_read_state_is_probed(total: int, unread: int, mode: Unread) -> None:
    assert Unread.among(total, unread) is mode


def test_counting_sql_follows_the_unread_mode() -> None:
    compiled = Compiled(match='"x"')
    one = [Shard(1, 0)]
    assert "count(*) AS found, count(*) AS unread FROM messages_fts_1" in compiled.count(Unread.ALL, shards=one)[0]
    assert "count(*) AS found, 0 AS unread FROM" in compiled.count(Unread.NONE, shards=one)[0]
    probe_read, params = compiled.count(Unread.PROBE_READ, (3, 9), shards=one)
    assert "count(*) - total(f.rowid IN (SELECT seq FROM messages WHERE read = 1))" in probe_read
    assert params == ['"x"', 3, 9]
    listed, params = compiled.count(Unread.PROBE_UNREAD, (3, 9), words_match='("xy")', probed=[4, 6], shards=one)
    assert "total(f.rowid IN (?,?)) AS unread FROM messages_words f" in listed and params == [4, 6, '("xy")', 3, 9]


def test_a_count_adds_up_the_shards_that_hold_its_range() -> None:
    compiled = Compiled(where="m.read = ?", params=[0], match='"x"')
    shards = [Shard(1, 0), Shard(2, 5), Shard(4, 10), Shard(5, 20)]
    sql, params = compiled.count(Unread.NONE, (3, 10), shards=shards)  # seqs 4 to 10: shards 1, 2 and 4
    assert [table for table in ("messages_fts_1", "messages_fts_2", "messages_fts_4") if f"FROM {table} f" in sql]
    assert "messages_fts_5" not in sql and sql.startswith("SELECT coalesce(sum(found), 0), total(unread) FROM (")
    assert params == ['"x"', 3, 10, 0] * 3
    assert compiled.count(Unread.NONE, (9, 10), shards=shards)[0].count("UNION ALL") == 0  # seq 10 only
    assert compiled.count(Unread.NONE, (3, 10), shards=[])[0] == "SELECT 0, 0"


def test_a_full_text_page_selects_from_one_shard_newest_first() -> None:
    compiled = Compiled(where="m.read = ?", params=[0], match='"x"')
    sql, params = compiled.select("m.id", " LIMIT ?", (5,), Shard(3, 50))
    assert "FROM messages_fts_3 f JOIN messages m" in sql and "WHERE messages_fts_3 MATCH ?" in sql
    assert sql.endswith(" ORDER BY f.rowid DESC LIMIT ?") and params == ['"x"', 0, 5]
