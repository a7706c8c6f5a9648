"""Mailpit's search syntax: a query string as a list of terms, with its sizes, dates and time zones.

A query is a list of terms separated by spaces; `"double quotes"` group words into one
term. A term is plain text (matched as a case-insensitive substring of the subject,
addresses, text and HTML bodies and attachment names) or an operator `name:value`:
`to:`, `from:`, `cc:`, `bcc:`, `reply-to:`, `addressed:`, `subject:`, `message-id:`,
`tag:`, `is:read`, `is:unread`, `is:tagged`, `has:attachment`, `before:`, `after:`,
`larger:`, `smaller:`. A leading `-` or `!` negates a term. All terms must hold. As in
Mailpit, an `is:` or `has:` value it doesn't know (`is:starred`) is searched for as text.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from mailcatch.errors import QueryError

__all__ = ["Term", "parse_query", "size", "terms_of", "timestamp", "zone_named"]

_OPERATORS = {
    "subject",
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "addressed",
    "message-id",
    "tag",
    "before",
    "after",
    "larger",
    "smaller",
    "is",
    "has",
}
_IS_VALUES = {"read", "unread", "tagged"}
_HAS_VALUES = {"attachment", "attachments"}
_HAS_UNSUPPORTED = {"inline", "inlines"}
"""Mailpit's `has:` values that mailcatch can't answer (it keeps no count of inline parts)."""
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s?(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


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
    """The terms of a search query in Mailpit's syntax; QueryError for an operator value that makes no sense."""
    terms: list[Term] = []
    for token, quoted in _split(query):
        negated = False
        if len(token) > 1 and token[0] in "-!":
            negated, token = True, token[1:]
        name, sep, value = token.partition(":")
        name = name.lower()
        if quoted or not sep or name not in _OPERATORS:
            if token:
                terms.append(Term("text", token, negated))
            continue
        value = value.strip()
        if not value:
            continue
        if name == "has" and value.lower() in _HAS_UNSUPPORTED:
            raise QueryError(f"has:{value} is not supported (use has:attachment)")
        if (name == "is" and value.lower() not in _IS_VALUES) or (name == "has" and value.lower() not in _HAS_VALUES):
            terms.append(Term("text", token, negated))  # as Mailpit reads an operator it doesn't know: text
            continue
        if name in ("is", "has"):
            value = value.lower()
        terms.append(Term(name, value, negated))
    return terms


def terms_of(query: str | Sequence[Term]) -> list[Term]:
    """The terms of a query given as text (parsed) or as terms already."""
    return parse_query(query) if isinstance(query, str) else list(query)


def size(value: str) -> int:
    """Bytes of a `larger:` or `smaller:` value such as 2048, 200k or 1.5M."""
    found = _SIZE.match(value.strip())
    if not found:
        raise QueryError(f"{value!r} is not a size (write it as 2048, 200k or 1.5M)")
    return int(float(found.group(1)) * _SIZE_UNITS[(found.group(2) or "").lower()])


def timestamp(value: str, zone: datetime.tzinfo | None) -> float:
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
            raise QueryError(f"{value!r} is not a date (write it as 2024-05-31 or 2024-05-31T14:30)") from None
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
        raise QueryError(f"unknown time zone {name!r} (use a name such as Europe/Berlin)") from None
