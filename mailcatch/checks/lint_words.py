"""RFC 2047 encoded words in header values: a known charset, B or Q, data that decodes, in the right places."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

from mailcatch.checks.lint_findings import Severity
from mailcatch.mail.decode import codec

__all__ = ["ADDRESS_HEADERS", "word_problems"]

ADDRESS_HEADERS = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc"}
)
"""Structured headers whose phrases may hold encoded words, but never inside quoted strings."""
# Anything that looks like an encoded word, to be checked part by part: =?charset?encoding?text?=
_LOOSE_WORD = re.compile(r"=\?([^?\s]*)\?([^?\s]*)\?([^\s]*?)\?=")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")
_Q_TEXT = re.compile(r"(?:[!-<>@-~]|=[0-9A-Fa-f]{2})*\Z")  # printable ASCII but "=", "?", "_"-as-space allowed
_ASCII_NAMES = frozenset({"us-ascii", "ascii"})


def _decoded(encoding: str, text: str) -> bytes | None:
    """The bytes of an encoded word's text, or None if they don't follow its encoding."""
    if encoding == "b":
        if not _B64.match(text):
            return None
        return binascii.a2b_base64(text)
    if not _Q_TEXT.match(text):
        return None
    return binascii.a2b_qp(text.encode("ascii"), header=True)


def _quoted_spans(value: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _QUOTED.finditer(value)]


def word_problems(lname: str, value: str) -> Iterator[tuple[Severity, str, str]]:
    """(severity, code, message) for each problem with the encoded words of one unfolded header value."""
    quoted = _quoted_spans(value) if lname in ADDRESS_HEADERS else []
    for match in _LOOSE_WORD.finditer(value):
        word, charset, encoding, text = match.group(), match.group(1), match.group(2).lower(), match.group(3)
        shown = word if len(word) <= 60 else word[:57] + "..."
        if any(start < match.start() and match.end() < end for start, end in quoted):
            yield (
                "error",
                "encoded-word-in-quoted-string",
                f"the encoded word {shown} is inside a quoted string, where it must not be decoded: "
                "mail programs show it as it is (or decode it against the standard)",
            )
            continue
        label = charset.partition("*")[0]  # RFC 2231 language: utf-8*en
        if label.lower() not in _ASCII_NAMES and codec(label) is None:
            yield "error", "encoded-word-charset", f"the encoded word {shown} names the unknown charset {charset!r}"
            continue
        if encoding not in ("b", "q"):
            yield "error", "encoded-word-encoding", f"the encoded word {shown} uses {encoding!r}: only B or Q exist"
            continue
        data = _decoded(encoding, text)
        if data is None:
            kind = "base64" if encoding == "b" else "Q (quoted-printable)"
            yield "error", "encoded-word-data", f"the encoded word {shown} is not valid {kind}"
            continue
        try:
            data.decode(codec(label) or "ascii")
        except (UnicodeDecodeError, LookupError):
            yield (
                "error",
                "encoded-word-undecodable",
                f"the encoded word {shown} doesn't decode as {charset} (each encoded word must hold whole characters)",
            )
            continue
        if len(word) > 75:
            yield (
                "warning",
                "encoded-word-too-long",
                f"the encoded word {shown} is {len(word)} characters long, over 75",
            )
        before = value[match.start() - 1] if match.start() else " "
        after = value[match.end()] if match.end() < len(value) else " "
        if not (before.isspace() or before == "(") or not (after.isspace() or after == ")"):
            yield (
                "warning",
                "encoded-word-not-delimited",
                f"the encoded word {shown} touches other text: it must be set apart by spaces, or mail programs "
                "show it undecoded",
            )
