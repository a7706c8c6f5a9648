"""The lint's readers of RFC 5322 syntax on their own: the address forms real mail uses pass, broken ones say why;
dates and Message-IDs in their accepted and obsolete forms."""

from __future__ import annotations

import pytest

from mailcatch.checks.lint import lint_message
from mailcatch.checks.lint_addresses import AddressSyntax, check_address_list, domain_problem

HEAD = (
    b"From: App <app@example.com>\r\nTo: bob@example.org\r\nSubject: s\r\n"
    b"Date: Mon, 1 Jun 2026 09:30:00 +0200\r\nMessage-ID: <m@example.com>\r\n"
)


@pytest.mark.parametrize(
    ("value", "addresses"),
    [
        ("bob@example.org", ["bob@example.org"]),
        ("Bob <bob@example.org>", ["bob@example.org"]),
        ('"Doe, John" <john@example.org>, ann@example.com', ["john@example.org", "ann@example.com"]),
        ('"John \\"Q\\" Public" <john.q.public@example.com>', ["john.q.public@example.com"]),
        ("John Q. Public <jqp@example.com>", ["jqp@example.com"]),  # obsolete phrase with a dot
        ("bob@example.org (Bob Smith)", ["bob@example.org"]),
        ("(comment) <bob@example.org>", ["bob@example.org"]),
        ("<bob@example.org>", ["bob@example.org"]),
        ('"bob smith"@example.org', ['"bob smith"@example.org']),
        ("bob+tag@[192.0.2.1]", ["bob+tag@[192.0.2.1]"]),
        ("undisclosed-recipients:;", []),
        (
            "Team: ann@example.com, Bob <bob@example.org>;, carol@example.net",
            [
                "ann@example.com",
                "bob@example.org",
                "carol@example.net",
            ],
        ),
        ("<@relay.example.net:bob@example.org>", ["bob@example.org"]),  # obsolete route
        ("=?utf-8?q?J=C3=B6rg?= <joerg@example.de>", ["joerg@example.de"]),
        ("Zoë <zoë@exämple.de>", ["zoë@exämple.de"]),  # RFC 6532
        ("a@example.com,, b@example.com", ["a@example.com", "b@example.com"]),  # obsolete empty element
    ],
)
def test_valid_address_lists(value: str, addresses: list[str]) -> None:
    assert check_address_list(value) == addresses


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Doe, John <john@example.org>", "'Doe' is not an address"),
        ("bob", "'bob' is not an address"),
        ("bob@", "bob@ has no domain"),
        ("@example.org", "the part before @ is missing"),
        (".bob@example.org", "the part before @ has an empty piece"),
        ("bob..smith@example.org", "the part before @ has an empty piece"),
        ("bob@example..org", "the domain has an empty piece"),
        ("<>", "<> holds no address"),
        ('"bob@example.org', "a quoted string is not closed"),
        ("bob@example.org (comment", "a comment in parentheses is not closed"),
        ("Bob <bob@example.org", "expected '>' but found the end"),
        ("bob@example.org <bob@example.org>", "expected ',' but found '<'"),
        ("", "it is empty"),
        ("bob@exa\x01mple.org", "U+0001 can't appear there outside quotes"),
    ],
)
def test_invalid_address_lists_say_why(value: str, why: str) -> None:
    with pytest.raises(AddressSyntax) as raised:
        check_address_list(value)
    assert why in str(raised.value)


def test_one_mailbox_and_empty_lists() -> None:
    assert check_address_list("", allow_empty=True) == []
    with pytest.raises(AddressSyntax, match="exactly one address"):
        check_address_list("a@example.com, b@example.com", single=True)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("bob@example.org", ""),
        ("bob@xn--bcher-kva.example", ""),
        ("bob@[192.0.2.1]", ""),
        ("bob@bücher.example", ""),
        ("bob@my_host.example.org", "'my_host'"),
        ("bob@-example.org", "'-example'"),
        ("bob@" + "a" * 64 + ".org", "is not a host name label"),
    ],
)
def test_domains_that_are_no_host_names(address: str, problem: str) -> None:
    found = domain_problem(address)
    assert (problem in found) if problem else found == ""


@pytest.mark.parametrize(
    ("date", "code"),
    [
        ("Mon, 1 Jun 2026 09:30:00 +0200", None),
        ("1 Jun 2026 09:30 +0200", None),  # no weekday, no seconds
        ("Mon, 01 Jun 2026 09:30:00 -0000 (UTC)", None),
        ("mon, 1 jun 2026 09:30:60 +0000", None),  # names in any case, a leap second
        ("Mon, 1 Jun 2026 09:30:00 GMT", "date-obsolete"),
        ("Mon, 1 Jun 26 09:30:00 +0200", "date-obsolete"),
        ("Tue, 1 Jun 2026 09:30:00 +0200", "date-weekday"),
        ("Mon, 31 Jun 2026 09:30:00 +0200", "date-invalid"),
        ("Mon, 1 Jun 2026 25:30:00 +0200", "date-invalid"),
        ("Mon, 1 Jun 2026 09:30:00 +0299", "date-invalid"),
        ("2026-06-01T09:30:00Z", "date-invalid"),
    ],
)
def test_dates(date: str, code: str | None) -> None:
    raw = HEAD.replace(b"Mon, 1 Jun 2026 09:30:00 +0200", date.encode()) + b"\r\nHello\r\n"
    assert [f.code for f in lint_message(raw) if f.code.startswith("date-")] == ([code] if code else [])


@pytest.mark.parametrize(
    ("value", "good"),
    [
        ("<m@example.com>", True),
        ("<CAF=+x_y-1.2@mail.gmail.com>", True),
        ('<"quoted left"@example.com>', True),
        ("<m@[192.0.2.1]>", True),
        ("<m@example.com> (a comment)", True),
        ("m@example.com", False),
        ("<m>", False),
        ("<m@example.com", False),
        ("<a b@example.com>", False),
        ("<m@example.com> <n@example.com>", False),
    ],
)
def test_message_ids(value: str, good: bool) -> None:
    raw = HEAD.replace(b"<m@example.com>", value.encode()) + b"\r\nHello\r\n"
    assert ("message-id-syntax" not in [f.code for f in lint_message(raw)]) is good
