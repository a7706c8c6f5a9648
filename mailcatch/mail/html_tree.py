"""A small document tree of an HTML body, built with the standard library's tokenizer.

It follows the HTML5 tree builder where it decides what text belongs where for the
converters in html_to_text: the implied head (its title is not shown), paragraphs closed by
the next block, list items and table cells closed by the next one, void elements, an
unmatched `</p>` as an empty paragraph. Anything else is nested as the tags say. Nesting
deeper than MAX_DEPTH elements is flattened, so that walking the tree never recurses far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["MAX_DEPTH", "Element", "parse_html"]

MAX_DEPTH = 200
"""Elements nested deeper than this are added to the element at this depth instead."""

_VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "bgsound",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_HEAD_ONLY = frozenset(
    ["base", "basefont", "bgsound", "link", "meta", "noscript", "script", "style", "template", "title"]
)
_CLOSES_P = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "li",
        "dd",
        "dt",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "ul",
    ]
)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_SCOPE = frozenset(["applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "button"])
# An element that closes the innermost open element of these kinds (and all inside it), and where
# the search for one stops.
_CLOSES_OWN = {
    "li": ({"li"}, {"ul", "ol", "menu", "table", "td", "th"}),
    "dt": ({"dt", "dd"}, {"dl", "table", "td", "th"}),
    "dd": ({"dt", "dd"}, {"dl", "table", "td", "th"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "tr": ({"tr"}, {"table", "tbody", "thead", "tfoot"}),
    "tbody": ({"tbody", "thead", "tfoot"}, {"table"}),
    "thead": ({"tbody", "thead", "tfoot"}, {"table"}),
    "tfoot": ({"tbody", "thead", "tfoot"}, {"table"}),
    "option": ({"option"}, {"select", "datalist", "optgroup"}),
    "a": ({"a"}, {"table", "td", "th"}),
}


@dataclass(slots=True)
class Element:
    """An element: its lower-case tag name, attributes in order, and children (elements and text)."""

    tag: str
    attrs: list[tuple[str, str]] = field(default_factory=list)
    children: list[Element | str] = field(default_factory=list)

    def attr(self, name: str) -> str:
        """The first value of an attribute ("" if absent or empty)."""
        for key, value in self.attrs:
            if key == name:
                return value
        return ""


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack: list[Element] = [self.root]
        self.in_body = False
        self.implied_head: str | None = None  # the tag of a title or noscript read as the head
        self.split_text = False  # a comment ends a text node: the next text starts another

    def _open(self, tag: str) -> Element | None:
        """The innermost open element named `tag`."""
        return next((e for e in reversed(self.stack) if e.tag == tag), None)

    def _close_to(self, names: set[str] | frozenset[str], stop: set[str] | frozenset[str]) -> bool:
        """Close the innermost open element named in `names` and those inside it, not looking past
        a `stop` element; whether one was found."""
        for index in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[index].tag
            if tag in names:
                del self.stack[index:]
                return True
            if tag in stop:
                return False
        return False

    def _append(self, node: Element | str) -> None:
        children = self.stack[-1].children
        if isinstance(node, str):
            if children and isinstance(children[-1], str) and not self.split_text:
                children[-1] += node
            else:
                children.append(node)
            self.split_text = False
        else:
            children.append(node)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("html", "#document"):
            return
        if tag == "head":
            if not self.in_body and self._open("head") is None:
                self._push(Element("head"))
            return
        if tag == "body" or (not self.in_body and tag not in _HEAD_ONLY):
            self._close_to({"head"}, set())
            self.in_body = True
            if tag == "body":
                return
        element = Element(tag, [(name, value or "") for name, value in attrs])
        if not self.in_body and tag in ("title", "noscript") and self._open("head") is None:
            element.tag, self.implied_head = "head", tag  # in the implied head, which is not shown
        if tag in _CLOSES_P:
            self._close_to({"p"}, _SCOPE)
        if tag in _HEADINGS and self.stack[-1].tag in _HEADINGS:
            self.stack.pop()
        if tag in _CLOSES_OWN:
            names, stop = _CLOSES_OWN[tag]
            self._close_to(names, stop)
        if tag in _VOID:
            self._append(element)
        else:
            self._push(element)

    def _push(self, element: Element) -> None:
        self._append(element)
        if len(self.stack) <= MAX_DEPTH:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # "/>" closes nothing in HTML (void elements have no end)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("html", "body"):
            return
        if tag == "br":
            self.handle_starttag("br", [])
            return
        if tag == "p":
            if not self._close_to({"p"}, _SCOPE):
                self.handle_starttag("p", [])  # an unmatched </p> is an empty paragraph
                self._close_to({"p"}, _SCOPE)
            return
        if tag == self.implied_head and self.stack[-1].tag == "head":
            self.stack.pop()
            self.implied_head = None
            return
        self._close_to({tag}, _SCOPE if tag not in _SCOPE else set())

    def handle_data(self, data: str) -> None:
        if not self.in_body and data.strip() and self._open("head") is None:
            self.handle_starttag("body", [])
        self._append(data)

    def handle_comment(self, data: str) -> None:
        self.split_text = True


def parse_html(html: str, complete: bool = True) -> Element:
    """The document tree of `html`; with `complete` False (`html` is the start of a document), a tag,
    comment or character reference left unfinished at its end is left out."""
    html = html.removeprefix("\ufeff")
    if "\r" in html:
        html = html.replace("\r\n", "\n").replace("\r", "\n")
    builder = _Builder()
    builder.feed(html)
    if complete:
        builder.close()
    return builder.root
