"""The searches the PostgreSQL store answers so far, as SQL over `messages` and `message_search`.

This first version answers plain words and quoted phrases (a case-insensitive substring of the
subject, sender, recipients, bodies or file names, as on SQLite), `subject:`, `tag:`,
`is:read`, `is:unread` and `is:tagged`, each of them negated with `-`. Every other operator
is refused with a QueryError (HTTP 400) that says so, rather than answered differently from
SQLite; the next version answers them all, with trigram indexes (pg_trgm).
"""

from __future__ import annotations

from collections.abc import Sequence

from mailcatch.errors import QueryError
from mailcatch.storage.search.query import Term

__all__ = ["ANSWERED", "where_of"]

ANSWERED = "plain words, quoted phrases, subject:, tag:, is:read, is:unread and is:tagged"
_TEXT = "(s.subject || ' ' || s.sender || ' ' || s.recipients || ' ' || s.body || ' ' || s.files)"


def _like(value: str) -> str:
    """A substring pattern for ILIKE matching `value` literally."""
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _condition(term: Term) -> tuple[str, list[object]]:
    field, value = term.field, term.value
    if field == "text":
        return f"{_TEXT} ILIKE %s", [_like(value)]
    if field == "subject":
        return "s.subject ILIKE %s", [_like(value)]
    if field == "tag":
        return "EXISTS (SELECT 1 FROM message_tags t WHERE t.seq = m.seq AND lower(t.tag) = lower(%s))", [value]
    if field == "is" and value.lower() in ("read", "unread"):
        return ("m.read" if value.lower() == "read" else "NOT m.read"), []
    if field == "is" and value.lower() == "tagged":
        return "m.tags <> '[]'", []
    raise QueryError(f"{field}:{value} can't be searched for on PostgreSQL yet; it searches {ANSWERED}")


def where_of(terms: Sequence[Term]) -> tuple[str, list[object]]:
    """A WHERE clause over `messages m JOIN message_search s` for every term, and its parameters."""
    parts: list[str] = []
    params: list[object] = []
    for term in terms:
        sql, values = _condition(term)
        parts.append(f"NOT ({sql})" if term.negated else f"({sql})")
        params += values
    return (" AND ".join(parts) or "TRUE"), params
