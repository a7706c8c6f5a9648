"""The visible text of an HTML body on one line (for search), and the snippet a listing shows of a message."""

from __future__ import annotations

import html as html_lib
import re

from mailcatch.mail.html_to_text import html_strip

__all__ = ["SNIPPET_LENGTH", "collapse", "html_visible_text", "snippet"]

SNIPPET_LENGTH = 200
"""Bytes (of UTF-8) a snippet keeps before its "...", as in Mailpit."""
_HTML_PREFIXES = (4096, 32768, 262144)
"""Characters of a long HTML body read for its snippet before reading more."""
_HTML_MOST = 1 << 20
"""Characters of an HTML body read for its snippet at most (Mailpit reads all: a body whose first
MB shows less than a snippet's worth of text, and more after it, gets a shorter snippet here)."""
_MARGIN = 16  # bytes past the cut that the end of a start of a body may change (a space, a trimmed end)
_TO_SPACE = str.maketrans("\t\n\f\r\ufeff", "     ")
"""Go's whitespace (what \\s means to Mailpit's snippet) and byte-order marks, each to a space."""

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


def _cut(text: str) -> str:
    """`text` cut as Mailpit cuts a snippet: at SNIPPET_LENGTH bytes of UTF-8, then "...".

    A cut inside a character backs up to its start, and then one character more (so the
    character before a cut is dropped even when whole, as Mailpit does).
    """
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= SNIPPET_LENGTH:
        return text
    end = SNIPPET_LENGTH
    while end > 0 and data[end - 1] & 0xC0 == 0x80:  # a continuation byte
        end -= 1
    if end > 0 and data[end - 1] & 0xC0 == 0xC0:  # the first byte of a multi-byte character
        end -= 1
    return data[:end].decode("utf-8", "ignore") + "..."


def _html_line(html: str) -> str:
    """html_strip of a body, or of enough of its start for the snippet (the same first SNIPPET_LENGTH bytes)."""
    for size in _HTML_PREFIXES:
        if len(html) <= size:
            break
        line = html_strip(html[:size])
        if len(line.encode("utf-8", "surrogatepass")) > SNIPPET_LENGTH + _MARGIN:
            return line
    return html_strip(html[:_HTML_MOST])


def snippet(text: str, html: str) -> str:
    """The snippet a listing shows of a message, made as Mailpit makes it.

    From the HTML body if there is one (its visible text on one line), else from the text
    (each run of whitespace one space); cut at SNIPPET_LENGTH bytes followed by "...".
    """
    html = html.strip()
    if html:
        return _cut(_html_line(html))
    text = text.strip()
    if not text:
        return ""
    head = _collapse_spaces(text[: SNIPPET_LENGTH * 4])
    if len(text) > SNIPPET_LENGTH * 4 and len(head.encode("utf-8", "surrogatepass")) <= SNIPPET_LENGTH:
        head = _collapse_spaces(text)  # the start was mostly whitespace: collapse it all
    return _cut(head)


def _collapse_spaces(text: str) -> str:
    """Each run of Go's whitespace (and byte-order marks) as one space, the ends trimmed. Spaces made of the
    others, then pairs halved until none is left: four times faster than a regular expression's match at
    every space of a text, on the path of each message stored."""
    text = text.translate(_TO_SPACE)
    while "  " in text:
        text = text.replace("  ", " ")
    return text.strip()
