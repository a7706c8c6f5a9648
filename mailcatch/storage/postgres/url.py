"""PostgreSQL URLs as --database takes them: telling one from a SQLite path, and naming one without its password."""

from __future__ import annotations

import urllib.parse

__all__ = ["SCHEMES", "is_postgres_url", "without_password"]

SCHEMES = ("postgresql://", "postgres://")
"""How a --database value that names a PostgreSQL database begins (libpq's two spellings)."""


def is_postgres_url(database: str | None) -> bool:
    """Whether a --database value names a PostgreSQL database rather than a SQLite file."""
    return bool(database) and str(database).lower().startswith(SCHEMES)


def without_password(url: str) -> str:
    """The URL with its password left out (from the user part and from a `password=` parameter), for messages and logs."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}@{host}"
        query = urllib.parse.urlencode(
            [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "password"]
        )
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not even a URL's shape: say only what kind it is
        return url.split("://", 1)[0] + "://..."
