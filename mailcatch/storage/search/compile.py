"""Search terms compiled to SQL over messages, the trigram index's shards (FTS5) and message_tags.

User input never reaches SQL as text: every value is a bound parameter, FTS5 values are
quoted as phrases (so `*`, `:`, `(`, `NEAR` and friends are searched for, not
interpreted), and values under three characters, too short for trigrams, fall back to
LIKE with `%`, `_` and `\\` escaped.
"""

from __future__ import annotations

import datetime
import enum
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mailcatch.errors import QueryError
from mailcatch.storage.rows import SUMMARY_COLUMNS as ROW_COLUMNS
from mailcatch.storage.search.query import Term, size, timestamp
from mailcatch.storage.search.shards import Shard, overlapping, shards_of

__all__ = ["SUMMARY_COLUMNS", "Compiled", "Unread", "compile_terms", "like", "phrase"]

SUMMARY_COLUMNS = ", ".join(f"m.{column}" for column in ROW_COLUMNS.split(", "))
"""rows.SUMMARY_COLUMNS of `messages m`: what rows.summary_json makes an API summary of."""
_FTS_COLUMNS = ("subject", "sender", "recipients", "body", "files")
_ADDRESS_FIELDS = {"to": "To", "cc": "Cc", "bcc": "Bcc", "reply-to": "ReplyTo"}
_MIN_TRIGRAM = 3
_EVERY_SEQ = (0, 1 << 62)


class Unread(enum.Enum):
    """How a count tells the unread among its matches, from the store's totals.

    The probes check each match against a set built from a partial index on `read`, so the
    rarer state is the one probed.
    """

    ALL = "all"
    """Every message is unread: each match is."""
    NONE = "none"
    """No message is unread."""
    PROBE_UNREAD = "probe"
    """The unread are fewer: each match is checked against the set of unread messages."""
    PROBE_READ = "probe-read"
    """The read are fewer: each match is checked against the set of read messages, and taken off."""

    @classmethod
    def among(cls, total: int, unread: int) -> Unread:
        """The way to count the unread in a store of `total` messages, `unread` of them unread."""
        if unread == total:
            return cls.ALL
        if unread == 0:
            return cls.NONE
        return cls.PROBE_READ if unread * 2 > total else cls.PROBE_UNREAD

    @property
    def probed(self) -> int | None:
        """The value of `read` of the messages probed (None: nothing is)."""
        return 0 if self is Unread.PROBE_UNREAD else 1 if self is Unread.PROBE_READ else None


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

    @property
    def key(self) -> tuple[str | None, str, tuple[Any, ...]]:
        """What tells this search from another: equal keys select the same messages."""
        return self.match, self.where, tuple(self.params)

    def select(
        self, columns: str, tail: str = "", tail_params: Sequence[Any] = (), shard: Shard | None = None
    ) -> tuple[str, list[Any]]:
        """SQL for `columns` of the matching messages (`m`), newest first, followed by `tail` (LIMIT ...).

        A full-text search selects from one shard of the index at a time (`rows` reads them in turn).
        """
        if self.match is None:
            return (
                f"SELECT {columns} FROM messages m WHERE {self.where} ORDER BY m.seq DESC{tail}",
                [*self.params, *tail_params],
            )
        assert shard is not None, "a full-text search selects from a shard"
        return (
            f"SELECT {columns} FROM {shard.table} f JOIN messages m ON m.seq = f.rowid"
            f" WHERE {shard.table} MATCH ? AND {self.where} ORDER BY f.rowid DESC{tail}",
            [self.match, *self.params, *tail_params],
        )

    def rows(
        self, reader: sqlite3.Connection | sqlite3.Cursor, columns: str, start: int = 0, limit: int | None = None
    ) -> list[Any]:
        """`columns` of the matching messages, newest first, from the `start`th on (`limit` of them at most).

        A full-text search reads the index's shards newest first, each yielding its matches newest
        first, until the page is full: a page of a common term comes from the newest shard alone.
        """
        if self.match is None:
            return reader.execute(
                *self.select(columns, " LIMIT ? OFFSET ?", (-1 if limit is None else limit, start))
            ).fetchall()
        found: list[Any] = []
        skip = start
        for shard in reversed(shards_of(reader)):
            within = self
            if skip:  # step over the matches before the page by their seqs alone, as OFFSET would
                wanted = -1 if limit is None else skip + 1
                seqs = reader.execute(*self.select("f.rowid", " LIMIT ?", (wanted,), shard)).fetchall()
                if skip >= len(seqs):
                    skip -= len(seqs)
                    continue
                within, skip = self.up_to(seqs[skip][0]), 0
            wanted = -1 if limit is None else limit - len(found)
            found += reader.execute(*within.select(columns, " LIMIT ?", (wanted,), shard)).fetchall()
            if limit is not None and len(found) >= limit:
                break
        return found

    def count(
        self,
        unread: Unread = Unread.PROBE_UNREAD,
        seqs: tuple[int, int] = _EVERY_SEQ,
        words_match: str | None = None,
        probed: Sequence[int] | None = None,
        shards: Sequence[Shard] = (),
    ) -> tuple[str, list[Any]]:
        """SQL for the number of matching messages with a seq in (low, high], and of the unread among them.

        With `words_match` (see vocabulary.ByWords), the word index stands in for the trigrams.
        `probed`, if given, lists the seqs in the set to probe (they are few: see counts.few_probed).
        A full-text count adds up the counts of the index's `shards` (as shards_of gives them) that
        hold seqs in the range.
        """
        probe_set = (
            f"(SELECT seq FROM messages WHERE read = {unread.probed or 0})"
            if probed is None
            else "(" + ",".join("?" * len(probed)) + ")"
        )
        unread_sql = {
            Unread.ALL: "count(*)",
            Unread.NONE: "0",
            Unread.PROBE_READ: "count(*) - total({seq} IN {set})",
            Unread.PROBE_UNREAD: "total({seq} IN {set})",
        }[unread]
        probe_params = list(probed or ()) if unread.probed is not None else []
        if self.match is None:
            return (
                f"SELECT count(*), {unread_sql.format(seq='m.seq', set=probe_set)} FROM messages m"
                f" WHERE m.seq > ? AND m.seq <= ? AND {self.where}",
                [*probe_params, *seqs, *self.params],
            )
        join = "" if self.where == "1" else " JOIN messages m ON m.seq = f.rowid"
        tables = [shard.table for shard in overlapping(shards, *seqs)] if words_match is None else ["messages_words"]
        arms = [
            f"SELECT count(*) AS found, {unread_sql.format(seq='f.rowid', set=probe_set)} AS unread FROM {table} f{join}"
            f" WHERE {table} MATCH ? AND f.rowid > ? AND f.rowid <= ? AND {self.where}"
            for table in tables
        ]
        params = [*probe_params, self.match if words_match is None else words_match, *seqs, *self.params]
        if len(arms) <= 1:
            return (arms[0], params) if arms else ("SELECT 0, 0", [])
        return f"SELECT coalesce(sum(found), 0), total(unread) FROM ({' UNION ALL '.join(arms)})", params * len(arms)

    def up_to(self, seq: int) -> Compiled:
        """The same search limited to messages with a seq up to `seq`."""
        return Compiled(f"m.seq <= ? AND {self.where}", [seq, *self.params], self.match, self.words, self.sender)


def phrase(value: str) -> str:
    """An FTS5 string literal: every character of `value` searched for as it is."""
    return '"' + value.replace('"', '""') + '"'


def like(value: str) -> str:
    """A LIKE pattern for `value` as a substring, with LIKE's special characters escaped."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_short(columns: Sequence[str]) -> str:
    """Condition for a value too short for trigrams: LIKE over these FTS columns (one parameter each)."""
    likes = " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in columns)
    return f"m.seq IN (SELECT rowid FROM messages_fts WHERE {likes})"


def _match_expression(columns: Sequence[str], value: str) -> str:
    """An FTS5 query for `value` as a substring of any of these columns."""
    if tuple(columns) == _FTS_COLUMNS:
        return phrase(value)  # a column filter naming every column only costs time
    return f"{{{' '.join(columns)}}} : {phrase(value)}"


def _fts_any(columns: Sequence[str], value: str) -> tuple[str, list[str]]:
    """A standalone condition (and its parameters) for a substring of any of these FTS columns."""
    if len(value) >= _MIN_TRIGRAM:
        return (
            "m.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)",
            [_match_expression(columns, value)],
        )
    return _fts_short(columns), [like(value)] * len(columns)


def _address_like(key: str) -> str:
    """Condition: some address of the summary's `key` list ("Name <address>") contains the parameter."""
    return (
        f"EXISTS (SELECT 1 FROM json_each(m.summary, '$.{key}') a WHERE "
        "(json_extract(a.value, '$.Name') || ' <' || json_extract(a.value, '$.Address') || '>')"
        " LIKE ? ESCAPE '\\')"
    )


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
        _compile_term(builder, term, zone)
    return builder.compiled()


def _compile_term(builder: _Builder, term: Term, zone: datetime.tzinfo | None) -> None:
    """Add the conditions of one term to `builder`."""
    name, value, negated = term.field, term.value, term.negated
    if "\x00" in value:  # FTS5 reads a NUL as the end of its query: "unterminated string"
        raise QueryError("a search must not contain NUL characters")
    if name == "text":
        builder.fts(_FTS_COLUMNS, value, negated)
    elif name == "subject":
        builder.fts(("subject",), value, negated)
    elif name == "from":
        builder.fts(("sender",), value, negated)
    elif name == "sender":
        fts, fts_params = _fts_any(("sender",), value)
        builder.add(
            f"({fts} OR json_extract(m.envelope, '$.From') LIKE ? ESCAPE '\\')",
            *fts_params,
            like(value),
            negated=negated,
        )
    elif name == "recipients":
        builder.fts(("recipients",), value, negated)
    elif name in _ADDRESS_FIELDS:
        if name != "reply-to" and not negated and len(value) >= _MIN_TRIGRAM:
            builder.fts(("recipients",), value, False)  # narrows the candidates through the index
        builder.add(_address_like(_ADDRESS_FIELDS[name]), like(value), negated=negated)
    elif name == "addressed":
        fts, fts_params = _fts_any(("sender", "recipients"), value)
        builder.add(f"({fts} OR {_address_like('ReplyTo')})", *fts_params, like(value), negated=negated)
    elif name == "message-id":
        builder.add(
            "m.seq IN (SELECT seq FROM messages WHERE message_id LIKE ? ESCAPE '\\')",
            like(value.strip("<>")),
            negated=negated,
        )
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
        try:
            moment = timestamp(value, zone)
        except QueryError:
            return  # Mailpit ignores a date it can't read
        operator = ">=" if (name == "after") != negated else "<"
        builder.add(f"m.created {operator} ?", moment)
    elif name in ("larger", "smaller"):
        try:
            bytes_ = size(value)
        except QueryError:
            builder.fts(_FTS_COLUMNS, f"{name}:{value}", negated)  # Mailpit searches a size it can't read as text
            return
        operator = {("larger", False): ">", ("larger", True): "<=", ("smaller", False): "<", ("smaller", True): ">="}[
            name, negated
        ]
        builder.add(f"m.size {operator} ?", bytes_)
    else:
        raise ValueError(f"unknown search field {name!r}")
