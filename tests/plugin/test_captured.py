"""The pure parts of captured messages: addresses, headers, links and text from HTML."""

from __future__ import annotations

import datetime

from mailcatch.client.captured import (
    Address,
    Headers,
    html_to_text,
    parse_time,
    urls_in_html,
    urls_in_text,
)


def test_an_address_is_its_plain_string_with_a_name() -> None:
    address = Address.from_json({"Name": "Bob", "Address": "bob@example.com"})
    assert address == "bob@example.com" and {address} == {"bob@example.com"}
    assert (address.name, address.address, address.formatted) == ("Bob", "bob@example.com", "Bob <bob@example.com>")
    assert type(address.address) is str
    assert Address.from_json(None) == "" and Address("x@example.com").formatted == "x@example.com"


def test_headers_ignore_case_and_keep_every_value() -> None:
    headers = Headers({"Received": ["from a", "from b"], "Subject": ["Hi"]})
    assert list(headers) == ["Received", "Subject"] and len(headers) == 2
    assert headers["received"] == "from a" and headers.get_all("RECEIVED") == ["from a", "from b"]
    assert headers.get("X-Missing") is None and headers.get_all("X-Missing") == []
    assert "subject" in headers
    assert repr(headers) == "Headers({'Received': ['from a', 'from b'], 'Subject': ['Hi']})"


def test_urls_in_text_leave_out_trailing_punctuation() -> None:
    text = (
        "Confirm: https://example.com/c?t=1. Docs (https://example.com/docs), or "
        "https://en.wikipedia.org/wiki/Mail_(disambiguation)! Not ftp://example.com; "
        "HTTP://EXAMPLE.COM/UP? <https://example.com/angle>"
    )
    assert urls_in_text(text) == [
        "https://example.com/c?t=1",
        "https://example.com/docs",
        "https://en.wikipedia.org/wiki/Mail_(disambiguation)",
        "HTTP://EXAMPLE.COM/UP",
        "https://example.com/angle",
    ]


def test_urls_in_html_come_from_hrefs_and_text_in_document_order() -> None:
    html = (
        '<a href="https://example.com/a?x=1&amp;y=2">A</a> <img src="https://example.com/pixel.gif">'
        '<a href="mailto:help@example.com">mail</a> <a href="/relative">rel</a> '
        "or paste https://example.com/b"
    )
    assert urls_in_html(html) == ["https://example.com/a?x=1&y=2", "https://example.com/b"]


def test_html_to_text_keeps_one_line_per_block() -> None:
    html = "<div>Hello&nbsp;<b>Ana</b></div><ul><li>one</li><li>two</li></ul><style>x{}</style>tail"
    assert html_to_text(html) == "Hello Ana\none\ntwo\ntail"


def test_times_from_the_api_are_aware() -> None:
    assert parse_time("2024-05-01T12:30:00.250Z") == datetime.datetime(
        2024, 5, 1, 12, 30, 0, 250000, tzinfo=datetime.timezone.utc
    )
