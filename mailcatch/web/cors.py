"""Cross-origin access, off unless `--api-cors` lists the origins whose pages may use the API.

Origins listed by name get their own origin back with `Access-Control-Allow-Credentials:
true`, so a page there can use the API with the visitor's login (`--ui-auth-file`). `*`
means the literal wildcard, as Mailpit sends it: `Access-Control-Allow-Origin: *` and no
credentials, so a page anywhere can read what the catcher shows without a login, but never
with the visitor's saved one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mailcatch.web.ws import origin_allowed

__all__ = ["ApiOptions", "any_origin", "cors_options", "foreign_page", "origin_pattern"]


class ApiOptions:
    """`OPTIONS` on an API path answers 200 with an empty body, as Mailpit's does (a cross-origin
    preflight, when `--api-cors` allows one, is answered before this with CORS headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS" and scope["path"].startswith("/api/"):
            await PlainTextResponse("")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def foreign_page(request: Request, origins: Sequence[str]) -> str | None:
    """The Origin of a browser page elsewhere that these origins (--api-cors) don't allow; None: the request may act.

    A page on any site can POST a "simple" request (text/plain, no preflight) to a catcher on the
    visitor's machine: the routes that act on such a POST (send, release) refuse it unless it comes
    from the catcher's own pages, an allowed origin, or no browser at all (no Origin).
    """
    origin = request.headers.get("origin")
    if origin is None or any_origin(origins):
        return None
    allowed = origin_pattern(origins)
    return None if origin_allowed(origin, request.headers.get("host"), request.url.scheme, allowed) else origin


def any_origin(origins: Sequence[str]) -> bool:
    """Whether `*` is among the origins: any page may call the API, without credentials."""
    return "*" in origins


def origin_pattern(origins: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern that fully matches the origins listed by name, or None when none are (`*` is not matched here).

    Each entry is an origin (`https://app.example.com:8443`) or a bare host name
    (`app.example.com`: that host over http or https, on any port).
    """
    alternatives = []
    for origin in origins:
        if origin == "*":
            continue
        if "://" in origin:
            alternatives.append(re.escape(origin.rstrip("/")))
        else:
            alternatives.append(r"https?://" + re.escape(origin) + r"(?::[0-9]+)?")
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def cors_options(origins: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for starlette's CORSMiddleware allowing these origins; None when none are listed."""
    common: dict[str, Any] = {"allow_methods": ["GET", "POST", "PUT", "DELETE"], "allow_headers": ["*"], "max_age": 600}
    if any_origin(origins):
        return {"allow_origins": ["*"], "allow_credentials": False, **common}
    pattern = origin_pattern(origins)
    if pattern is None:
        return None
    return {"allow_origin_regex": pattern.pattern, "allow_credentials": True, **common}
