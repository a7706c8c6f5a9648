"""A message's bytes as the standards lint reads them: header blocks with their line numbers, MIME parts by PartID.

The parsed view (mailcatch.mail.parse) forgives and forgets where things were; the lint needs
both the mistakes and their places, so it walks the raw bytes itself. Part IDs are numbered
as mailcatch.mail.parse numbers them for /part/{PartID}: the children of a multipart 1, 2, ...
joined by dots, a message that is not multipart "1", message/* parts leaves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailcatch.mail.decode import unfold
from mailcatch.mail.params import parse_params

__all__ = ["MAX_DEPTH", "Field", "HeaderBlock", "LineCounter", "Node", "read_header_block", "walk"]

MAX_DEPTH = 100
"""Multipart levels the lint follows, as many as the parser (mailcatch.mail.parse.MAX_PART_DEPTH)."""
_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]+)([ \t]*):")


class LineCounter:
    """Line numbers (from 1) of byte offsets, counting LF; quick for offsets asked in increasing order."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw
        self._offset = 0
        self._line = 1

    def line_of(self, offset: int) -> int:
        if offset < self._offset:
            self._offset, self._line = 0, 1
        self._line += self._raw.count(b"\n", self._offset, offset)
        self._offset = offset
        return self._line


@dataclass(slots=True)
class Field:
    """One header field as sent: its name, raw value (8-bit bytes as surrogates, folds kept) and place."""

    name: str
    value: str
    line: int
    """The line of the raw message its name is on."""
    start: int
    end: int
    """Byte offsets of the field, its line breaks included."""
    space_before_colon: bool = False

    @property
    def lname(self) -> str:
        return self.name.lower()

    @property
    def text(self) -> str:
        """The value unfolded and trimmed, 8-bit bytes still as surrogates."""
        return unfold(self.value).strip(" \t")

    @property
    def raw_bytes(self) -> bytes:
        return self.value.encode("ascii", "surrogateescape")


@dataclass(slots=True)
class HeaderBlock:
    """A header block: its fields, the lines in it that are no field (line, text), and where its body begins."""

    fields: list[Field]
    junk: list[tuple[int, str]]
    body_start: int

    def all(self, lname: str) -> list[Field]:
        return [f for f in self.fields if f.lname == lname]

    def first(self, lname: str) -> Field | None:
        return next((f for f in self.fields if f.lname == lname), None)


def _line_end(raw: bytes, start: int, end: int) -> int:
    """The offset just past the line starting at `start` (its LF included), at most `end`."""
    at = raw.find(b"\n", start, end)
    return end if at < 0 else at + 1


def read_header_block(raw: bytes, start: int, end: int, lines: LineCounter) -> HeaderBlock:
    """The header block at raw[start:end]: fields up to the blank line (or the first line that is no
    field nor continuation, where parsers start the body, as the standard library's does)."""
    fields: list[Field] = []
    junk: list[tuple[int, str]] = []
    position = start
    while position < end:
        stop = _line_end(raw, position, end)
        line = raw[position:stop]
        if line in (b"\r\n", b"\n"):
            return HeaderBlock(fields, junk, stop)
        if line[:1] in (b" ", b"\t"):
            if fields:
                last = fields[-1]
                last.value += "\n" + line.decode("ascii", "surrogateescape").rstrip("\r\n")
                last.end = stop
                position = stop
                continue
            junk.append((lines.line_of(position), line.decode("ascii", "surrogateescape").rstrip("\r\n")))
            position = stop
            continue
        found = _NAME.match(line)
        if found is None:
            junk.append((lines.line_of(position), line.decode("ascii", "surrogateescape").rstrip("\r\n")))
            return HeaderBlock(fields, junk, position)
        name = found.group(1).decode("ascii")
        value = line[found.end() :].decode("ascii", "surrogateescape").rstrip("\r\n")
        fields.append(Field(name, value, lines.line_of(position), position, stop, bool(found.group(2))))
        position = stop
    return HeaderBlock(fields, junk, end)


@dataclass(slots=True)
class Node:
    """A MIME part (or the message itself) with its place in the raw bytes."""

    part_id: str
    """mailcatch's PartID of a leaf; for a multipart, the prefix of its children's ("" for the message)."""
    start: int
    header: HeaderBlock
    body_end: int
    content_type: str
    """Lower-cased, as declared ("" when there is no Content-Type)."""
    params: dict[str, str]
    children: list[Node] | None = None
    """The parts of a multipart that could be split; None for a leaf."""
    closed: bool = True
    """Whether a multipart ends with its close boundary."""
    opened: bool = True
    """Whether a multipart's first boundary line was found."""

    @property
    def body_start(self) -> int:
        return self.header.body_start

    @property
    def effective_type(self) -> str:
        """The type the part is read as: its declared type if well formed, else text/plain."""
        ctype = "".join(self.content_type.split())
        if ctype.count("/") != 1 or ctype.startswith("/") or ctype.endswith("/"):
            return "text/plain"
        return ctype

    def leaves(self) -> list[Node]:
        """Every leaf in document order."""
        found: list[Node] = []
        stack = [self]
        while stack:
            node = stack.pop()
            if node.children is None:
                found.append(node)
            else:
                stack.extend(reversed(node.children))
        return found

    def nodes(self) -> list[Node]:
        """Every node, this one first, in document order."""
        found: list[Node] = []
        stack = [self]
        while stack:
            node = stack.pop()
            found.append(node)
            if node.children is not None:
                stack.extend(reversed(node.children))
        return found


def _boundary_line(boundary: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"--" + re.escape(boundary) + rb"(--)?[ \t]*\r?(?:\n|\Z)")


def _find_boundary(
    raw: bytes, pattern: re.Pattern[bytes], marker: bytes, start: int, end: int
) -> re.Match[bytes] | None:
    """The first boundary line starting at a line start within raw[start:end]."""
    if start < end and (start == 0 or raw[start - 1] == 0x0A):
        found = pattern.match(raw, start, end)
        if found:
            return found
    position = start
    while (at := raw.find(marker, position, end)) >= 0:
        found = pattern.match(raw, at + 1, end)
        if found:
            return found
        position = at + 1
    return None


def _without_eol(raw: bytes, start: int, end: int) -> int:
    """`end` less the line break before it (the one a boundary line owns)."""
    if end - 2 >= start and raw[end - 2 : end] == b"\r\n":
        return end - 2
    return end - 1 if end - 1 >= start and raw[end - 1 : end] == b"\n" else end


def _node(raw: bytes, start: int, end: int, part_id: str, depth: int, lines: LineCounter, default: str) -> Node:
    header = read_header_block(raw, start, end, lines)
    type_field = header.first("content-type")
    ctype, params = parse_params(unfold(type_field.value)) if type_field else (default, {})
    node = Node(part_id, start, header, end, ctype, params)
    if not node.effective_type.startswith("multipart/") or depth >= MAX_DEPTH:
        return node
    boundary = params.get("boundary", "")
    if not boundary:
        return node  # read as text: the multipart check says why
    pattern = _boundary_line(boundary.encode("utf-8", "surrogateescape"))
    marker = b"\n--" + boundary.encode("utf-8", "surrogateescape")
    found = _find_boundary(raw, pattern, marker, header.body_start, end)
    if found is None or found.group(1):
        node.opened = False
        return node
    node.children = []
    child_default = "message/rfc822" if node.effective_type == "multipart/digest" else "text/plain"
    while True:
        if found.group(1):
            return node
        part_start = found.end()
        found = _find_boundary(raw, pattern, marker, min(part_start, end), end)
        while found is not None and found.start() == part_start:  # repeated boundary lines count once
            part_start = found.end()
            found = _find_boundary(raw, pattern, marker, min(part_start, end), end)
        part_end = _without_eol(raw, part_start, found.start()) if found is not None else end
        number = len(node.children) + 1
        child_id = f"{part_id}.{number}" if part_id else str(number)
        child = _node(raw, min(part_start, part_end), part_end, child_id, depth + 1, lines, child_default)
        node.children.append(child)
        if found is None:
            node.closed = False
            return node


def walk(raw: bytes, lines: LineCounter) -> Node:
    """The message's MIME tree (a message that is not multipart is one leaf, PartID "1")."""
    root = _node(raw, 0, len(raw), "", 0, lines, "text/plain")
    if root.children is None:
        root.part_id = "1"
    return root
