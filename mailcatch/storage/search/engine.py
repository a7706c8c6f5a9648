"""Mailpit's search syntax, compiled to SQL over messages, messages_fts (trigram FTS5) and message_tags.

A query is a list of terms separated by spaces; `"double quotes"` group words into one
term. A term is plain text (matched as a case-insensitive substring of the subject,
addresses, text and HTML bodies and attachment names) or an operator `name:value`:
`to:`, `from:`, `cc:`, `bcc:`, `reply-to:`, `addressed:`, `subject:`, `message-id:`,
`tag:`, `is:read`, `is:unread`, `is:tagged`, `has:attachment`, `before:`, `after:`,
`larger:`, `smaller:`. A leading `-` or `!` negates a term. All terms must hold.

User input never reaches SQL as text: every value is a bound parameter, FTS5 values are
quoted as phrases (so `*`, `:`, `(`, `NEAR` and friends are searched for, not
interpreted), and values under three characters, too short for trigrams, fall back to
LIKE with `%`, `_` and `\\` escaped.

Counting is what takes long when a word is common. When every text term is a plain word
(letters and digits), the matches are counted from the word index instead of the trigrams:
the vocabulary gives the words that contain each term (`meet` is in `meeting` and
`meetings`), and the count is that of messages with one of them, for every term: the
same messages as the trigrams find, because such a term can only occur within a word.
A search for one term found in one word only, and nothing else, needs no counting at
all: the vocabulary keeps the number of messages that have each word. Nor does a search
for one `from:` term: a vocabulary of senders keeps the number of messages from each, and
as a message has one sender, the counts of those the term is part of add up.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import os
import re
import sqlite3
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailcatch.errors import BadRequest, NotFound
from mailcatch.storage.store import Store, summary_json

__all__ = ["Compiled", "SearchResult", "Term", "compile_terms", "matching_ids", "parse_query", "resolve_id",
           "search", "zone_named"]

_SUMMARY_COLUMNS = "m.seq, m.id, m.created, m.read, m.tags, m.summary"
_FTS_COLUMNS = ("subject", "sender", "recipients", "body", "files")
_ADDRESS_FIELDS = {"to": "To", "cc": "Cc", "bcc": "Bcc", "reply-to": "ReplyTo"}
_TEXT_FIELDS = {"subject", "from", "to", "cc", "bcc", "reply-to", "addressed", "message-id", "tag",
                "before", "after", "larger", "smaller", "is", "has"}
_IS_VALUES = {"read", "unread", "tagged"}
_HAS_VALUES = {"attachment", "attachments"}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s?(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "g": 1024 ** 3, "gb": 1024 ** 3}
_MIN_TRIGRAM = 3
MAX_WORD_FORMS = 64
"""Vocabulary words containing a term that a count through the word index may take; past
this (a term such as `com`), the count goes through the trigrams."""


@dataclass(frozen=True, slots=True)
class Term:
    """One search term: a field (`text` for plain words), its value, and whether it is negated.

    Besides Mailpit's operators, `sender` matches the From header or the envelope sender
    (MAIL FROM) and `recipients` every recipient (To, Cc and Bcc, envelope included), as
    substrings; the MailHog face uses them.
    """

    field: str
    value: str
    negated: bool = False


@dataclass(slots=True)
class Compiled:
    """A search as SQL: an FTS5 query every match satisfies (None: no such term), then conditions over `messages m`.

    With an FTS5 query, the full-text index drives: it yields matches newest first, so a page
    is found without looking at the rest, and counting reads the index alone unless other
    conditions need the message rows.
    """

    where: str = "1"
    params: list[Any] = field(default_factory=list)
    match: str | None = None
    words: tuple[str, ...] = ()
    """The plain words of `match`, when it holds nothing else: then it may be counted by words."""
    sender: str | None = None
    """The value of `match` when it is one `from:` term: then it may be counted by senders."""

    def select(self, columns: str, tail: str = "", tail_params: Sequence[Any] = ()) -> tuple[str, list[Any]]:
        """SQL for `columns` of the matching messages (`m`), newest first, followed by `tail` (LIMIT ...)."""
        if self.match is None:
            return (f"SELECT {columns} FROM messages m WHERE {self.where} ORDER BY m.seq DESC{tail}",
                    [*self.params, *tail_params])
        return (f"SELECT {columns} FROM messages_fts f JOIN messages m ON m.seq = f.rowid"
                f" WHERE messages_fts MATCH ? AND {self.where} ORDER BY f.rowid DESC{tail}",
                [self.match, *self.params, *tail_params])

    def count(self, unread: str = "probe", seqs: tuple[int, int] = (0, 1 << 62),
              words_match: str | None = None, probed: Sequence[int] | None = None) -> tuple[str, list[Any]]:
        """SQL for the number of matching messages with a seq in (low, high], and of the unread among them.

        With `words_match` (see `_ByWords`), the word index stands in for the trigrams.
        `probed`, if given, lists the seqs in the set to probe (they are few: see `_few_probed`).

        `unread` says how the unread are counted: "all" or "none" when every message, or
        none, is unread; "probe-read" checks each match against the set of read messages,
        "probe" against the set of unread ones (the set is built from a partial index, so
        the rarer state should be probed).
        """
        state = "1" if unread == "probe-read" else "0"
        probe_set = f"(SELECT seq FROM messages WHERE read = {state})" if probed is None else \
            "(" + ",".join("?" * len(probed)) + ")"
        unread_sql = {"all": "count(*)", "none": "0", "probe-read": "count(*) - total({seq} IN {set})",
                      "probe": "total({seq} IN {set})"}[unread]
        probe_params = list(probed or ()) if unread.startswith("probe") else []
        if self.match is None:
            return (f"SELECT count(*), {unread_sql.format(seq='m.seq', set=probe_set)} FROM messages m"
                    f" WHERE m.seq > ? AND m.seq <= ? AND {self.where}", [*probe_params, *seqs, *self.params])
        join = "" if self.where == "1" else " JOIN messages m ON m.seq = f.rowid"
        table = "messages_fts" if words_match is None else "messages_words"
        return (f"SELECT count(*), {unread_sql.format(seq='f.rowid', set=probe_set)} FROM {table} f{join}"
                f" WHERE {table} MATCH ? AND f.rowid > ? AND f.rowid <= ? AND {self.where}",
                [*probe_params, self.match if words_match is None else words_match, *seqs, *self.params])

    def up_to(self, seq: int) -> Compiled:
        """The same search limited to messages with a seq up to `seq`."""
        return Compiled(f"m.seq <= ? AND {self.where}", [seq, *self.params], self.match, self.words, self.sender)


@dataclass(slots=True)
class SearchResult:
    """One page of matching summaries, newest first, with counts over every match."""

    messages: list[dict[str, Any]]
    count: int
    unread: int


# Parsing -------------------------------------------------------------
def _split(query: str) -> list[tuple[str, bool]]:
    """Split on whitespace outside double quotes; (token without quotes, whether it began quoted)."""
    tokens: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = in_quotes = False
    started = False
    for char in query:
        if char == '"':
            if not started or (not in_quotes and "".join(current) in ("-", "!")):
                quoted = True
            in_quotes = not in_quotes
            started = True
        elif char.isspace() and not in_quotes:
            if started:
                tokens.append(("".join(current), quoted))
            current, quoted, started = [], False, False
        else:
            current.append(char)
            started = True
    if started:
        tokens.append(("".join(current), quoted))
    return tokens


def parse_query(query: str) -> list[Term]:
    """The terms of a search query in Mailpit's syntax; BadRequest for an operator value that makes no sense."""
    terms: list[Term] = []
    for token, quoted in _split(query):
        negated = False
        if len(token) > 1 and token[0] in "-!":
            negated, token = True, token[1:]
        name, sep, value = token.partition(":")
        name = name.lower()
        if quoted or not sep or name not in _TEXT_FIELDS:
            if token:
                terms.append(Term("text", token, negated))
            continue
        value = value.strip()
        if not value:
            continue
        if name == "is" and value.lower() not in _IS_VALUES:
            raise BadRequest(f"unknown search operator is:{value} (use is:read, is:unread or is:tagged)")
        if name == "has" and value.lower() not in _HAS_VALUES:
            raise BadRequest(f"unknown search operator has:{value} (use has:attachment)")
        if name in ("is", "has"):
            value = value.lower()
        terms.append(Term(name, value, negated))
    return terms


def _size(value: str) -> int:
    found = _SIZE.match(value.strip())
    if not found:
        raise BadRequest(f"{value!r} is not a size (write it as 2048, 200k or 1.5M)")
    return int(float(found.group(1)) * _SIZE_UNITS[(found.group(2) or "").lower()])


def _timestamp(value: str, zone: datetime.tzinfo | None) -> float:
    """Unix time of a date or date and time; a time without an offset is in `zone` (local if None)."""
    text = value.strip()
    if text.isdigit() and len(text) >= 9:
        return float(text)
    iso = text.replace("/", "-")
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise BadRequest(f"{value!r} is not a date (write it as 2024-05-31 or 2024-05-31T14:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
    return moment.timestamp()


def zone_named(name: str | None) -> datetime.tzinfo | None:
    """The time zone for `before:` and `after:` (Mailpit's `tz` parameter); None means local time."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"unknown time zone {name!r} (use a name such as Europe/Berlin)") from None


# Compiling -----------------------------------------------------------
def _phrase(value: str) -> str:
    """An FTS5 string literal: every character of `value` searched for as it is."""
    return '"' + value.replace('"', '""') + '"'


def _like(value: str) -> str:
    """A LIKE pattern for `value` as a substring, with LIKE's special characters escaped."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_short(columns: Sequence[str]) -> str:
    """Condition for a value too short for trigrams: LIKE over these FTS columns (one parameter each)."""
    likes = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in columns)
    return f"m.seq IN (SELECT rowid FROM messages_fts WHERE {likes})"


def _match_expression(columns: Sequence[str], value: str) -> str:
    """An FTS5 query for `value` as a substring of any of these columns."""
    if tuple(columns) == _FTS_COLUMNS:
        return _phrase(value)  # a column filter naming every column only costs time
    return f"{{{' '.join(columns)}}} : {_phrase(value)}"


def _fts_any(columns: Sequence[str], value: str) -> tuple[str, list[str]]:
    """A standalone condition (and its parameters) for a substring of any of these FTS columns."""
    if len(value) >= _MIN_TRIGRAM:
        return "m.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)", [_match_expression(columns, value)]
    return _fts_short(columns), [_like(value)] * len(columns)


def _address_like(key: str) -> str:
    """Condition: some address of the summary's `key` list ("Name <address>") contains the parameter."""
    return (f"EXISTS (SELECT 1 FROM json_each(m.summary, '$.{key}') a WHERE "
            "(json_extract(a.value, '$.Name') || ' <' || json_extract(a.value, '$.Address') || '>')"
            " LIKE ? ESCAPE '\\')")


class _Builder:
    """Collects WHERE conditions; positive FTS phrases are combined into one MATCH."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []
        self.matches: list[str] = []
        self.words: list[str] = []
        self.senders: list[str] = []

    def add(self, condition: str, *params: Any, negated: bool = False) -> None:
        self.conditions.append(f"NOT ({condition})" if negated else condition)
        self.params.extend(params)

    def fts(self, columns: Sequence[str], value: str, negated: bool) -> None:
        """Substring match of `value` in any of these FTS columns."""
        if len(value) >= _MIN_TRIGRAM and not negated:
            self.matches.append(_match_expression(columns, value))
            if tuple(columns) == _FTS_COLUMNS and value.isascii() and value.isalnum():
                self.words.append(value.lower())
            elif tuple(columns) == ("sender",):
                self.senders.append(value)
        else:
            condition, params = _fts_any(columns, value)
            self.add(condition, *params, negated=negated)

    def compiled(self) -> Compiled:
        match = " AND ".join(self.matches) if self.matches else None
        words = tuple(self.words) if len(self.words) == len(self.matches) else ()
        sender = self.senders[0] if len(self.matches) == len(self.senders) == 1 else None
        return Compiled(" AND ".join(self.conditions) or "1", list(self.params), match, words, sender)


def compile_terms(terms: Sequence[Term], zone: datetime.tzinfo | None = None) -> Compiled:
    """The WHERE clause (over `messages m`) that selects messages matching every term."""
    builder = _Builder()
    for term in terms:
        name, value, negated = term.field, term.value, term.negated
        if "\x00" in value:  # FTS5 reads a NUL as the end of its query: "unterminated string"
            raise BadRequest("a search must not contain NUL characters")
        if name == "text":
            builder.fts(_FTS_COLUMNS, value, negated)
        elif name == "subject":
            builder.fts(("subject",), value, negated)
        elif name == "from":
            builder.fts(("sender",), value, negated)
        elif name == "sender":
            fts, fts_params = _fts_any(("sender",), value)
            builder.add(f"({fts} OR json_extract(m.envelope, '$.From') LIKE ? ESCAPE '\\')", *fts_params,
                        _like(value), negated=negated)
        elif name == "recipients":
            builder.fts(("recipients",), value, negated)
        elif name in _ADDRESS_FIELDS:
            if name != "reply-to" and not negated and len(value) >= _MIN_TRIGRAM:
                builder.fts(("recipients",), value, False)  # narrows the candidates through the index
            builder.add(_address_like(_ADDRESS_FIELDS[name]), _like(value), negated=negated)
        elif name == "addressed":
            fts, fts_params = _fts_any(("sender", "recipients"), value)
            builder.add(f"({fts} OR {_address_like('ReplyTo')})", *fts_params, _like(value), negated=negated)
        elif name == "message-id":
            builder.add("m.seq IN (SELECT seq FROM messages WHERE message_id LIKE ? ESCAPE '\\')",
                        _like(value.strip("<>")), negated=negated)
        elif name == "tag":
            builder.add("m.seq IN (SELECT seq FROM message_tags WHERE tag = ?)", value, negated=negated)
        elif name == "is":
            if value == "tagged":
                builder.add("m.seq IN (SELECT seq FROM message_tags)", negated=negated)
            else:  # literal 0 and 1, not parameters, so that the planner can use the partial indexes on read
                builder.add(f"m.read = {1 if (value == 'read') != negated else 0}")
        elif name == "has":
            builder.add("m.seq IN (SELECT seq FROM messages WHERE attachments > 0)", negated=negated)
        elif name in ("after", "before"):
            operator = ">=" if (name == "after") != negated else "<"
            builder.add(f"m.created {operator} ?", _timestamp(value, zone))
        elif name in ("larger", "smaller"):
            operator = {("larger", False): ">", ("larger", True): "<=",
                        ("smaller", False): "<", ("smaller", True): ">="}[name, negated]
            builder.add(f"m.size {operator} ?", _size(value))
        else:
            raise ValueError(f"unknown search field {name!r}")
    return builder.compiled()


def _terms(query: str | Sequence[Term]) -> list[Term]:
    return parse_query(query) if isinstance(query, str) else list(query)


# Running -------------------------------------------------------------
@dataclass(slots=True)
class Counted:
    """The counts of one search, valid while the store's `changes` stays the same; messages
    added since (seq above `through`) are counted on top of them."""

    changes: int
    through: int
    count: int
    unread: int


COUNTS_KEPT = 64
"""Searches whose counts a store keeps (see `Store.search_counts`)."""
SPLIT_SPAN = 20_000
"""Counting over more seqs than this is split in parts counted at once on reader threads (a
common word's first count over 100,000 messages takes about 1.6 times less on 2 cores)."""


def _spans(low: int, high: int) -> list[tuple[int, int]]:
    """(low, high] as one span, or as one per core (up to 4) when it is long."""
    if high - low <= SPLIT_SPAN:
        return [(low, high)]
    step = -(-(high - low) // min(4, os.cpu_count() or 1))
    return [(edge, min(edge + step, high)) for edge in range(low, high, step)]


async def search(store: Store, query: str | Sequence[Term], start: int = 0, limit: int = 50,
                 zone: datetime.tzinfo | None = None) -> SearchResult:
    """One page of the messages matching a query (newest first), with the number matching and unread.

    Counting every match of a common word is the slow part of a search, so the counts are
    kept: paging through the results, or a search refreshed as mail arrives, counts only
    the messages added since, until something else changes (a deletion, read state, tags).
    """
    compiled = compile_terms(_terms(query), zone)
    await store.flush_index()
    # The search sees the messages stored (and, for the full-text index, indexed) so far;
    # any stored meanwhile wait for the next search.
    newest = store.index.newest if compiled.match is None else store.index.upto
    changes = store.changes
    unread = ("all" if store.unread == store.total else "none" if store.unread == 0
              else "probe-read" if store.unread * 2 > store.total else "probe")
    key = (unread, compiled.match, compiled.where, tuple(compiled.params))
    known = store.search_counts.pop(key, None)
    if known is not None and (known.changes != changes or known.through > newest):
        known = None
    page = compiled.up_to(newest)

    spans = [span for span in _spans(known.through if known else 0, newest) if span[1] > span[0]]
    words = await store.db.read(lambda conn: _by_words(conn, compiled.words)) \
        if spans and compiled.words and store.index.words_ready else _ByWords(None)
    words_match = words.match

    def unread_given(conn: sqlite3.Connection, found: int, probed: list[int]) -> int:
        """The unread among `found` matches, looking up each of the few `probed` (read or unread)."""
        hits = sum(int(conn.execute(*compiled.count("none", (seq - 1, seq), words_match)).fetchone()[0])
                   for seq in probed)
        return hits if unread == "probe" else found - hits

    def count_in(span: tuple[int, int]) -> Callable[[sqlite3.Connection], tuple[int, float]]:
        def count(conn: sqlite3.Connection) -> tuple[int, float]:
            probed = _few_probed(conn, unread, span)
            if probed is not None and len(probed) <= LOOKED_UP:
                found = conn.execute(*compiled.count("none", span, words_match)).fetchone()[0]
                return found, unread_given(conn, found, probed)
            found, unread_found = conn.execute(*compiled.count(unread, span, words_match, probed)).fetchone()
            return found, unread_found
        return count

    senders: _Senders | None = None

    def from_vocabulary(conn: sqlite3.Connection) -> tuple[int, float, int] | None:
        """The counts of a one-word or one-sender search from a vocabulary, and the seq they are
        as of, if the unread among them are easily told."""
        nonlocal senders
        if compiled.sender is not None:
            senders = _senders(conn, compiled.sender)
            messages, upto = senders.messages, senders.upto
        else:
            assert words.messages is not None
            messages, upto = words.messages, words.upto
        if unread in ("all", "none"):
            return messages, messages if unread == "all" else 0, upto
        probed = _few_probed(conn, unread, (0, upto))
        if probed is None or len(probed) > LOOKED_UP:
            return None
        return messages, unread_given(conn, messages, probed), upto

    counted: list[tuple[int, float]] = []
    if ((words.messages is not None or compiled.sender is not None) and compiled.where == "1" and known is None
            and spans and store.index.words_ready):
        whole = await store.db.read(from_vocabulary)
        if whole is not None:  # counted as of the index holding every message up to whole[2]
            newest, page, counted, spans = whole[2], compiled.up_to(whole[2]), [whole[:2]], []
    if words_match != "" and spans:
        counted = await asyncio.gather(*(store.db.read(count_in(span)) for span in spans))
    count = sum(part[0] for part in counted) + (known.count if known else 0)
    unread_count = int(sum(part[1] for part in counted)) + (known.unread if known else 0)

    by_senders = compiled.sender is not None and compiled.where == "1" and store.index.words_ready

    def rows_of_page(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        rows = None
        if by_senders:
            found = senders or _senders(conn, compiled.sender or "")
            if found.ids is not None and found.upto >= newest:  # else the index is behind the page
                rows = _sender_page(conn, found.ids, newest, limit, start)
        if rows is None:
            rows = conn.execute(*page.select(_SUMMARY_COLUMNS, " LIMIT ? OFFSET ?", (limit, start))).fetchall()
        return [summary_json(row) for row in rows]

    result = SearchResult(await store.db.read(rows_of_page) if count > start else [], count, unread_count)
    store.search_counts[key] = Counted(changes, newest, result.count, result.unread)
    while len(store.search_counts) > COUNTS_KEPT:
        del store.search_counts[next(iter(store.search_counts))]
    return result


FEW_PROBED = 100
"""Up to this many read (or unread) messages are listed in a count's SQL rather than probed as a set."""
LOOKED_UP = 20
"""Up to this many, each is looked up on its own rather than checked against every match (one
lookup costs about as much as checking 3,000 matches)."""


def _few_probed(conn: sqlite3.Connection, unread: str, span: tuple[int, int]) -> list[int] | None:
    """The seqs in (low, high] of the read ("probe-read") or unread ("probe") messages when there
    are few: checking each match against a short list costs half as much as against the set."""
    if not unread.startswith("probe"):
        return None
    state = 1 if unread == "probe-read" else 0  # literal, for the partial index on read
    seqs = [row[0] for row in conn.execute(f"SELECT seq FROM messages WHERE read = {state} AND seq > ? AND seq <= ?"
                                           " LIMIT ?", (*span, FEW_PROBED + 1))]
    return seqs if len(seqs) <= FEW_PROBED else None


_INDEXED_UPTO = "(SELECT value FROM search_meta WHERE key = 'upto')"
"""The seq the search index holds every message up to: read in the same statement as a
vocabulary's count, so that the two agree."""


@dataclass(slots=True)
class _ByWords:
    """How the matches of plain words are counted through the word index."""

    match: str | None
    """A word-index query for messages with, for each term, a word that contains it: "" if some
    term is in no word, None if one is in too many (they are counted through the trigrams)."""
    messages: int | None = None
    """For a single term found in one word only: the number of messages with that word..."""
    upto: int = 0
    """...when the index held every message up to this seq."""


def _by_words(conn: sqlite3.Connection, words: Sequence[str]) -> _ByWords:
    groups = []
    for term in words:
        forms = [row[0] for row in conn.execute(
            "SELECT w.word FROM search_words_fts f JOIN search_words w ON w.id = f.rowid"
            " WHERE search_words_fts MATCH ? AND w.messages > 0 LIMIT ?", (_phrase(term), MAX_WORD_FORMS + 1))]
        if len(forms) > MAX_WORD_FORMS:
            return _ByWords(None)
        if not forms:
            return _ByWords("")
        groups.append("(" + " OR ".join(map(_phrase, forms)) + ")")
    if len(words) > 1 or len(forms) > 1:
        return _ByWords(" AND ".join(groups))
    messages, upto = conn.execute(f"SELECT messages, {_INDEXED_UPTO} FROM search_words WHERE word = ?",
                                  (forms[0],)).fetchone()
    return _ByWords(groups[0], messages, int(upto))


@dataclass(slots=True)
class _Senders:
    """The senders a `from:` term is part of."""

    messages: int
    """How many messages they sent..."""
    upto: int
    """...when the index held every message up to this seq."""
    ids: list[int] | None
    """Their ids, when few enough for the page to be listed from their messages."""


def _senders(conn: sqlite3.Connection, value: str) -> _Senders:
    """The senders `value` is part of: one lookup both counts the matches and lists their page."""
    messages, count, ids, upto = conn.execute(
        "SELECT total(s.messages), count(*), group_concat(s.id), " + _INDEXED_UPTO + " FROM search_senders_fts f"
        " JOIN search_senders s ON s.id = f.rowid WHERE search_senders_fts MATCH ? AND s.messages > 0",
        (_phrase(value),)).fetchone()
    few = 0 < count <= SENDER_PAGE_SENDERS and messages <= SENDER_PAGE_MESSAGES
    return _Senders(int(messages), int(upto), [int(id) for id in ids.split(",")] if few else None)


SENDER_PAGE_MESSAGES = 5000
"""A one-term `from:` search whose senders have up to this many messages between them lists its
page from the messages of those senders; for more, the trigrams find the newest matches quickly."""
SENDER_PAGE_SENDERS = 500
"""...and whose term is part of up to this many senders."""


def _sender_page(conn: sqlite3.Connection, ids: list[int], newest: int, limit: int, start: int) -> list[Any]:
    """Rows of a page of the messages (up to seq `newest`) from these senders."""
    return conn.execute(
        f"SELECT {_SUMMARY_COLUMNS} FROM sender_messages x JOIN messages m ON m.seq = x.seq"
        f" WHERE x.sender IN ({','.join('?' * len(ids))}) AND x.seq <= ? ORDER BY x.seq DESC LIMIT ? OFFSET ?",
        [*ids, newest, limit, start]).fetchall()


async def matching_ids(store: Store, query: str | Sequence[Term], zone: datetime.tzinfo | None = None,
                       limit: int | None = None) -> list[str]:
    """IDs of the messages matching a query, newest first (at most `limit` of them)."""
    compiled = compile_terms(_terms(query), zone)
    sql, params = compiled.select("m.id", " LIMIT ?", (limit,)) if limit is not None else compiled.select("m.id")
    await store.flush_index()

    def run(conn: sqlite3.Connection) -> list[str]:
        return [row[0] for row in conn.execute(sql, params)]

    return await store.db.read(run)


async def resolve_id(store: Store, message_id: str, query: str | None) -> str:
    """A message ID as given, or for `latest` with a query, the ID of the newest match (NotFound if none)."""
    if message_id != "latest" or not query or not query.strip():
        return message_id
    found = await matching_ids(store, query, limit=1)
    if not found:
        raise NotFound(f"no message matches {query!r}")
    return found[0]

