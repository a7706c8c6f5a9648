"""GET /api/v1/message/{ID}, /headers and the listing's Snippet give what Mailpit gives for the same mail.

Each expectation here is Mailpit's (v1.30) behaviour for the message sent; where mailcatch
keeps its own way (raw bytes, unfolding, Calendar, TextFromHTML), the test says so.
"""

from __future__ import annotations

import hashlib
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailcatch.client.captured import Message
from mailcatch.client.http import Api
from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.messages import build, send

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL

DATA = Path(__file__).resolve().parent.parent / "data"
NO_UNSUBSCRIBE = {"Header": "", "Links": [], "Errors": "", "HeaderPost": ""}


def deliver(catcher: ServerThread, api: httpx.Client, raw: bytes, count: int = 1) -> dict[str, Any]:
    """Send raw bytes over SMTP and return the newest message's JSON."""
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        client.sendmail("app@example.com", ["user@example.com"], raw)
    wait_for_count(api, count)
    message: dict[str, Any] = api.get("/api/v1/message/latest").json()
    return message


def test_list_unsubscribe_is_parsed_and_checked(catcher: ServerThread, api: httpx.Client) -> None:
    send(
        catcher,
        build(
            "News",
            List_Unsubscribe="<mailto:unsub@example.com?subject=stop>, <https://example.com/u?id=7>",
            List_Unsubscribe_Post="List-Unsubscribe=One-Click",
        ),
    )
    wait_for_count(api, 1)
    message = api.get("/api/v1/message/latest").json()
    assert message["ListUnsubscribe"] == {
        "Header": "<mailto:unsub@example.com?subject=stop>, <https://example.com/u?id=7>",
        "Links": ["mailto:unsub@example.com?subject=stop", "https://example.com/u?id=7"],
        "Errors": "",
        "HeaderPost": "List-Unsubscribe=One-Click",
    }
    assert list(message).index("ListUnsubscribe") == list(message).index("Subject") + 1  # Mailpit's order


def test_list_unsubscribe_errors_and_absence(catcher: ServerThread, api: httpx.Client) -> None:
    send(catcher, build("Bad", List_Unsubscribe="<ftp://example.com/u> <https://example.com/u>"), build("None"))
    wait_for_count(api, 2)
    bad, plain = (m["ID"] for m in reversed(api.get("/api/v1/messages").json()["messages"]))
    assert api.get(f"/api/v1/message/{bad}").json()["ListUnsubscribe"] == {
        "Header": "<ftp://example.com/u> <https://example.com/u>",
        "Links": [],
        "Errors": '"<ftp://example.com/u> <https://example.com/u>" <> should be split with a comma and optional spaces',
        "HeaderPost": "",
    }
    assert api.get(f"/api/v1/message/{plain}").json()["ListUnsubscribe"] == NO_UNSUBSCRIBE


def test_html_only_mail_has_mailpits_text(catcher: ServerThread, api: httpx.Client) -> None:
    html = '<p>Hello <b>HTML</b> world, please <a href="https://example.org/read?id=2&amp;x=1">read online</a>.</p>'
    raw = (
        b"From: app@example.com\r\nTo: user@example.com\r\nSubject: HTML only\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode() + b"\r\n"
    )
    message = deliver(catcher, api, raw)
    assert message["Text"] == "Hello *HTML* world, please read online ( https://example.org/read?id=2&x=1 )."
    assert message["TextFromHTML"] is True
    assert message["HTML"] == html + "\r\n"
    summary = api.get("/api/v1/messages").json()["messages"][0]
    assert summary["Snippet"] == "Hello HTML world, please read online."
    # The pytest plugin's message keeps its promise: the HTML with its tags stripped.
    captured = Message(Api(catcher.url), summary)
    assert captured.text == "Hello HTML world, please read online."


def test_an_inline_text_part_is_the_text(catcher: ServerThread, api: httpx.Client) -> None:
    raw = (
        b"From: app@example.com\r\nTo: user@example.com\r\nSubject: Notes\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: inline; filename=notes.txt\r\n\r\n"
        b"the notes\r\n--B--\r\n"
    )
    message = deliver(catcher, api, raw)
    assert message["Text"] == "the notes"
    assert message["TextFromHTML"] is False
    assert [(p["PartID"], p["FileName"]) for p in message["Inline"]] == [("1", "notes.txt")]  # listed too, as Mailpit


def test_text_and_html_keep_crlf_and_the_plugin_gives_lf(catcher: ServerThread, api: httpx.Client) -> None:
    send(catcher, build("Lines", text="one\ntwo\n", html="<p>one</p>\n<p>two</p>\n"))
    wait_for_count(api, 1)
    message = api.get("/api/v1/message/latest").json()
    assert message["Text"] == "one\r\ntwo\r\n"
    assert message["HTML"] == "<p>one</p>\r\n<p>two</p>\r\n"
    captured = Message(Api(catcher.url), api.get("/api/v1/messages").json()["messages"][0])
    assert captured.text == "one\ntwo\n"
    assert captured.html == "<p>one</p>\n<p>two</p>\n"


def test_parts_have_checksums(catcher: ServerThread, api: httpx.Client) -> None:
    logo, csv = b"\x89PNG fake logo", b"id,total\r\n42,9.99\r\n"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "app@example.com", "user@example.com", "Parts"
    message.set_content("see attached")
    message.add_alternative('<img src="cid:logo@x">', subtype="html")
    message.get_payload()[1].add_related(logo, "image", "png", cid="<logo@x>", disposition="inline")
    message.add_attachment(csv, maintype="text", subtype="csv", filename="r.csv")
    send(catcher, message)
    wait_for_count(api, 1)
    detail = api.get("/api/v1/message/latest").json()

    def sums(data: bytes) -> dict[str, str]:
        return {
            "MD5": hashlib.md5(data).hexdigest(),
            "SHA1": hashlib.sha1(data).hexdigest(),
            "SHA256": hashlib.sha256(data).hexdigest(),
        }

    [inline], [attachment] = detail["Inline"], detail["Attachments"]
    assert (inline["ContentID"], inline["Checksums"]) == ("logo@x", sums(logo))
    assert (attachment["FileName"], attachment["Checksums"]) == ("r.csv", sums(csv))
    assert api.get(f"/api/v1/message/latest/part/{attachment['PartID']}").content == csv


def test_headers_are_given_as_sent(catcher: ServerThread, api: httpx.Client) -> None:
    raw = (
        b"From: =?utf-8?B?w4lsaXNl?= <elise@example.com>\r\nTo: user@example.com\r\n"
        b"Subject: =?utf-8?q?R=C3=A9sum=C3=A9?=\r\nX-Folded: first part\r\n  second part\r\n\r\nbody\r\n"
    )
    message = deliver(catcher, api, raw)
    headers = api.get("/api/v1/message/latest/headers").json()
    assert headers["From"] == ["=?utf-8?B?w4lsaXNl?= <elise@example.com>"]
    assert headers["Subject"] == ["=?utf-8?q?R=C3=A9sum=C3=A9?="]
    # Unfolded as RFC 5322 says: the line break goes, the whitespace after it stays (Mailpit keeps one space).
    assert headers["X-Folded"] == ["first part  second part"]
    assert message["Subject"] == "R\u00e9sum\u00e9" and message["From"]["Name"] == "\u00c9lise"  # decoded here
    captured = Message(Api(catcher.url), api.get("/api/v1/messages").json()["messages"][0])
    assert captured.headers["subject"] == "R\u00e9sum\u00e9"  # the plugin decodes them


def test_snippet_prefers_html_and_is_cut_at_200_bytes(catcher: ServerThread, api: httpx.Client) -> None:
    words = " ".join(f"w{n:03}" for n in range(80))  # 319 characters
    send(
        catcher,
        build("Long", text="the text part, not used", html=f"<html><head><title>T</title></head><p>{words}</p>"),
        build("Short", text="  short \r\n\t text  "),
    )
    wait_for_count(api, 2)
    short, long = (m["Snippet"] for m in api.get("/api/v1/messages").json()["messages"])
    assert long == words[:200] + "..."
    assert short == "short text"


def test_calendar_invite_in_alternative_is_no_attachment(catcher: ServerThread, api: httpx.Client) -> None:
    invite = (DATA / "calendar_invite.eml").read_bytes()
    message = deliver(catcher, api, invite)
    assert [(p["PartID"], p["FileName"]) for p in message["Attachments"]] == [("2", "invite.ics")]
    assert message["Inline"] == []
    assert message["Calendar"] == [{"PartID": "1.3", "ContentType": "text/calendar", "Size": 204, "Method": "REQUEST"}]
    assert api.get("/api/v1/message/latest/part/1.3").content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert api.get("/api/v1/messages").json()["messages"][0]["Attachments"] == 1

    # Only the alternative: no attachment at all, for the listing and for has:attachment.
    alternative_only = invite.split(b"--000000000000mixed\r\nContent-Type: application/ics")[0] + (
        b"--000000000000mixed--\r\n"
    )
    deliver(catcher, api, alternative_only.replace(b"Subject: Invitation", b"Subject: Only invite"), count=2)
    listed = {m["Subject"][:11]: m["Attachments"] for m in api.get("/api/v1/messages").json()["messages"]}
    assert listed == {"Only invite": 0, "Invitation:": 1}
    found = api.get("/api/v1/search", params={"query": "has:attachment"}).json()["messages"]
    assert [m["Subject"][:11] for m in found] == ["Invitation:"]
    assert api.get("/api/v1/message/latest").json()["Calendar"][0]["Method"] == "REQUEST"
