"""Cross-origin access, off unless `--api-cors` lists the origins whose pages may use the API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["cors_options", "origin_pattern"]


def origin_pattern(origins: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern that fully matches the allowed origins, or None when none are listed.

    Each entry is `*` (any origin), an origin (`https://app.example.com:8443`) or a bare
    host name (`app.example.com`: that host over http or https, on any port).
    """
    alternatives = []
    for origin in origins:
        if origin == "*":
            return re.compile(".*", re.DOTALL)
        if "://" in origin:
            alternatives.append(re.escape(origin.rstrip("/")))
        else:
            alternatives.append(r"https?://" + re.escape(origin) + r"(?::[0-9]+)?")
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def cors_options(origins: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for starlette's CORSMiddleware allowing these origins; None when none are listed."""
    pattern = origin_pattern(origins)
    if pattern is None:
        return None
    return {
        "allow_origin_regex": pattern.pattern,
        "allow_methods": ["GET", "POST", "PUT", "DELETE"],
        "allow_headers": ["*"],
        "allow_credentials": True,
        "max_age": 600,
    }
