"""A fast MIME splitter that builds the same `email.message.Message` tree as the standard library's parser.

`email.parser.BytesParser` reads a message line by line in Python, which costs most of
the time of capturing a message (and seconds for a 25 MB one). `split_message` finds the
header blocks and multipart boundaries with `bytes.find` and regular expressions instead,
and builds the tree the stdlib (policy compat32) would: the same headers, payloads and
structure. Anything unusual (a lone CR, a Unix "From " line, a line that is neither a
header nor the blank line, message/* parts, multipart without boundaries, very deep
nesting) raises `Unsupported`, and the caller falls back to the stdlib parser, whose
handling of broken mail is the reference.
"""

from __future__ import annotations

import email.message
import re
from typing import Any

__all__ = [
    "MAX_SPLIT_DEPTH",
    "SCAN_STEP",
    "Unsupported",
    "find",
    "has_lone_cr",
    "header_fields",
    "read_end",
    "shorten_payload",
    "split_head",
    "split_message",
]

MAX_SPLIT_DEPTH = 40
"""Multipart levels the splitter follows; deeper nesting is left to the standard library's parser."""
_FIELD = re.compile(r"([\041-\071\073-\176]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)")
"""A header field: its name, and its value with the continuation lines that fold it (the line
breaks within kept, the spaces and tabs after the colon not)."""


class Unsupported(Exception):
    """The message needs the standard library's parser."""


SCAN_STEP = 1 << 20
"""Bytes one scan of a message covers: a long scan holds Python's interpreter lock from start
to end, so a huge message is scanned in steps, letting other threads (and sessions) run between."""


def find(data: bytes, sub: bytes, start: int, end: int, step: int = SCAN_STEP) -> int:
    """`data.find(sub, start, end)`, in steps of `step` bytes."""
    while start < end:
        at = data.find(sub, start, min(end, start + step + len(sub) - 1))
        if at >= 0:
            return at
        start += step
    return -1


def has_lone_cr(data: bytes, step: int = SCAN_STEP) -> bool:
    """Whether some CR in `data` is not followed by LF, scanned in steps of `step` bytes."""
    for start in range(0, len(data), step):
        stop = start + step
        if data.count(b"\r", start, stop) != data.count(b"\r\n", start, stop + 1):
            return True
    return False


def _text(data: bytes, start: int, end: int) -> str:
    """data[start:end] as the stdlib parser's text: one character per byte, non-ASCII as surrogates."""
    if end - start < SCAN_STEP:  # slicing is quicker for a short piece; a view saves copying a long one
        return data[start:end].decode("ascii", "surrogateescape")
    return str(memoryview(data)[start:end], "ascii", "surrogateescape")


class _Part(email.message.Message):
    """A message or part whose leaf payload is decoded from the message's bytes when first read.

    Storing a message only needs the payloads of its text bodies: an attachment of 25 MB is
    never copied or decoded for it.
    """

    _source: tuple[bytes, int, int] | None = None
    _value: Any = None

    @property
    def _payload(self) -> Any:
        if self._source is not None:
            self._value = _text(*self._source)
            self._source = None
        return self._value

    @_payload.setter
    def _payload(self, value: Any) -> None:
        self._source, self._value = None, value

    def is_multipart(self) -> bool:
        return self._source is None and isinstance(self._value, list)


def read_end(data: bytes | str, start: int, end: int, limit: int | None) -> int:
    """Where to stop reading data[start:end] for about `limit` bytes: after the last line break
    within them (so that base64 or quoted-printable lines are decoded whole), or `end` if shorter."""
    if limit is None or end - start <= limit:
        return end
    cut = data.rfind(b"\n", start, start + limit) if isinstance(data, bytes) else data.rfind("\n", start, start + limit)
    return cut + 1 if cut > start else start + limit - limit % 4  # no line break: whole base64 quads


def shorten_payload(node: email.message.Message, limit: int) -> bool:
    """Keep about the first `limit` bytes of a leaf's payload (to a line's end), as if the part
    ended there; whether it was cut."""
    if isinstance(node, _Part) and node._source is not None:
        data, start, end = node._source
        node._source = (data, start, read_end(data, start, end, limit))
        return node._source[2] < end
    payload = node.get_payload()
    if isinstance(payload, str) and len(payload) > limit:
        node.set_payload(payload[: read_end(payload, 0, len(payload), limit)])
        return True
    return False


def _header_end(data: bytes, start: int, end: int) -> tuple[int, int]:
    """Where the header block starting at `start` ends, and where the body begins."""
    if data.startswith(b"\n", start) or data.startswith(b"\r\n", start):
        return start, start + (1 if data[start] == 0x0A else 2)
    window = 16384  # headers are short: look near the start first, so a huge body is not scanned twice
    while True:
        stop = min(end, start + window)
        crlf = find(data, b"\n\r\n", start, stop)
        blank = find(data, b"\n\n", start, crlf + 1 if crlf >= 0 else stop)  # only an earlier one counts
        if blank >= 0:
            return blank + 1, blank + 2
        if crlf >= 0:
            return crlf + 1, crlf + 3
        if stop == end:
            return end, end  # no blank line: all headers, no body
        window *= 8


def header_fields(block: str) -> list[tuple[str, str]]:
    """The (name, value) fields of a header block, each value unfolded as the stdlib keeps it raw.

    The block has no lone CR (`_check` makes sure), the only line break besides LF and CRLF
    for the stdlib's parser.
    """
    fields = []
    position = 0
    while position < len(block):
        field = _FIELD.match(block, position)
        if field is None:
            raise Unsupported("a line that is not a header, or headers that begin with a continuation line")
        fields.append((field[1], field[2].rstrip("\r\n")))
        position = field.end()
    return fields


def _strip_eol(text: str) -> str:
    """`text` without one final line break (CRLF or LF)."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def _without_eol(data: bytes, start: int, end: int) -> int:
    """The end of data[start:end] without one final line break (CRLF or LF)."""
    if end - 2 >= start and data.startswith(b"\r\n", end - 2):
        return end - 2
    return end - 1 if end - 1 >= start and data.startswith(b"\n", end - 1) else end


class _BoundaryLines:
    """Finds the boundary lines of one multipart: `--boundary`, or `--boundary--` to close it.

    Candidates are found with `find` (a regular expression anchored at every line start
    would step through a 25 MB attachment in Python's regex engine, a hundred times slower),
    then checked with the expression.
    """

    def __init__(self, boundary: bytes) -> None:
        self._line = re.compile(rb"--" + re.escape(boundary) + rb"(--)?[ \t]*\r?$", re.MULTILINE)
        self._marker = b"\n--" + boundary

    def search(self, data: bytes, start: int, end: int) -> re.Match[bytes] | None:
        """The first boundary line that begins at a line start within data[start:end]."""
        if start < end and (start == 0 or data[start - 1] == 0x0A):
            found = self._line.match(data, start, end)
            if found:
                return found
        position = start
        while (at := find(data, self._marker, position, end)) >= 0:
            found = self._line.match(data, at + 1, end)
            if found:
                return found
            position = at + 1
        return None


def _node(
    data: bytes, start: int, end: int, depth: int, digest: bool = False, in_multipart: bool = False
) -> email.message.Message:
    """The message or part in data[start:end].

    In a multipart, the line break before the next boundary belongs to the boundary, not
    to the part: it is dropped from the part's payload (or from its epilogue).
    """
    if depth > MAX_SPLIT_DEPTH or digest:
        raise Unsupported("deep nesting or a digest")
    message = _Part()
    header_end, body_start = _header_end(data, start, end)
    for name, value in header_fields(_text(data, start, header_end)):
        message.set_raw(name, value)
    maintype = message.get_content_maintype()
    if maintype == "message":
        raise Unsupported("an embedded message")
    if maintype != "multipart":
        message._source = (data, body_start, _without_eol(data, body_start, end) if in_multipart else end)
        return message
    boundary = message.get_boundary()
    if not boundary:
        raise Unsupported("multipart without a boundary")
    try:
        boundary_bytes = boundary.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        raise Unsupported("a boundary that is not in the message's bytes") from None
    _multipart(message, data, body_start, end, boundary_bytes, depth, message.get_content_subtype() == "digest")
    if in_multipart:
        message.epilogue = _strip_eol(message.epilogue) if message.epilogue else None
    return message


def _multipart(
    message: email.message.Message, data: bytes, start: int, end: int, boundary: bytes, depth: int, digest: bool
) -> None:
    line = _BoundaryLines(boundary)
    found = line.search(data, start, end)
    if found is None or found.group(1):
        raise Unsupported("no opening boundary found")
    message.preamble = _text(data, start, _without_eol(data, start, found.start())) if found.start() > start else None
    message.set_payload([])
    while True:
        if found.group(1):  # the close boundary
            message.epilogue = _text(data, found.end() + 1, end) if found.end() < end else ""
            return
        part_start = found.end() + 1
        found = line.search(data, min(part_start, end), end)
        while found is not None and found.start() == part_start:  # repeated boundary lines count once
            part_start = found.end() + 1
            found = line.search(data, min(part_start, end), end)
        part_end = found.start() if found is not None else end
        message.attach(_node(data, min(part_start, part_end), part_end, depth + 1, digest, in_multipart=True))
        if found is None:
            message.epilogue = None  # no close boundary: the last part runs to the end
            return


def _check(raw: bytes) -> None:
    if has_lone_cr(raw):
        raise Unsupported("a lone carriage return")
    if raw.startswith(b"From "):
        raise Unsupported("a Unix From line")


def split_message(raw: bytes) -> email.message.Message:
    """The message tree the stdlib's BytesParser (compat32) would build; raises Unsupported where unsure."""
    _check(raw)
    return _node(raw, 0, len(raw), 0)


def split_head(raw: bytes) -> tuple[list[tuple[str, str]], int]:
    """The header fields split_message would give the message, and where its body begins."""
    _check(raw)
    header_end, body_start = _header_end(raw, 0, len(raw))
    return header_fields(_text(raw, 0, header_end)), body_start
