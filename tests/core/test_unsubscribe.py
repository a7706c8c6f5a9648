"""Tests for mailcatch.mail.unsubscribe: List-Unsubscribe read and checked as Mailpit does (its messages included)."""

from __future__ import annotations

import pytest

from mailcatch.mail.unsubscribe import ListUnsubscribe, list_unsubscribe, parse_list_unsubscribe


@pytest.mark.parametrize(
    ("value", "links", "errors"),
    [
        (
            "<mailto:unsub@example.com?subject=stop>, <https://example.com/unsub?u=1>",
            ["mailto:unsub@example.com?subject=stop", "https://example.com/unsub?u=1"],
            "",
        ),
        ("<https://example.com/unsub>", ["https://example.com/unsub"], ""),
        ("  <mailto:a@b.example>,<HTTPS://B.example/x>  ", ["mailto:a@b.example", "HTTPS://B.example/x"], ""),
        ("<mailto:a@b.example> (by mail), <https://x.example/u>", ["mailto:a@b.example", "https://x.example/u"], ""),
        ("mailto:a@b.example", [], '"mailto:a@b.example" no valid unsubscribe links found'),
        ("see <https://x.example/u>", [], '"see <https://x.example/u>" should be enclosed in <>'),
        (
            "<mailto:a@b.example> <https://x.example/u>",
            [],
            '"<mailto:a@b.example> <https://x.example/u>" <> should be split with a comma and optional spaces',
        ),
        (
            "<mailto:a@b.example>, <https://x.example/1>, <https://x.example/2>",
            [],
            '"<mailto:a@b.example>, <https://x.example/1>, <https://x.example/2>" should include a maximum of one '
            "email and one HTTP link",
        ),
        (
            "<https://a.example/u>, <https://b.example/u>",
            ["https://a.example/u"],
            '"https://b.example/u" should only contain one HTTP link',
        ),
        (
            "<mailto:a@b.example>, <mailto:c@d.example>",
            ["mailto:a@b.example"],
            '"mailto:c@d.example" should only contain one mailto:',
        ),
        ("<ftp://x.example/u>", [], '"ftp://x.example/u" should start with either http(s):// or mailto:'),
        ("<MAILTO:a@b.example>", [], '"MAILTO:a@b.example" should start with either http(s):// or mailto:'),
        ("<https://x.example/a b>", [], '"https://x.example/a b" should not contain spaces'),
        (
            "<https://x.example/%zz>, <mailto:a@b.example>",
            ["mailto:a@b.example"],
            'parse "https://x.example/%zz": invalid URL escape "%zz"',
        ),
        ("<https://x.example/u?q=%zz>", ["https://x.example/u?q=%zz"], ""),  # a query's escapes are not checked
        ("<https://x.example:port/u>", [], 'parse "https://x.example:port/u": invalid port ":port" after host'),
        (
            "<ftp://a.example>, <https://b c>",
            [],
            '"ftp://a.example" should start with either http(s):// or mailto:, "https://b c" should not contain spaces',
        ),
    ],
)
def test_list_unsubscribe_as_mailpit(value: str, links: list[str], errors: str) -> None:
    assert parse_list_unsubscribe(value) == (links, errors)


def test_list_unsubscribe_with_post_and_without_a_header() -> None:
    found = list_unsubscribe("<https://x.example/u>", "List-Unsubscribe=One-Click")
    assert found == ListUnsubscribe("<https://x.example/u>", ("https://x.example/u",), "", "List-Unsubscribe=One-Click")
    assert list_unsubscribe(None, "List-Unsubscribe=One-Click") == ListUnsubscribe()
    assert list_unsubscribe("", None) == ListUnsubscribe()
