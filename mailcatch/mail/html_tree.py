"""A small document tree of an HTML body, read in linear time whatever the markup.

It follows the HTML5 tree builder where it decides what text belongs where for the
converters in html_to_text: the implied head (its title is not shown), paragraphs closed by
the next block, list items and table cells closed by the next one, void elements, an
unmatched `</p>` as an empty paragraph. Anything else is nested as the tags say. Nesting
deeper than MAX_DEPTH elements is flattened, so that walking the tree never recurses far.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from html.entities import html5 as html5_entities

from mailcatch.mail.html_syntax import ATTRIBUTE, TAG_NAME, TAG_REST

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


class _Builder:
    """Builds the tree from the tokens `_tokens` finds."""

    def __init__(self) -> None:
        self.root = Element("#document")
        self.stack: list[Element] = [self.root]
        self.in_body = False
        self.implied_head: str | None = None  # the tag of a title or noscript read as the head
        self.split_text = False  # a comment ends a text node: the next text starts another
        # The text node being read (its element and index) and its pieces, joined once at its end
        # (adding each piece to a string would copy it again and again).
        self.text_node: tuple[Element, int] | None = None
        self.text_pieces: list[str] = []

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
        parent = self.stack[-1]
        if not isinstance(node, str):
            parent.children.append(node)
            return
        current = self.text_node
        if current and current[0] is parent and current[1] == len(parent.children) - 1 and not self.split_text:
            self.text_pieces.append(node)
        else:
            self.flush()
            parent.children.append("")
            self.text_node, self.text_pieces = (parent, len(parent.children) - 1), [node]
        self.split_text = False

    def flush(self) -> None:
        """Join the pieces of the text node being read."""
        if self.text_node is not None:
            element, index = self.text_node
            element.children[index] = "".join(self.text_pieces)
            self.text_node, self.text_pieces = None, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str]]) -> None:
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
        element = Element(tag, attrs)
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

    def handle_comment(self) -> None:
        self.split_text = True


# --- tokens ----------------------------------------------------------------------------------
# Every search below either moves past what it matched or ends the document, so reading is
# linear in the length of the HTML whatever it holds (the standard library's HTMLParser takes
# quadratic time over some broken markup, such as thousands of "<a" without a ">").

_REFERENCE = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)(?=(.?))", re.DOTALL)
_RAW_TEXT = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript"})
_ESCAPABLE_RAW_TEXT = frozenset({"title", "textarea"})


def _attribute_reference(match: re.Match[str]) -> str:
    reference, name, after = match[0], match[1], match[2]
    if reference.endswith(";") or name.startswith("#"):
        return html_lib.unescape(reference)
    # Without its ";", a named reference counts in an attribute only when it is a whole legacy name
    # not followed by "=" (so that "?a=1&region=2" in a link stays as it is), as HTML says.
    if name in html5_entities and after != "=":
        return html_lib.unescape(reference)
    return reference


def _attributes(text: str) -> list[tuple[str, str]]:
    found = []
    for match in ATTRIBUTE.finditer(text):
        value = match[2] if match[2] is not None else match[3] if match[3] is not None else match[4] or ""
        found.append((match[1].lower(), _REFERENCE.sub(_attribute_reference, value) if "&" in value else value))
    return found


def _tokens(html: str, builder: _Builder) -> None:
    """Read `html` into `builder`: text, start and end tags, comments (doctypes and the like are dropped)."""
    position, length = 0, len(html)
    while position < length:
        at = html.find("<", position)
        if at < 0:
            at = length
        if at > position:
            text = html[position:at]
            builder.handle_data(html_lib.unescape(text) if "&" in text else text)
        if at >= length:
            return
        if html.startswith("<!--", at):
            end = html.find("-->", at + 4)
            builder.handle_comment()
            position = length if end < 0 else end + 3
            continue
        closing = html.startswith("</", at)
        name = TAG_NAME.match(html, at + 2 if closing else at + 1)
        if name is None:
            if closing or html.startswith(("<!", "<?"), at):  # a bogus comment, to the next ">"
                end = html.find(">", at)
                builder.handle_comment()
                position = length if end < 0 else end + 1
            else:  # a "<" that starts no tag is text
                builder.handle_data("<")
                position = at + 1
            continue
        rest = TAG_REST.match(html, name.end())
        if rest is None:
            return  # a tag cut off by the end of the document is dropped, as HTML says
        tag = name[0].lower()
        position = rest.end()
        if closing:
            builder.handle_endtag(tag)
            continue
        builder.handle_starttag(tag, _attributes(html[name.end() : rest.end() - 1]))
        if tag in _RAW_TEXT or tag in _ESCAPABLE_RAW_TEXT:  # text up to its end tag, tags and all
            end_tag = re.compile(rf"</{tag}[\s/>]", re.IGNORECASE).search(html, position)
            end = length if end_tag is None else end_tag.start()
            text = html[position:end]
            if text:
                builder.handle_data(html_lib.unescape(text) if tag in _ESCAPABLE_RAW_TEXT else text)
            position = end


def parse_html(html: str) -> Element:
    """The document tree of `html`."""
    html = html.removeprefix("\ufeff")
    if "\r" in html:
        html = html.replace("\r\n", "\n").replace("\r", "\n")
    builder = _Builder()
    _tokens(html, builder)
    builder.flush()
    return builder.root
