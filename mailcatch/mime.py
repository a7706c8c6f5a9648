"""A fast MIME splitter that builds the same `email.message.Message` tree as the standard library's parser.

`email.parser.BytesParser` reads a message line by line in Python, which costs most of
the time of capturing a message (and seconds for a 25 MB one). `split_message` finds the
header blocks and multipart boundaries with `str.find` and regular expressions instead,
and builds the tree the stdlib (policy compat32) would: the same headers, payloads and
structure. Anything unusual (a lone CR, a Unix "From " line, a line that is neither a
header nor the blank line, message/* parts, multipart without boundaries, very deep
nesting) raises `Unsupported`, and the caller falls back to the stdlib parser, whose
handling of broken mail is the reference.
"""

from __future__ import annotations

import email.message
import re

__all__ = ["Unsupported", "split_message"]

MAX_DEPTH = 40
_HEADER_NAME = re.compile(r"[\041-\071\073-\176]+:")


class Unsupported(Exception):
    """The message needs the standard library's parser."""


def _header_end(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the header block starting at `start` ends, and where the body begins."""
    if text.startswith("\n", start) or text.startswith("\r\n", start):
        return start, start + (1 if text[start] == "\n" else 2)
    window = 16384  # headers are short: look near the start first, so a huge body is not scanned twice
    while True:
        stop = min(end, start + window)
        blank = text.find("\n\n", start, stop)
        crlf = text.find("\n\r\n", start, stop)
        if blank >= 0 or crlf >= 0:
            if crlf < 0 or 0 <= blank < crlf:
                return blank + 1, blank + 2
            return crlf + 1, crlf + 3
        if stop == end:
            return end, end  # no blank line: all headers, no body
        window *= 8


def _headers(message: email.message.Message, block: str) -> None:
    lines = block.splitlines(keepends=True)
    if lines and len(lines) != block.count("\n") + (0 if block.endswith("\n") else 1):
        raise Unsupported("unusual line breaks in the headers")
    current: list[str] = []
    for line in lines:
        if line[0] in " \t":
            if not current:
                raise Unsupported("the headers begin with a continuation line")
            current.append(line)
            continue
        if current:
            _set_header(message, current)
        if not _HEADER_NAME.match(line):
            raise Unsupported("a line that is not a header")
        current = [line]
    if current:
        _set_header(message, current)


def _set_header(message: email.message.Message, lines: list[str]) -> None:
    name, value = lines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(lines[1:])
    message.set_raw(name, value.rstrip("\r\n"))


def _strip_eol(text: str) -> str:
    """`text` without one final line break (CRLF or LF)."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


class _BoundaryLines:
    """Finds the boundary lines of one multipart: `--boundary`, or `--boundary--` to close it.

    Candidates are found with `str.find` (a regular expression anchored at every line start
    would step through a 25 MB attachment in Python's regex engine, a hundred times slower),
    then checked with the expression.
    """

    def __init__(self, boundary: str) -> None:
        self._line = re.compile(r"--" + re.escape(boundary) + r"(--)?[ \t]*\r?$", re.MULTILINE)
        self._marker = "\n--" + boundary

    def search(self, text: str, start: int, end: int) -> re.Match[str] | None:
        """The first boundary line that begins at a line start within text[start:end]."""
        if start < end and (start == 0 or text[start - 1] == "\n"):
            found = self._line.match(text, start, end)
            if found:
                return found
        position = start
        while (at := text.find(self._marker, position, end)) >= 0:
            found = self._line.match(text, at + 1, end)
            if found:
                return found
            position = at + 1
        return None


def _node(text: str, start: int, end: int, depth: int, digest: bool = False,
          in_multipart: bool = False) -> email.message.Message:
    """The message or part in text[start:end].

    In a multipart, the line break before the next boundary belongs to the boundary, not
    to the part: it is dropped from the part's payload (or from its epilogue).
    """
    if depth > MAX_DEPTH or digest:
        raise Unsupported("deep nesting or a digest")
    message = email.message.Message()
    header_end, body_start = _header_end(text, start, end)
    _headers(message, text[start:header_end])
    maintype = message.get_content_maintype()
    if maintype == "message":
        raise Unsupported("an embedded message")
    if maintype != "multipart":
        stop = end
        if in_multipart:  # without its final line break, found before the body is copied (once)
            if end - 2 >= body_start and text.startswith("\r\n", end - 2):
                stop = end - 2
            elif end - 1 >= body_start and text.startswith("\n", end - 1):
                stop = end - 1
        message.set_payload(text[body_start:stop])
        return message
    boundary = message.get_boundary()
    if not boundary:
        raise Unsupported("multipart without a boundary")
    _multipart(message, text, body_start, end, boundary, depth, message.get_content_subtype() == "digest")
    if in_multipart:
        message.epilogue = _strip_eol(message.epilogue) if message.epilogue else None
    return message


def _multipart(message: email.message.Message, text: str, start: int, end: int, boundary: str, depth: int,
               digest: bool) -> None:
    line = _BoundaryLines(boundary)
    found = line.search(text, start, end)
    if found is None or found.group(1):
        raise Unsupported("no opening boundary found")
    message.preamble = _strip_eol(text[start:found.start()]) if found.start() > start else None
    message.set_payload([])
    while True:
        if found.group(1):  # the close boundary
            message.epilogue = text[found.end() + 1:end] if found.end() < end else ""
            return
        part_start = found.end() + 1
        found = line.search(text, min(part_start, end), end)
        while found is not None and found.start() == part_start:  # repeated boundary lines count once
            part_start = found.end() + 1
            found = line.search(text, min(part_start, end), end)
        part_end = found.start() if found is not None else end
        message.attach(_node(text, min(part_start, part_end), part_end, depth + 1, digest, in_multipart=True))
        if found is None:
            message.epilogue = None  # no close boundary: the last part runs to the end
            return


def split_message(raw: bytes) -> email.message.Message:
    """The message tree the stdlib's BytesParser (compat32) would build; raises Unsupported where unsure."""
    text = raw.decode("ascii", "surrogateescape")
    if text.count("\r") != text.count("\r\n"):
        raise Unsupported("a lone carriage return")
    if text.startswith("From "):
        raise Unsupported("a Unix From line")
    return _node(text, 0, len(text), 0)
