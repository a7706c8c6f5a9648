"""The visible text of an HTML body, collapsed to one line, and the snippet a listing shows of a message."""

from __future__ import annotations

import html as html_lib
import re

__all__ = ["SNIPPET_LENGTH", "collapse", "html_visible_text", "snippet"]

SNIPPET_LENGTH = 250

# An unclosed tag runs to the end of the text ("(?:>|$)"), which keeps every pattern linear.
_HTML_HIDDEN = re.compile(
    r"<!--.*?(?:-->|$)|<head\b[^>]*(?:>|$).*?(?:</head\s*>|(?=<body\b)|$)"
    r"|<(script|style|title|template)\b[^>]*(?:>|$).*?(?:</\1\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_HTML_BLOCK_TAG = re.compile(
    r"</?(?:br|p|div|tr|td|th|li|ul|ol|table|h[1-6]|blockquote|pre|hr|section|article|header|footer)\b[^>]*(?:>|$)",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<[a-zA-Z/!?][^>]*(?:>|$)")
# Zero-width and soft characters that mailers pad preheaders with.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u034f\u200b\u200c\u200d\u2060\ufeff"))


def html_visible_text(html: str) -> str:
    """Visible text of an HTML document (script/style dropped, entities decoded, whitespace collapsed)."""
    text = _HTML_HIDDEN.sub(" ", html)
    text = _HTML_BLOCK_TAG.sub(" ", text)
    text = _HTML_TAG.sub("", text)
    return collapse(html_lib.unescape(text))


def collapse(text: str) -> str:
    """Text on one line: invisible characters dropped, each run of whitespace one space."""
    if not text.isascii():
        text = text.translate(_INVISIBLE)
    return " ".join(text.split())


def snippet(text: str, html: str) -> str:
    """The start of a message's text (else of its HTML's visible text), collapsed, as a listing shows it."""
    if text and not text.isspace():
        # Collapse a prefix first: a body rarely needs more than twice the snippet's length
        # (the snippet is the same as long as the collapsed prefix is at least that long).
        head = collapse(text[: SNIPPET_LENGTH * 2])
        if len(head) < SNIPPET_LENGTH and len(text) > SNIPPET_LENGTH * 2:
            head = collapse(text)
    else:
        head = html_visible_text(html)
    return head[:SNIPPET_LENGTH].rstrip()
