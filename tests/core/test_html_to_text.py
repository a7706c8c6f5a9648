"""Tests for mailcatch.mail.html_to_text (and the tree of html_tree under it): the expected texts
are what Mailpit gives, read from the rules of its converters (jaytaylor/html2text for `Text`,
its own html2text.Strip for snippets), quirks included."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcatch.mail.html_text import snippet
from mailcatch.mail.html_to_text import html_strip, html_to_text
from mailcatch.mail.html_tree import MAX_DEPTH, Element, parse_html

MAILPIT_EXAMPLE = (
    '<p>Hello <b>HTML</b> world, please <a href="https://example.org/read?id=2&amp;x=1">read online</a>.</p>'
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (MAILPIT_EXAMPLE, "Hello *HTML* world, please read online ( https://example.org/read?id=2&x=1 )."),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>one<p>two", "one\n\ntwo"),  # a paragraph closes at the next one
        ("Hello<br>World<br/>!", "Hello\nWorld\n!"),
        ("<ul><li>One</li><li>Two</li></ul><p>after</p>", "* One\n* Two\n\nafter"),
        ("<ol><li>One<li>Two</ol>", "* One\n* Two"),  # no numbers, as in Mailpit
        ("<h1>Big title</h1><p>x</p>", "*********\nBig title\n*********\n\nx"),
        ("<h2>Title</h2>", "-----\nTitle\n-----"),
        ("<h3>Small</h3>text", "Small\n-----\n\ntext"),
        ("<h4>Minor</h4>text", "Minor text"),  # h4 to h6 are inline
        ("<table><tr><td>Item</td><td>Price</td></tr><tr><td>Tea</td><td>3</td></tr></table>", "Item Price Tea 3"),
        ("<div>a</div><div>b</div>", "a\nb"),
        ("<blockquote>quoted text</blockquote>", "> \n> quoted text"),
        ("<p>Total: <strong>12 \u20ac</strong></p>", "Total: *12 \u20ac*"),
        ('<a href="mailto:help@example.com">write to us</a>', "write to us ( help@example.com )"),
        ('<a href="https://x.example/">https://x.example/</a>', "https://x.example/"),  # the link is its text
        ('<a href="https://x.example/"><img src="l.png" alt="Logo"></a>', "Logo ( https://x.example/ )"),
        ('<a href="">empty</a> link', "empty link"),
        ("foo<span>bar</span>", "foo bar"),  # a space between inline pieces, as in Mailpit
        ("Fish &amp; chips &lt;3&nbsp;!", "Fish & chips <3\u00a0!"),
        # In a link, "&region=" and "&copy=" are no references (HTML's rule for attributes); in text they are.
        (
            '<a href="https://x.example/?id=1&region=2&amp;b=3&copy=4">go</a>',
            "go ( https://x.example/?id=1&region=2&b=3&copy=4 )",
        ),
        ("&region &copy; &copy", "\u00aeion \u00a9 \u00a9"),
        ("  lots   of\r\n\tspace  ", "lots of space"),
        ("<pre>a  b</pre>", "a  b"),
        (
            "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script>"
            "<p>Hi</p><!-- a comment --></body></html>",
            "Hi",
        ),
        ("<title>Only in the head</title><p>body</p>", "body"),
        ("\ufeff<p>bom</p>", "bom"),
        ("", ""),
    ],
)
def test_html_to_text_as_mailpit(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_long_quoted_lines_are_wrapped_at_74() -> None:
    words = " ".join(["word"] * 30)
    lines = html_to_text(f"<blockquote>{words}</blockquote>").split("\n")
    assert lines[0] == "> "
    assert all(line.startswith("> ") and len(line) <= 76 for line in lines[1:])
    assert " ".join(line[2:] for line in lines[1:]).split() == ["word"] * 30


@pytest.mark.parametrize(
    ("html", "line"),
    [
        (MAILPIT_EXAMPLE, "Hello HTML world, please read online."),
        ("<p>a</p><p>b</p>", "a b"),  # touching blocks get a space
        ("<td>Item</td><td>Price</td>", "Item Price"),
        ("a<br>b<br />c", "a b c"),
        ("a<br/>b", "ab"),  # "<br/>" is not one of the spellings Mailpit spaces
        ('x<img src="a.png">y', "x y"),
        ("<span>a</span><span>b</span>", "ab"),
        ("<title>T</title><style>p{}</style><script>s()</script><noscript>n</noscript>visible", "visible"),
        ("tab\there&nbsp;nbsp\u200bzero\ufeffbom", "tab here nbsp zero bom"),
        ("<p>  spaced \n\n out  </p>", "spaced out"),
    ],
)
def test_html_strip_as_mailpit(html: str, line: str) -> None:
    assert html_strip(html) == line


def test_a_tag_or_comment_cut_off_by_the_end_is_dropped() -> None:
    assert html_strip("<p>kept</p><p>cut <b") == "kept cut"
    assert html_strip("<p>kept</p><!-- a comment cut off") == "kept"
    assert html_to_text('<p>kept <a href="x') == "kept"


@pytest.mark.parametrize(
    "markup",
    ["<", "<a", "</", "<!--", "<a href='", "&", "x</z>", "<script>", "<b>", "<h1><div>", "<blockquote>", "<title>"],
)
def test_broken_markup_takes_linear_time_and_bounded_text(markup: str) -> None:
    """The standard library's HTMLParser takes quadratic time on some of these; a long text must stay cheap."""
    html = markup * (400_000 // len(markup)) + "<p>" + "word " * 20_000
    started = time.perf_counter()
    text, line = html_to_text(html), html_strip(html)
    assert time.perf_counter() - started < 20
    assert len(text) <= 4 * len(html) + 4096 and len(line) <= len(html)


def test_deep_nesting_is_flattened_not_recursed() -> None:
    html = "<div>" * 5000 + "deep" + "</div>" * 5000
    assert html_to_text(html) == "deep"
    assert html_strip(html) == "deep"
    depth, node = 0, parse_html(html)
    while node.children and isinstance(node.children[0], Element):
        node, depth = node.children[0], depth + 1
    assert depth <= MAX_DEPTH + 1


def test_tree_closes_cells_rows_and_list_items() -> None:
    root = parse_html("<table><tr><td>a<td>b<tr><td>c</table><ul><li>x<li>y</ul>")
    table, ul = root.children
    assert isinstance(table, Element) and isinstance(ul, Element)
    rows = [row for row in table.children if isinstance(row, Element)]
    assert [row.tag for row in rows] == ["tr", "tr"]
    assert [len(row.children) for row in rows] == [2, 1]
    assert [child.children for child in ul.children if isinstance(child, Element)] == [["x"], ["y"]]


def mailpit_cut(line: str) -> str:
    """Mailpit's snippet of a line: up to 200 bytes, the character at the cut dropped, then "..."."""
    data = line.encode()
    if len(data) <= 200:
        return line
    kept, size = "", 0
    for char in line:
        size += len(char.encode())
        if size > 200 or (size == 200 and len(char.encode()) > 1):
            break
        kept += char
    return kept + "..."


HTML_PIECES = [
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "</td><td>",
    "word ",
    "x" * 120,
    "\u00e9t\u00e9 ",
    "&amp;",
    "<br>",
    "<img src=x>",
    " " * 40,
    "<b>",
    "</b>",
    "<!-- a comment -->",
    "<title>t</title>",
    "<script>s()</script>",
    "<style>" + "a{}" * 600 + "</style>",
]


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.sampled_from(HTML_PIECES), min_size=20, max_size=400))
def test_the_snippet_of_a_long_body_is_read_from_its_start(pieces: list[str]) -> None:
    """Only the start of a long HTML body is read for its snippet; it must be what reading all of it gives."""
    html = "".join(pieces)
    assert snippet("", html) == mailpit_cut(html_strip(html.strip()))
