"""Mailpit's search syntax on PostgreSQL: terms as SQL over `messages m JOIN message_search s`, with SQLite's answers.

Every operator is answered with the meaning mailcatch.storage.search.compile gives it on
SQLite, down to the case rules, which differ between its two ways of matching:

- A value of three characters or more is found through FTS5's trigram tokenizer there: a
  substring after folding case the tokenizer's way (Unicode-wide, accents kept). Here the text
  is stored folded the same way (`folded_*` columns, filled by `search_row` when a message is
  added) and the folded value is matched with LIKE, which a pg_trgm GIN index serves (see
  migrations/0002_search.sql): without one, every search would read every message's text.
- A shorter value, an address field (`to:`, `cc:`, `bcc:`, `reply-to:`), `message-id:` and the
  envelope sender are matched with SQLite's LIKE there, whose case-insensitivity is ASCII's
  alone: here LIKE over text with only A-Z lowered on both sides (the addresses and envelope
  sender are stored so), or for a short value a regular expression such as `[oO][kK]`.

A plain word may match any of the five texts (subject, sender, recipients, bodies, file names)
but not run across two of them, as on SQLite: the index reads them joined by a separator
(U+001F), and a value holding that character is also checked column by column.
"""

from __future__ import annotations

import datetime
import functools
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from mailcatch.errors import QueryError
from mailcatch.storage.prepare import ROW_COLUMNS, Prepared
from mailcatch.storage.search.query import Term, size, timestamp

__all__ = ["SEARCH_COLUMNS", "SEPARATOR", "ascii_case_regex", "ascii_lower", "fold", "like", "search_row", "where_of"]

SEPARATOR = "\x1f"
"""Between the five texts in the indexed text of a message (FOLDED_TEXT)."""
SEARCH_COLUMNS = (
    "subject, sender, recipients, body, files,"
    " folded_subject, folded_sender, folded_recipients, folded_body, folded_files,"
    " mail_from, to_list, cc_list, bcc_list, reply_to_list"
)
"""The columns of `message_search` that `search_row` gives values for, in its order."""
FOLDED_TEXT = (
    "(s.folded_subject || E'\\x1f' || s.folded_sender || E'\\x1f' || s.folded_recipients"
    " || E'\\x1f' || s.folded_body || E'\\x1f' || s.folded_files)"
)
"""The expression the message_search_text index is on (the same but for the `s.`)."""
_TEXTS = ("subject", "sender", "recipients", "body", "files")
_ADDRESS_LISTS = {"to": "to_list", "cc": "cc_list", "bcc": "bcc_list", "reply-to": "reply_to_list"}
_SUMMARY_KEYS = (("To", "to"), ("Cc", "cc"), ("Bcc", "bcc"), ("ReplyTo", "reply-to"))
_MIN_TRIGRAM = 3
_ENVELOPE = ROW_COLUMNS.split(", ").index("envelope")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_SQL_ASCII_LOWER = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'"
_REGEX_SPECIAL = frozenset("\\^$.|?*+()[]{}")


@functools.cache
def _fold_table() -> dict[int, str]:
    """How FTS5's trigram tokenizer (the SQLite search's) folds each character it changes.

    Asked of the SQLite library itself, so that both stores fold alike: every character Python
    knows a case of (none past U+1FFFF has one) is put through the tokenizer and read back from
    the vocabulary. U+FFFE and U+FFFF, which SQLite reads as U+FFFD, are asked too.
    """
    candidates = [
        code
        for code in range(0x20000)
        if not 0xD800 <= code < 0xE000
        and ((char := chr(code)).lower() != char or char.upper() != char or char.casefold() != char)
    ] + [0xFFFE, 0xFFFF]
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE folding USING fts5 (text, tokenize = 'trigram')")
        conn.execute("CREATE VIRTUAL TABLE folded USING fts5vocab (folding, instance)")
        conn.executemany("INSERT INTO folding (rowid, text) VALUES (?, ?)", ((c, chr(c) * 3) for c in candidates))
        return {
            int(code): str(term)[0]
            for code, term in conn.execute("SELECT doc, term FROM folded")
            if term != chr(code) * 3 and len(term) == 3
        }
    finally:
        conn.close()


def fold(text: str) -> str:
    """`text` with its case folded as the SQLite search's trigrams fold it."""
    return text.translate(_fold_table())


def ascii_lower(text: str) -> str:
    """`text` with A-Z lowered and nothing else: what SQLite's LIKE ignores the case of."""
    return text.translate(_ASCII_LOWER)


def ascii_case_regex(value: str) -> str:
    """A regular expression finding `value` with the case of A-Z ignored and of nothing else, as SQLite's LIKE does.

    (Lowering the text with translate() first took ten times as long: it looks up every
    character of every message in the list of letters.)
    """
    return "".join(
        f"[{char.lower()}{char.upper()}]"
        if char.isascii() and char.isalpha()
        else "\\" + char
        if char in _REGEX_SPECIAL
        else char
        for char in value
    )


def like(value: str) -> str:
    """A LIKE pattern for `value` as a substring, with `%`, `_` and `\\` escaped."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _address_texts(addresses: Any) -> list[str]:
    """An address list of the summary as SQLite's search reads it: "Name <address>", A-Z lowered."""
    return [
        ascii_lower(f"{a['Name']} <{a['Address']}>").replace("\x00", "\ufffd")
        for a in addresses or ()
        if a.get("Name") is not None and a.get("Address") is not None
    ]


def search_row(message: Prepared, fields: Sequence[str]) -> tuple[Any, ...]:
    """The `message_search` values (SEARCH_COLUMNS) of a new message, from its search fields (NUL-free)."""
    summary: Any = message.summary
    envelope = json.loads(message.row[_ENVELOPE]) if isinstance(message.row[_ENVELOPE], str) else {}
    mail_from = envelope.get("From") if isinstance(envelope, dict) else None
    return (
        *fields,
        *(fold(text) for text in fields),
        ascii_lower(str(mail_from)).replace("\x00", "\ufffd") if mail_from is not None else None,
        *(_address_texts(summary.get(key)) for key, _ in _SUMMARY_KEYS),
    )


def _texts(columns: Sequence[str], value: str) -> tuple[str, list[object]]:
    """A substring of any of these texts, as the SQLite search finds one (see the module's notes)."""
    if len(value) < _MIN_TRIGRAM:  # too short for trigrams: every message's text is read
        pattern = ascii_case_regex(value)
        return "(" + " OR ".join(f"s.{column} ~ %s" for column in columns) + ")", [pattern] * len(columns)
    pattern = like(fold(value))
    each = "(" + " OR ".join(f"s.folded_{column} LIKE %s" for column in columns) + ")"
    if tuple(columns) != _TEXTS:
        return each, [pattern] * len(columns)
    if SEPARATOR not in value:
        return f"{FOLDED_TEXT} LIKE %s", [pattern]
    return f"({FOLDED_TEXT} LIKE %s AND {each})", [pattern] * (1 + len(columns))


def _address(column: str, value: str) -> tuple[str, list[object]]:
    """Some address of a list contains `value` (ASCII case ignored), as the SQLite search's json_each finds."""
    pattern = like(ascii_lower(value))
    exact = f"EXISTS (SELECT 1 FROM unnest(s.{column}) a WHERE a LIKE %s)"
    if column == "reply_to_list":  # the message_search_reply_to index finds the candidates
        return f"(mailcatch_lines(s.reply_to_list) LIKE %s AND {exact})", [pattern, pattern]
    return exact, [pattern]


def _condition(term: Term, zone: datetime.tzinfo | None) -> tuple[str, list[object]] | None:
    """One term's condition and parameters, negated if the term is; None when it holds for every message."""
    name, value, negated = term.field, term.value, term.negated
    if "\x00" in value:
        raise QueryError("a search must not contain NUL characters")
    found: tuple[str, list[object]]
    if name == "text":
        found = _texts(_TEXTS, value)
    elif name == "subject":
        found = _texts(("subject",), value)
    elif name == "from":
        found = _texts(("sender",), value)
    elif name == "sender":
        sql, params = _texts(("sender",), value)
        found = f"({sql} OR s.mail_from LIKE %s)", [*params, like(ascii_lower(value))]
    elif name == "recipients":
        found = _texts(("recipients",), value)
    elif name in _ADDRESS_LISTS:
        sql, params = _address(_ADDRESS_LISTS[name], value)
        if name != "reply-to" and not negated and len(value) >= _MIN_TRIGRAM:
            # SQLite narrows by the recipients' trigrams too, and its answer is both conditions'
            narrow, more = _texts(("recipients",), value)
            sql, params = f"({narrow} AND {sql})", [*more, *params]
        found = sql, params
    elif name == "addressed":
        either, params = _texts(("sender", "recipients"), value)
        reply_to, more = _address("reply_to_list", value)
        found = f"({either} OR {reply_to})", [*params, *more]
    elif name == "message-id":
        found = f"translate(m.message_id, {_SQL_ASCII_LOWER}) LIKE %s", [like(ascii_lower(value.strip("<>")))]
    elif name == "tag":  # SQLite's NOCASE: A-Z alone; lower() is there for the message_tags_tag index
        found = (
            "EXISTS (SELECT 1 FROM message_tags t WHERE t.seq = m.seq AND lower(t.tag) = lower(%s)"
            f" AND translate(t.tag, {_SQL_ASCII_LOWER}) = %s)",
            [value, ascii_lower(value)],
        )
    elif name == "is":
        if value == "tagged":
            found = "EXISTS (SELECT 1 FROM message_tags t WHERE t.seq = m.seq)", []
        else:
            found = ("m.read" if value == "read" else "NOT m.read"), []
    elif name == "has":
        found = "m.attachments > 0", []
    elif name in ("after", "before"):
        try:
            moment = timestamp(value, zone)
        except QueryError:
            return None  # Mailpit ignores a date it can't read
        found = ("m.created >= %s" if name == "after" else "m.created < %s"), [moment]
    elif name in ("larger", "smaller"):
        try:
            bytes_ = size(value)
        except QueryError:  # Mailpit searches a size it can't read as text
            found = _texts(_TEXTS, f"{name}:{value}")
        else:
            found = ("m.size > %s" if name == "larger" else "m.size < %s"), [bytes_]
    else:
        raise ValueError(f"unknown search field {name!r}")
    sql, params = found
    return (f"NOT ({sql})" if negated else f"({sql})"), params


def where_of(terms: Sequence[Term], zone: datetime.tzinfo | None = None) -> tuple[str, list[object]]:
    """A WHERE clause over `messages m JOIN message_search s` that every term holds in, and its parameters.

    `zone` is the time zone of `before:` and `after:` dates without an offset (None: local time).
    """
    parts: list[str] = []
    params: list[object] = []
    for term in terms:
        found = _condition(term, zone)
        if found is not None:
            parts.append(found[0])
            params += found[1]
    return (" AND ".join(parts) or "TRUE"), params
