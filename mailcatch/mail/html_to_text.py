"""HTML bodies as text, the two ways Mailpit makes them.

`html_to_text` is the `Text` Mailpit gives a message that has no text part: paragraphs,
list items (`* `), bold (`*x*`), links (`text ( url )`), headings underlined, blockquotes
quoted with `> `, one space between inline pieces. `html_strip` is the one line of visible
text Mailpit takes a snippet from. Both read the document tree of html_tree.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from mailcatch.mail.html_tree import Element, parse_html

__all__ = ["html_strip", "html_to_text"]

_SPACING = re.compile(r"[ \r\n\t]+")
_BLANK_LINES = re.compile(r"\n\n+")
_LINE_WIDTH = 74  # lines in a blockquote are wrapped at this many characters
_HIDDEN = frozenset({"head", "script", "style"})


class _TooLong(Exception):
    """The text has grown past its budget (hostile markup, such as headings nested hundreds deep)."""


@dataclass(slots=True)
class _Budget:
    left: int


@dataclass(slots=True)
class _Writer:
    """The text written so far, and what decides the spacing of what comes next."""

    budget: _Budget
    ends_with_space: bool = False
    out: list[str] = field(default_factory=list)
    prefix: str = ""
    just_closed_div: bool = False
    quote_level: int = 0
    line_length: int = 0
    in_pre: bool = False

    def text(self) -> str:
        return "".join(self.out)

    def emit(self, data: str) -> None:
        """Write `data`, with a space before it unless either side already has one (or it starts with ".")."""
        if not data:
            return
        self.budget.left -= len(data) + len(self.prefix) * data.count("\n")
        if self.budget.left < 0:
            raise _TooLong
        for line in self._wrapped(data):
            if not line[0].isspace() and not self.ends_with_space and not data.startswith("."):
                self.out.append(" ")
                self.line_length += 1
            self.ends_with_space = line[-1].isspace()
            if "\n" in line:
                pieces = line.split("\n")
                self.out.append(("\n" + self.prefix).join(pieces))
                self.line_length = len(pieces[-1])
            else:
                self.out.append(line)
                self.line_length += len(line)

    def _wrapped(self, data: str) -> list[str]:
        """`data` in lines that fit a blockquote's width (outside blockquotes, as it is)."""
        if self.quote_level == 0:
            return [data]
        lines: list[str] = []
        existing = self.line_length
        if existing >= _LINE_WIDTH:
            lines.append("\n")
            existing = 0
        start, end = 0, len(data)  # data[start:] is still to place
        while end - start + existing > _LINE_WIDTH:
            cut = start + _LINE_WIDTH - existing
            while cut >= start and not data[cut].isspace():
                cut -= 1
            if cut < start:  # no space before the width: break at the first one after it
                cut = start + _LINE_WIDTH - existing
                while cut < end and not data[cut].isspace():
                    cut += 1
            lines.append(data[start:cut] + "\n")
            while cut < end and data[cut].isspace():
                cut += 1
            start, existing = cut, 0
        if start < end:
            lines.append(data[start:])
        return lines


def _children(writer: _Writer, node: Element) -> None:
    for child in node.children:
        if isinstance(child, str):
            writer.emit(child if writer.in_pre else _SPACING.sub(" ", child).strip(" "))
        else:
            _element(writer, child)


def _paragraph(writer: _Writer, node: Element) -> None:
    writer.emit("\n\n")
    _children(writer, node)
    writer.emit("\n\n")


def _heading(writer: _Writer, node: Element) -> None:
    inner = _Writer(writer.budget)
    _children(inner, node)
    text = inner.text()
    width = max([len(line) - 1 for line in text.split("\n")] + [0])
    divider = ("*" if node.tag == "h1" else "-") * width
    if node.tag == "h3":
        writer.emit(f"\n\n{text}\n{divider}\n\n")
    else:
        writer.emit(f"\n\n{divider}\n{text}\n{divider}\n\n")


def _blockquote(writer: _Writer, node: Element) -> None:
    writer.quote_level += 1
    writer.prefix = ">" * writer.quote_level + " "
    writer.emit("\n")
    if writer.quote_level == 1:
        writer.emit("\n")
    _children(writer, node)
    writer.quote_level -= 1
    writer.prefix = ">" * writer.quote_level + (" " if writer.quote_level else "")
    writer.emit("\n\n")


def _div(writer: _Writer, node: Element) -> None:
    if writer.line_length > 0:
        writer.emit("\n")
    _children(writer, node)
    if not writer.just_closed_div:
        writer.emit("\n")
    writer.just_closed_div = True


def _link(writer: _Writer, node: Element) -> None:
    first = node.children[0] if node.children else None
    link_text = first if isinstance(first, str) and len(node.children) == 1 else None
    if isinstance(first, Element) and len(node.children) == 1 and first.tag == "img":
        writer.emit(first.attr("alt"))  # an image alone in a link: its alt text is the link's text
    else:
        _children(writer, node)
    href = node.attr("href").strip().removeprefix("mailto:")
    writer.emit(f"( {href} )" if href and href != link_text else "")


def _element(writer: _Writer, node: Element) -> None:
    writer.just_closed_div = False
    tag = node.tag
    if tag == "br":
        writer.emit("\n")
    elif tag in ("h1", "h2", "h3"):
        _heading(writer, node)
    elif tag == "blockquote":
        _blockquote(writer, node)
    elif tag == "div":
        _div(writer, node)
    elif tag == "li":
        writer.emit("* ")
        _children(writer, node)
        writer.emit("\n")
    elif tag in ("b", "strong"):
        inner = _Writer(writer.budget, ends_with_space=True)
        _children(inner, node)
        writer.emit(f"*{inner.text()}*")
    elif tag == "a":
        _link(writer, node)
    elif tag in ("p", "ul", "table"):
        _paragraph(writer, node)
    elif tag == "pre":
        writer.in_pre = True
        _children(writer, node)
        writer.in_pre = False
    elif tag not in _HIDDEN:
        _children(writer, node)


def html_to_text(html: str) -> str:
    """The text Mailpit shows for a message whose only body is HTML (its `Text`).

    Text is a little shorter than its HTML, or up to three times as long for headings: past
    four times its length plus 4 KB (only hostile markup gets there), the rest is left out.
    """
    writer = _Writer(_Budget(4 * len(html) + 4096))
    with contextlib.suppress(_TooLong):
        _children(writer, parse_html(html))
    text = _BLANK_LINES.sub("\n\n", writer.text().replace("\n ", "\n"))
    return text.strip()


# --- Mailpit's one-line text, for snippets ---------------------------------------------------

_BLOCK_END = re.compile(
    r"</(div|p|td|th|h[1-6]|ul|ol|li|address|article|aside|blockquote|dl|dt|footer|header|hr|main|nav|pre|table"
    r"|thead|tfoot|video)><",
    re.IGNORECASE,
)
_BR = re.compile(r"<(br /|br)>", re.IGNORECASE)
_IMG = re.compile(r"<(img)", re.IGNORECASE)
_NOT_SHOWN = frozenset({"script", "title", "head", "link", "meta", "style", "noscript"})
_SPACES = re.compile(" +")


def html_strip(html: str) -> str:
    """Visible text of an HTML body on one line (what Mailpit's snippets are cut from)."""
    html = _BLOCK_END.sub(r"</\1> <", html)  # a space between blocks that touch
    html = _BR.sub(" ", html)
    html = _IMG.sub(r" <\1", html)
    out: list[str] = []
    stack: list[Element | str] = [parse_html(html)]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        shown = [child for child in node.children if (child if isinstance(child, str) else child.tag) not in _NOT_SHOWN]
        stack.extend(reversed(shown))
    text = "".join(out)
    if not text.isprintable():  # tabs, line breaks, other spaces and invisible characters
        text = "".join(char if char.isprintable() else " " for char in text)
    return _SPACES.sub(" ", text).strip()
