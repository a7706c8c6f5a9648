"""mailcatch.Catcher and the Mailbox methods it shares with the fixture, against a real catcher thread."""

from __future__ import annotations

import re
import smtplib
import socket
import threading
import time

import pytest

import mailcatch
from mailcatch.catcher import Catcher
from mailcatch.client import http as client
from mailcatch.client.http import ApiError, Mailbox, MailTimeout
from tests.plugin.helpers import send_mail


def test_the_public_names_are_exported() -> None:
    assert mailcatch.Catcher is Catcher and mailcatch.Mailbox is Mailbox and mailcatch.MailTimeout is MailTimeout
    assert [name for name in mailcatch.__all__ if getattr(mailcatch, name, None) is None] == []
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        mailcatch.Nope  # noqa: B018 (the attribute access is what raises)


def test_catcher_runs_only_inside_its_block() -> None:
    catcher = Catcher()
    with pytest.raises(RuntimeError, match="not running"):
        catcher.messages()
    with catcher as mail:
        assert mail is catcher
        assert mail.url.startswith("http://127.0.0.1:") and mail.smtp_port > 0
        send_mail(mail, subject="Inside")
        assert mail.wait_for().subject == "Inside"
        with pytest.raises(RuntimeError, match="already running"):
            mail.start()
    assert repr(catcher) == "<Catcher (not running)>"
    with pytest.raises(RuntimeError, match="not running"):
        catcher.smtp_host  # noqa: B018 (the attribute access is what raises)


def test_message_fields(mail: Catcher) -> None:
    send_mail(
        mail,
        subject="Your order",
        to=("Bob <bob@example.com>",),
        sender="Shop <shop@example.com>",
        text="Track it at https://shop.example/track/7.",
        html='<p>Track it <a href="https://shop.example/track/7?a=1&amp;b=2">here</a></p>',
        rcpt=("audit@example.com",),
        attachments=(("invoice.pdf", "application/pdf", b"%PDF-1.4 bytes"),),
        Cc="Carol <carol@example.com>",
        X_Order="7",
    )
    message = mail.wait_for()
    assert message.subject == "Your order"
    assert message.from_ == "shop@example.com" and message.from_.name == "Shop"
    assert message.to == ["bob@example.com"] and message.to[0].formatted == "Bob <bob@example.com>"
    assert message.cc == ["carol@example.com"]
    assert message.bcc == ["audit@example.com"], "an envelope-only recipient is a Bcc"
    assert message.text == "Track it at https://shop.example/track/7.\n"
    assert 'href="https://shop.example/track/7?a=1&amp;b=2"' in message.html
    assert message.links == ["https://shop.example/track/7", "https://shop.example/track/7?a=1&b=2"]
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type, attachment.content) == (
        "invoice.pdf",
        "application/pdf",
        b"%PDF-1.4 bytes",
    )
    assert message.headers["x-order"] == "7" and message.headers.get_all("Subject") == ["Your order"]
    assert message.raw.startswith(b"From: Shop <shop@example.com>\r\n")
    envelope = message.envelope
    assert envelope.mail_from == "shop@example.com"
    assert envelope.rcpt_to == ["bob@example.com", "audit@example.com"]
    assert envelope.peer.startswith("127.0.0.1:") and envelope.tls is False and envelope.helo
    commands = [line.text.lower() for line in message.transcript if line.direction == "C"]
    assert commands[1:4] == [
        f"mail from:<shop@example.com> size={len(message.raw)}",
        "rcpt to:<bob@example.com>",
        "rcpt to:<audit@example.com>",
    ]
    assert str(message.transcript[0]).startswith("S: 220 ")
    assert repr(message) == (
        f"<Message {message.id} from shop@example.com to bob@example.com, "
        "carol@example.com, audit@example.com: 'Your order'>"
    )


def test_an_html_only_message_has_text_without_tags(mail: Catcher) -> None:
    send_mail(
        mail,
        text=None,
        html="<html><head><title>T</title><style>p {color: red}</style></head>"
        "<body><h1>Welcome</h1><p>Click <a href='https://example.com/go'>here</a>,<br>then "
        "visit https://example.com/docs.</p><script>var x = 1;</script></body></html>",
    )
    message = mail.wait_for()
    assert message.text == "Welcome\nClick here,\nthen visit https://example.com/docs."
    assert message.links == ["https://example.com/go", "https://example.com/docs"]


def test_inline_parts_are_kept_apart_from_attachments(mail: Catcher) -> None:
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Logo\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/related; boundary=B\r\n\r\n"
        b'--B\r\nContent-Type: text/html\r\n\r\n<img src="cid:logo">\r\n'
        b"--B\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Disposition: inline\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n--B--\r\n"
    )
    with smtplib.SMTP(mail.smtp_host, mail.smtp_port) as smtp:
        smtp.sendmail("a@example.com", ["b@example.com"], raw)
    message = mail.wait_for()
    assert message.attachments == []
    [logo] = message.inline
    assert (logo.content_type, logo.content_id, logo.content) == ("image/png", "logo", b"\x89PNG\r\n")


def test_filters_take_substrings_or_regexes(mail: Catcher) -> None:
    send_mail(mail, subject="Welcome aboard", to=("Alice Smith <alice@example.com>",))
    send_mail(mail, subject="Password reset", to=("bob@example.com",), sender="security@example.com")
    assert [m.subject for m in mail.messages(to="ALICE@example")] == ["Welcome aboard"], "addresses ignore case"
    assert [m.subject for m in mail.messages(to="Alice Smith")] == ["Welcome aboard"], "names match too"
    assert [m.subject for m in mail.messages(to=re.compile(r"^bob@"))] == ["Password reset"]
    assert [m.subject for m in mail.messages(from_="security@")] == ["Password reset"]
    assert mail.messages(subject="welcome") == [], "subjects are matched case-sensitively"
    assert [m.subject for m in mail.messages(subject=re.compile("(?i)WELCOME"))] == ["Welcome aboard"]
    assert [m.subject for m in mail.messages(to="example.com", subject="Pass")] == ["Password reset"]
    with pytest.raises(TypeError, match="to must be a string or a compiled regex, not int"):
        mail.messages(to=42)  # type: ignore[arg-type]


def test_query_goes_through_the_search_api(mail: Catcher) -> None:
    send_mail(mail, subject="Invoice 42", to=("billing@example.com",))
    send_mail(mail, subject="Invoice 43", to=("ops@example.com",))
    assert mail.wait_for(query="subject:Invoice", to="ops@").subject == "Invoice 43"
    mail.assert_no_mail(query="subject:Refund")


def test_wait_for_returns_at_once_when_enough_match(mail: Catcher) -> None:
    send_mail(mail, subject="One")
    send_mail(mail, subject="Two")
    send_mail(mail, subject="Three")
    started = time.monotonic()
    first, second = mail.wait_for(2)
    assert time.monotonic() - started < 1
    assert (first.subject, second.subject) == ("One", "Two"), "the first matches, in arrival order"


def test_wait_for_waits_for_mail_that_comes_later(mail: Catcher) -> None:
    later = threading.Timer(0.3, send_mail, (mail,), {"subject": "Late"})
    later.start()
    try:
        started = time.monotonic()
        assert mail.wait_for(subject="Late", timeout=5).subject == "Late"
        assert 0.25 < time.monotonic() - started < 3
    finally:
        later.join()


def test_wait_for_counts_only_matching_messages(mail: Catcher) -> None:
    send_mail(mail, subject="Reminder", to=("a@example.com",))
    send_mail(mail, subject="Other", to=("b@example.com",))
    with pytest.raises(MailTimeout, match=r"only 1 of the 2 messages matching subject='Reminder'"):
        mail.wait_for(2, timeout=0.1, subject="Reminder")
    with pytest.raises(ValueError, match="count must be 1 or more"):
        mail.wait_for(0)


def test_latest_and_clear(mail: Catcher) -> None:
    with pytest.raises(AssertionError, match="the mailbox is empty"):
        mail.latest()
    send_mail(mail, subject="Old")
    send_mail(mail, subject="New")
    assert mail.latest().subject == "New"
    mail.clear()
    assert mail.messages() == []


def test_listing_pages_through_a_full_mailbox(mail: Catcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "PAGE", 2)
    for number in range(5):
        send_mail(mail, subject=f"Message {number}")
    assert [m.subject for m in mail.messages()] == [f"Message {number}" for number in range(5)]


def test_mail_arriving_while_paging_is_listed_once(mail: Catcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "PAGE", 2)
    for number in range(3):
        send_mail(mail, subject=f"Message {number}")
    first_page = mail.api.get_json

    def get_json_then_send(path: str, params: dict[str, str | int] | None = None) -> object:
        monkeypatch.setattr(mail.api, "get_json", first_page)
        page = first_page(path, params)
        send_mail(mail, subject="Late")
        return page

    monkeypatch.setattr(mail.api, "get_json", get_json_then_send)
    assert [m.subject for m in mail.messages()] == ["Message 0", "Message 1", "Message 2"]


def test_a_long_timeout_report_shows_the_newest_messages(mail: Catcher, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "REPORT_LINES", 2)
    for number in range(4):
        send_mail(mail, subject=f"Message {number}")
    with pytest.raises(MailTimeout) as failure:
        mail.wait_for(timeout=0, subject="Missing")
    assert str(failure.value).splitlines()[1:] == [
        "4 messages arrived:",
        "  ... 2 earlier, then:",
        "  from app@example.com to bob@example.com: 'Message 2'",
        "  from app@example.com to bob@example.com: 'Message 3'",
    ]


def test_an_unreachable_catcher_is_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused_port = probe.getsockname()[1]
    box = Mailbox(f"http://127.0.0.1:{unused_port}/", "127.0.0.1", 1025)
    assert box.url == f"http://127.0.0.1:{unused_port}"
    with pytest.raises(ApiError, match=f"can't reach mailcatch at http://127.0.0.1:{unused_port}: "):
        box.clear()


def test_api_errors_carry_the_status_and_the_api_message(mail: Catcher) -> None:
    with pytest.raises(ApiError, match=r"GET /api/v1/message/nope answered 404: message 'nope' not found"):
        mail.api.get_json("/api/v1/message/nope")
