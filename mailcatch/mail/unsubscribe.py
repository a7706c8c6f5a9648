"""The List-Unsubscribe header (RFC 2369, RFC 8058) read and checked with Mailpit's rules.

The header is a comma-separated list of `<URI>`s, at most one `mailto:` and one http(s) URL,
without spaces; comments in parentheses are ignored. What breaks a rule is reported in
Mailpit's words, so that a client comparing the two sees the same `Errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ListUnsubscribe", "list_unsubscribe", "parse_list_unsubscribe"]

_COMMENT = re.compile(r"\(.*?\)", re.DOTALL)
_BRACKETED = re.compile(r"<(.*?)>")
_ENCLOSED = re.compile(r"^<.*?>$", re.IGNORECASE | re.MULTILINE | re.DOTALL)
_BETWEEN = re.compile(r">(.*?)<", re.DOTALL)
_SEPARATOR = re.compile(r"^[\t\n\f\r ]*,[\t\n\f\r ]*$", re.MULTILINE)
_SPACE = re.compile(r"[\t\n\f\r ]")
_MAILTO = re.compile(r"mailto:[a-zA-Z0-9]")
_HTTP = re.compile(r"https?://[a-zA-Z0-9]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")


@dataclass(frozen=True, slots=True)
class ListUnsubscribe:
    """Mailpit's `ListUnsubscribe` of a message: the header, its usable links, what is wrong with it,
    and List-Unsubscribe-Post."""

    header: str = ""
    links: tuple[str, ...] = ()
    errors: str = ""
    header_post: str = ""


def _uri_error(uri: str) -> str:
    """Why a URI would not parse as a request URI (Go's net/url wording), or ""."""
    if _CONTROL.search(uri):
        return f'parse "{uri}": net/url: invalid control character in URL'
    if uri.startswith("mailto:"):
        return ""  # opaque: Go leaves its escapes alone
    path = uri.partition("?")[0]  # nor does it check the query's
    bad = _BAD_ESCAPE.search(path)
    if bad:
        return f'parse "{uri}": invalid URL escape "{path[bad.start() : bad.start() + 3]}"'
    host = _HOST.match(uri)
    if host and ":" in host[1] and not host[1].endswith("]"):
        port = host[1][host[1].rindex(":") :]
        if not port[1:].isdigit() and port != ":":
            return f'parse "{uri}": invalid port "{port}" after host'
    return ""


def parse_list_unsubscribe(value: str) -> tuple[list[str], str]:
    """The links of a List-Unsubscribe value, and the problems found ("" if none), as Mailpit reports them."""
    value = value.strip()
    for comment in _COMMENT.findall(value):
        value = value.replace(comment, "").strip()
    if not _BRACKETED.search(value):
        return [], f'"{value}" no valid unsubscribe links found'
    if not _ENCLOSED.search(value):
        return [], f'"{value}" should be enclosed in <>'
    uris = _BRACKETED.findall(value)
    if len(uris) > 2:
        return [], f'"{value}" should include a maximum of one email and one HTTP link'
    for between in _BETWEEN.findall(value):
        if not _SEPARATOR.search(between):
            return [], f'"{value}" <> should be split with a comma and optional spaces'
    links: list[str] = []
    errors: list[str] = []
    seen_mailto = seen_http = False
    for uri in uris:
        if _SPACE.search(uri):
            errors.append(f'"{uri}" should not contain spaces')
            continue
        if _MAILTO.match(uri):
            if seen_mailto:
                errors.append(f'"{uri}" should only contain one mailto:')
                continue
            seen_mailto = True
        elif _HTTP.match(uri):
            if seen_http:
                errors.append(f'"{uri}" should only contain one HTTP link')
                continue
            seen_http = True
        else:
            errors.append(f'"{uri}" should start with either http(s):// or mailto:')
            continue
        problem = _uri_error(uri)
        if problem:
            errors.append(problem)
            continue
        links.append(uri)
    return links, ", ".join(errors)


def list_unsubscribe(header: str | None, post: str | None) -> ListUnsubscribe:
    """Mailpit's `ListUnsubscribe` of a message from its List-Unsubscribe and List-Unsubscribe-Post values."""
    if not header:
        return ListUnsubscribe()
    links, errors = parse_list_unsubscribe(header)
    return ListUnsubscribe(header, tuple(links), errors, post or "")
