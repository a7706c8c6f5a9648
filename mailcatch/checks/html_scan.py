"""The tags of an HTML body in source order, each with its offset: what the HTML and link checks look at.

Unlike mailcatch.mail.html_tree, which builds the tree a reader sees, this keeps where each tag, attribute
value, comment and style sheet is in the text, so that a finding can say its line. Reading is linear in
the length of the HTML whatever it holds: every search moves past what it matched or ends the text.
"""

from __future__ import annotations

import bisect
import html as html_lib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from mailcatch.mail.html_syntax import ATTRIBUTE, TAG_NAME, TAG_REST

__all__ = ["Comment", "Doctype", "Positions", "RawText", "Tag", "scan"]

_RAW_TEXT = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"})


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute: lower-case name, value with character references decoded, and where the value starts."""

    name: str
    value: str
    start: int
    exact: bool
    """Whether offsets in `value` are offsets in the source (no character reference was decoded)."""


@dataclass(frozen=True, slots=True)
class Tag:
    """A start or end tag; `source` is its text as written."""

    name: str
    start: int
    source: str
    closing: bool = False
    attributes: list[Attribute] = field(default_factory=list)

    def get(self, name: str) -> Attribute | None:
        """The first attribute of that (lower-case) name."""
        return next((a for a in self.attributes if a.name == name), None)

    def value(self, name: str) -> str:
        """The first value of an attribute ("" if absent)."""
        found = self.get(name)
        return found.value if found else ""


@dataclass(frozen=True, slots=True)
class Comment:
    """`<!-- ... -->`."""

    start: int
    text: str


@dataclass(frozen=True, slots=True)
class Doctype:
    """`<!DOCTYPE ...>`."""

    start: int
    text: str


@dataclass(frozen=True, slots=True)
class RawText:
    """The text of an element read as raw text (`<style>`, `<script>`, `<title>`...), and where it starts."""

    tag: str
    start: int
    text: str


Token = Tag | Comment | Doctype | RawText


def _attributes(text: str, offset: int) -> list[Attribute]:
    found = []
    for match in ATTRIBUTE.finditer(text):
        group = 2 if match[2] is not None else 3 if match[3] is not None else 4
        value = match[group] or ""
        start = offset + (match.start(group) if match[group] is not None else match.end())
        decoded = html_lib.unescape(value) if "&" in value else value
        found.append(Attribute(match[1].lower(), decoded, start, "&" not in value))
    return found


def scan(html: str) -> Iterator[Token]:
    """The tags, comments, doctypes and raw texts of `html`, in order (text between tags is skipped)."""
    position, length = 0, len(html)
    while position < length:
        at = html.find("<", position)
        if at < 0:
            return
        if html.startswith("<!--", at):
            end = html.find("-->", at + 4)
            stop = length if end < 0 else end
            yield Comment(at, html[at + 4 : stop])
            position = stop + 3
            continue
        closing = html.startswith("</", at)
        name = TAG_NAME.match(html, at + 2 if closing else at + 1)
        if name is None:
            if closing or html.startswith(("<!", "<?"), at):
                end = html.find(">", at)
                stop = length if end < 0 else end
                if html[at : at + 9].lower() == "<!doctype":
                    yield Doctype(at, html[at : stop + 1])
                position = stop + 1
            else:
                position = at + 1
            continue
        rest = TAG_REST.match(html, name.end())
        if rest is None:
            return  # a tag cut off by the end of the text
        tag = name[0].lower()
        position = rest.end()
        source = html[at:position]
        if closing:
            yield Tag(tag, at, source, closing=True)
            continue
        yield Tag(tag, at, source, attributes=_attributes(html[name.end() : position - 1], name.end()))
        if tag in _RAW_TEXT and not source.endswith("/>"):
            end_tag = re.compile(rf"</{re.escape(tag)}[\s/>]", re.IGNORECASE).search(html, position)
            end = length if end_tag is None else end_tag.start()
            yield RawText(tag, position, html[position:end])
            position = end


class Positions:
    """Line and column (both from 1) of an offset in a text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0, *(match.end() for match in re.finditer(r"\r\n|\r|\n", text))]

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1
