"""POST /api/v1/send against real catchers with httpx: the MIME message it builds, the storing path
it shares with SMTP mail (tags, --tag filters, the websocket, search, retention), its transcript,
its logins, and a clear 4xx for each kind of bad request."""

from __future__ import annotations

import base64
import email
import json
import smtplib
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from mailcatch.config import Settings, from_args
from mailcatch.errors import ConfigError
from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.messages import png

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL

PNG = png()
CSV = b"id,total\n1,9.99\n"
MINIMAL = {"From": {"Email": "app@example.com"}, "To": [{"Email": "ann@example.com"}]}


def full_request() -> dict[str, Any]:
    """A request with every field Mailpit's send API takes."""
    return {
        "From": {"Name": "Jörg Müller", "Email": "shop@example.com"},
        "To": [{"Name": "Ann, Sales", "Email": "ann@example.com"}, {"Email": "bob@example.org"}],
        "Cc": [{"Name": "Manager", "Email": "boss@example.com"}],
        "Bcc": ["audit@example.net"],
        "ReplyTo": [{"Name": "Help desk", "Email": "help@example.com"}],
        "Subject": "Grüße: your invoice №42",
        "Text": "Hello Ann,\nyour invoice is attached.",
        "HTML": '<p>Hello <b>Ann</b></p><p><img src="cid:logo"></p>',
        "Attachments": [
            {"Content": base64.b64encode(CSV).decode(), "Filename": "invoice.csv"},
            {"Content": base64.b64encode(PNG).decode(), "Filename": "logo.png", "ContentID": "logo"},
        ],
        "Tags": ["Invoices", "Tag 1"],
        "Headers": {"X-Mailer": "shop 2.0", "X-Customer": "Ann Ümlaut"},
    }


def sent(api: httpx.Client, body: Any, **kwargs: Any) -> str:
    """Send a request that must succeed; the new message's ID."""
    response = api.post("/api/v1/send", json=body, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    message_id = response.json()["ID"]
    assert isinstance(message_id, str) and message_id
    return str(message_id)


def parsed_raw(api: httpx.Client, message_id: str) -> EmailMessage:
    raw = api.get(f"/api/v1/message/{message_id}/raw").content
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_every_field_makes_a_well_formed_mime_message(api: httpx.Client) -> None:
    message_id = sent(api, full_request())
    raw = api.get(f"/api/v1/message/{message_id}/raw").content
    assert raw.isascii(), "non-ASCII header text goes in encoded words, bodies in quoted-printable or base64"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"audit@example.net" not in raw, "Bcc recipients are in the envelope, never in the headers"
    assert b"=?utf-8?" in raw
    message = parsed_raw(api, message_id)
    assert message["MIME-Version"] == "1.0"
    assert message["Date"] is not None and message["Date"].datetime is not None
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert str(message["Subject"]) == "Grüße: your invoice №42"
    assert message["X-Mailer"] == "shop 2.0" and str(message["X-Customer"]) == "Ann Ümlaut"
    assert message["X-Tags"] == "Invoices, Tag 1"
    # mixed(related(alternative(text, html), inline logo), attachment csv)
    assert message.get_content_type() == "multipart/mixed"
    related, attachment = message.get_payload()
    assert related.get_content_type() == "multipart/related"
    alternative, logo = related.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert (logo["Content-ID"], logo.get_content_disposition(), logo.get_content()) == ("<logo>", "inline", PNG)
    assert (attachment.get_filename(), attachment.get_content_disposition()) == ("invoice.csv", "attachment")
    assert attachment.get_content_type() == "text/csv" and attachment.get_content() == CSV.decode()

    stored = api.get(f"/api/v1/message/{message_id}").json()
    assert stored["From"] == {"Name": "Jörg Müller", "Address": "shop@example.com"}
    assert stored["To"] == [
        {"Name": "Ann, Sales", "Address": "ann@example.com"},
        {"Name": "", "Address": "bob@example.org"},
    ]
    assert stored["Cc"] == [{"Name": "Manager", "Address": "boss@example.com"}]
    assert stored["Bcc"] == [{"Name": "", "Address": "audit@example.net"}]
    assert stored["ReplyTo"] == [{"Name": "Help desk", "Address": "help@example.com"}]
    assert stored["Subject"] == "Grüße: your invoice №42"
    assert stored["Text"].replace("\r\n", "\n") == "Hello Ann,\nyour invoice is attached."
    assert stored["HTML"] == '<p>Hello <b>Ann</b></p><p><img src="cid:logo"></p>'
    assert [(a["FileName"], a["ContentType"]) for a in stored["Attachments"]] == [("invoice.csv", "text/csv")]
    assert [(p["FileName"], p["ContentType"], p["ContentID"]) for p in stored["Inline"]] == [
        ("logo.png", "image/png", "logo")
    ]
    assert stored["Tags"] == ["Invoices", "Tag 1"]
    part = api.get(f"/api/v1/message/{message_id}/part/{stored['Attachments'][0]['PartID']}")
    assert part.content == CSV


@pytest.mark.parametrize(
    ("fields", "content_type", "body"),
    [
        ({"Text": "just text"}, "text/plain", "just text"),
        ({"HTML": "<p>just html</p>"}, "text/html", "<p>just html</p>"),
        ({}, "text/plain", ""),
    ],
)
def test_one_body_is_a_single_part(api: httpx.Client, fields: dict[str, str], content_type: str, body: str) -> None:
    message_id = sent(api, {"From": {"Email": "app@example.com"}, "To": [{"Email": "ann@example.com"}], **fields})
    message = parsed_raw(api, message_id)
    assert (message.get_content_type(), message.get_content()) == (content_type, body)


def test_field_names_ignore_case_and_unknown_fields_are_ignored_as_in_mailpit(api: httpx.Client) -> None:
    message_id = sent(
        api,
        {
            "from": {"name": "App", "email": "app@example.com"},
            "TO": [{"EMAIL": "ann@example.com"}],
            "subject": "lower case",
            "Priority": "high",
            "Attachments": [
                {"content": "data:text/plain;base64," + base64.b64encode(b"note").decode(), "FILENAME": "n.txt"}
            ],
        },
    )
    stored = api.get(f"/api/v1/message/{message_id}").json()
    assert (stored["Subject"], stored["From"]["Name"], stored["To"][0]["Address"]) == (
        "lower case",
        "App",
        "ann@example.com",
    )
    assert [(a["FileName"], a["ContentType"], a["Size"]) for a in stored["Attachments"]] == [("n.txt", "text/plain", 4)]


def test_a_big_attachment_is_stored_byte_for_byte(api: httpx.Client) -> None:
    """A body of a few hundred KB is decoded and built off the event loop; the bytes come back whole."""
    content = bytes(range(256)) * 1600  # 400 KB, every byte value
    body = {**MINIMAL, "Attachments": [{"Content": base64.b64encode(content).decode(), "Filename": "blob.bin"}]}
    stored = api.get(f"/api/v1/message/{sent(api, body)}").json()
    (attachment,) = stored["Attachments"]
    assert (attachment["ContentType"], attachment["Size"]) == ("application/octet-stream", len(content))
    assert api.get(f"/api/v1/message/{stored['ID']}/part/{attachment['PartID']}").content == content


def test_internationalized_addresses_make_an_smtputf8_message(api: httpx.Client) -> None:
    message_id = sent(api, {"From": {"Email": "app@example.com"}, "To": [{"Name": "Jörg", "Email": "jörg@exämple.de"}]})
    raw = api.get(f"/api/v1/message/{message_id}/raw").content
    assert 'To: "Jörg" <jörg@exämple.de>'.encode() in raw
    stored = api.get(f"/api/v1/message/{message_id}").json()
    assert stored["To"] == [{"Name": "Jörg", "Address": "jörg@exämple.de"}]


def test_a_message_id_header_is_kept(api: httpx.Client) -> None:
    body = {
        "From": {"Email": "a@example.com"},
        "To": [{"Email": "b@example.com"}],
        "Headers": {"Message-ID": "<x1@shop>"},
    }
    stored = api.get(f"/api/v1/message/{sent(api, body)}").json()
    assert stored["MessageID"] == "x1@shop"


def test_envelope_and_transcript_say_it_came_over_http(api: httpx.Client) -> None:
    auth = httpx.BasicAuth("tester", "any")  # no --ui-auth-file: the login is not checked, but recorded
    message_id = sent(api, full_request(), auth=auth)
    stored = api.get(f"/api/v1/message/{message_id}").json()
    envelope = stored["Envelope"]
    assert envelope["From"] == "shop@example.com"
    assert envelope["To"] == ["ann@example.com", "bob@example.org", "boss@example.com", "audit@example.net"]
    assert envelope["Peer"].startswith("127.0.0.1:")
    assert stored["Username"] == "tester"
    transcript = api.get(f"/api/v1/message/{message_id}/transcript").json()
    assert transcript["Session"]["Peer"] == envelope["Peer"]
    assert transcript["Session"]["Username"] == "tester"
    lines = [(line["Dir"], line["Text"]) for line in transcript["Lines"]]
    assert lines[0] == ("C", "POST /api/v1/send HTTP/1.1")
    assert lines[1][0] == "C" and lines[1][1].endswith(" bytes of JSON>")
    assert lines[2][0] == "S" and "from <shop@example.com> to <ann@example.com>" in lines[2][1]
    assert lines[-1] == ("S", "200 OK")
    assert transcript["Transaction"] == {"Start": 0, "End": len(lines)}


def test_tags_filters_websocket_and_search_apply_as_to_smtp_mail(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(tag="urgent=subject:outage", tags_from_x_tags=False)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        with connect(catcher.url.replace("http://", "ws://") + "/api/events", open_timeout=5) as events:
            assert json.loads(events.recv(timeout=5))["Type"] == "stats"
            body = {
                "From": {"Email": "ops@example.com"},
                "To": [{"Email": "oncall+pager@example.com"}],
                "Subject": "Database outage",
                "Text": "the primary is down",
                "Tags": ["Incident,P1"],
            }
            message_id = sent(api, body)
            seen = []
            while not seen or seen[-1]["Type"] != "new":
                seen.append(json.loads(events.recv(timeout=5)))
        assert seen[-1]["Data"]["ID"] == message_id
        # Tags from the body (split on commas, as its X-Tags header would be, even with x-tags off),
        # the plus address, and the --tag filter
        assert api.get(f"/api/v1/message/{message_id}").json()["Tags"] == ["Incident", "P1", "pager", "urgent"]
        found = api.get("/api/v1/search", params={"query": "primary"}).json()
        assert [m["ID"] for m in found["messages"]] == [message_id]


def test_retention_applies(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(max_messages=2)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        ids = [
            sent(api, {"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Subject": f"n{n}"})
            for n in range(3)
        ]
        listing = wait_for_count(api, 2)
        assert [m["ID"] for m in listing["messages"]] == [ids[2], ids[1]]


def test_info_counts_the_bytes_sent_over_http(api: httpx.Client) -> None:
    """As Mailpit counts them: SMTPAccepted and SMTPAcceptedSize include the send API's messages."""
    message_id = sent(api, full_request())
    size = len(api.get(f"/api/v1/message/{message_id}/raw").content)
    stats = api.get("/api/v1/info").json()["RuntimeStats"]
    assert (stats["SMTPAccepted"], stats["SMTPAcceptedSize"]) == (1, size)


def test_the_in_flight_budget_applies(start_catcher: Callable[..., ServerThread]) -> None:
    """While SMTP sessions hold all of --max-in-flight, a send gets 503 and Retry-After; then it passes."""
    megabyte = 1024 * 1024
    catcher = start_catcher(max_message_size=megabyte, max_in_flight=megabyte)
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as holder, httpx.Client(base_url=catcher.url) as api:
        holder.ehlo()
        assert holder.mail("big@example.com", [f"SIZE={megabyte}"])[0] == 250  # holds the whole budget
        refused = api.post("/api/v1/send", json=MINIMAL)
        assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
        assert refused.json() == {
            "Error": "too much mail being received at once (--max-in-flight 1 MB), try again later"
        }
        holder.rset()
        holder.noop()
        sent(api, MINIMAL)


def test_a_duplicate_message_id_is_dropped_with_ignore_duplicate_ids(
    start_catcher: Callable[..., ServerThread],
) -> None:
    catcher = start_catcher(ignore_duplicate_ids=True)
    body = {
        "From": {"Email": "a@example.com"},
        "To": [{"Email": "b@example.com"}],
        "Headers": {"Message-ID": "<dup@x>"},
    }
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        first = sent(api, body)
        again = api.post("/api/v1/send", json=body)
        assert (again.status_code, again.json()) == (200, {"ID": ""})  # as Mailpit answers
        assert [m["ID"] for m in api.get("/api/v1/messages").json()["messages"]] == [first]


B64 = base64.b64encode(b"x").decode()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"To": [{"Email": "ann@example.com"}]}, "error building message: from not set"),
        ({"From": {"Email": "app@example.com"}}, "error building message: no recipients (to, cc, bcc) set"),
        ({**MINIMAL, "To": [], "Cc": []}, "error building message: no recipients (to, cc, bcc) set"),
        ({**MINIMAL, "From": {"Email": "not an address"}}, "invalid From address: not an address"),
        ({**MINIMAL, "To": [{"Email": "ann"}]}, "invalid To address: ann"),
        ({**MINIMAL, "Cc": [{"Name": "X"}]}, "invalid Cc address: "),
        ({**MINIMAL, "Bcc": ["@example.com"]}, "invalid Bcc address: @example.com"),
        ({**MINIMAL, "ReplyTo": [{"Email": "a@b@c"}]}, "invalid Reply-To address: a@b@c"),
        ({**MINIMAL, "To": [{"Email": "a@example..com"}]}, "invalid To address: a@example..com"),
        ({**MINIMAL, "To": [{"Email": "a.@example.com"}]}, "invalid To address: a.@example.com"),
        ({**MINIMAL, "Bcc": ["a\x00@example.com"]}, "invalid Bcc address: a\x00@example.com"),
        ({**MINIMAL, "Cc": [{"Email": "a\u2028b@example.com"}]}, "invalid Cc address: a\u2028b@example.com"),
        (
            {**MINIMAL, "Attachments": [{"Content": "not base64!", "Filename": "a.bin"}]},
            'error decoding base64 attachment "a.bin": Only base64 data is allowed',
        ),
        (
            {**MINIMAL, "Attachments": [{"Content": "YWJjZA", "Filename": "a.bin"}]},
            'error decoding base64 attachment "a.bin": Incorrect padding',
        ),
        (
            {**MINIMAL, "Attachments": [{"Content": B64}]},
            "Attachments[0].Filename is required (or a ContentID, for an inline part)",
        ),
        (
            {**MINIMAL, "Attachments": [{"Filename": "a"}]},
            "Attachments[0].Content is required: the file's content in base64",
        ),
        (
            {**MINIMAL, "Attachments": [{"Content": B64, "Filename": "a", "ContentType": "nonsense"}]},
            "Attachments[0].ContentType 'nonsense' is not a MIME type such as image/png",
        ),
        ({**MINIMAL, "Headers": {"Subject": "x"}}, 'cannot overwrite header: "Subject"'),
        ({**MINIMAL, "Headers": {"content-type": "text/html"}}, 'cannot overwrite header: "content-type"'),
        ({**MINIMAL, "Tags": ["a"], "Headers": {"X-Tags": "b"}}, 'cannot overwrite header: "X-Tags"'),
        ({**MINIMAL, "Headers": {"X-A": "one\r\nBcc: x@example.com"}}, "the value of header 'X-A' holds a line break"),
        (
            {**MINIMAL, "Headers": {"Bad Name": "x"}},
            "invalid header name 'Bad Name': printable ASCII without spaces or colons",
        ),
        ({**MINIMAL, "Headers": ["X-A: b"]}, 'Headers must be an object {"Name": "value"}, not an array'),
        ({**MINIMAL, "Subject": 42}, "Subject must be a string, not a number"),
        ({**MINIMAL, "Subject": "a\nBcc: x@example.com"}, "Subject holds a line break"),
        ({**MINIMAL, "To": 7}, "To must be an array, not a number"),
        ([MINIMAL], "the request body must be a JSON object with From, To and the message"),
    ],
)
def test_a_bad_request_gets_400_saying_what_was_wrong(api: httpx.Client, body: Any, error: str) -> None:
    response = api.post("/api/v1/send", json=body)
    assert (response.status_code, response.json()) == (400, {"Error": error})
    assert api.get("/api/v1/messages").json()["total"] == 0


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "the request body is empty: send a JSON object with From, To and the message"),
        (b'{"From": ', "the request body is not valid JSON: Expecting value: line 1 column 10 (char 9)"),
        (b"[" * 100_000, "the request body is not valid JSON: it is nested too deep"),
        (
            json.dumps({**MINIMAL, "Text": "\ud800"}).encode(),
            'Text holds a lone surrogate (such as "\\ud800"), which is not text',
        ),
    ],
)
def test_a_body_that_is_not_json_gets_400(api: httpx.Client, content: bytes, error: str) -> None:
    response = api.post("/api/v1/send", content=content, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"Error": error})


def test_a_body_over_the_message_size_limit_gets_413(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(max_message_size=4096)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        big = {**MINIMAL, "Text": "x" * 5000}
        response = api.post("/api/v1/send", json=big)
        assert response.status_code == 413
        assert response.json() == {"Error": "request body too large: more than --max-message-size (0.00390625 MB)"}
        # A body that fits, whose message would not (its headers and encoding): 413 too, and nothing stored
        near = {**MINIMAL, "Text": "ü" * 1900}
        response = api.post("/api/v1/send", json=near)
        assert response.status_code == 413 and response.json()["Error"].startswith("message too large: ")
        assert api.get("/api/v1/messages").json()["total"] == 0
        sent(api, {**MINIMAL, "Text": "small"})


def test_a_page_on_another_site_may_not_send(start_catcher: Callable[..., ServerThread]) -> None:
    """A browser page elsewhere can POST text/plain without a preflight: its Origin is refused unless --api-cors allows it."""
    catcher = start_catcher(api_cors=("https://tools.example",))
    body = json.dumps(MINIMAL)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        for origin in ("https://evil.example", "null", "http://localhost:1"):
            refused = api.post("/api/v1/send", content=body, headers={"Origin": origin, "Content-Type": "text/plain"})
            assert refused.status_code == 403
            assert refused.json() == {
                "Error": f"a page at {origin} may not send mail through this catcher (--api-cors does not allow it)"
            }
        assert api.get("/api/v1/messages").json()["total"] == 0
        sent(api, MINIMAL, headers={"Origin": "https://tools.example"})  # allowed by --api-cors
        sent(api, MINIMAL, headers={"Origin": catcher.url})  # the catcher's own pages
        sent(api, MINIMAL)  # not a browser: no Origin
    anywhere = start_catcher(api_cors=("*",))
    with httpx.Client(base_url=anywhere.url, timeout=10) as api:
        sent(api, MINIMAL, headers={"Origin": "https://evil.example"})


def _auth_file(tmp_path: Path, name: str, line: str) -> str:
    path = tmp_path / name
    path.write_text(line + "\n")
    return str(path)


def test_under_ui_auth_the_send_api_needs_the_login(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> None:
    catcher = start_catcher(ui_auth_file=_auth_file(tmp_path, "ui", "admin:secret"))
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        refused = api.post("/api/v1/send", json=MINIMAL)
        assert (refused.status_code, refused.json()) == (401, {"Error": "authentication required"})
        wrong = api.post("/api/v1/send", json=MINIMAL, auth=("admin", "wrong"))
        assert wrong.status_code == 401
        message_id = sent(api, MINIMAL, auth=("admin", "secret"))
        stored = api.get(f"/api/v1/message/{message_id}", auth=("admin", "secret")).json()
        assert stored["Username"] == "admin"


def test_send_api_auth_file_has_logins_of_its_own(start_catcher: Callable[..., ServerThread], tmp_path: Path) -> None:
    catcher = start_catcher(
        ui_auth_file=_auth_file(tmp_path, "ui", "admin:secret"),
        send_api_auth_file=_auth_file(tmp_path, "send", "app:sendpass"),
    )
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert api.post("/api/v1/send", json=MINIMAL).status_code == 401
        assert api.post("/api/v1/send", json=MINIMAL, auth=("admin", "secret")).status_code == 401
        message_id = sent(api, MINIMAL, auth=("app", "sendpass"))
        # the send login opens nothing else; the UI's still opens the rest
        assert api.get("/api/v1/messages", auth=("app", "sendpass")).status_code == 401
        assert api.get(f"/api/v1/message/{message_id}", auth=("admin", "secret")).json()["Username"] == "app"


def test_send_api_auth_file_alone_guards_only_the_send_api(
    start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    catcher = start_catcher(send_api_auth_file=_auth_file(tmp_path, "send", "app:sendpass"))
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert api.post("/api/v1/send", json=MINIMAL).status_code == 401
        sent(api, MINIMAL, auth=("app", "sendpass"))
        assert api.get("/api/v1/messages").json()["total"] == 1


def test_send_api_auth_accept_any_opens_only_the_send_api(
    start_catcher: Callable[..., ServerThread], tmp_path: Path
) -> None:
    catcher = start_catcher(ui_auth_file=_auth_file(tmp_path, "ui", "admin:secret"), send_api_auth_accept_any=True)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        sent(api, MINIMAL)
        sent(api, MINIMAL, auth=("whoever", "whatever"))
        assert api.get("/api/v1/messages").status_code == 401
        assert api.get("/api/v1/messages", auth=("admin", "secret")).json()["total"] == 2


def test_send_api_auth_flags_and_mailpit_variables(tmp_path: Path) -> None:
    users = _auth_file(tmp_path, "send", "app:pass")
    settings = from_args([], {"MP_SEND_API_AUTH_FILE": users})
    assert (settings.send_api_auth_file, settings.send_api_auth_accept_any) == (users, False)
    assert from_args(["--send-api-auth-accept-any"], {}).send_api_auth_accept_any is True
    assert from_args([], {"MP_SEND_API_AUTH_ACCEPT_ANY": "true"}).send_api_auth_accept_any is True
    with pytest.raises(ConfigError, match="--send-api-auth-file and --send-api-auth-accept-any can't be used together"):
        Settings(send_api_auth_file=users, send_api_auth_accept_any=True)
    with pytest.raises(ConfigError, match="--send-api-auth-file: no such file"):
        Settings(send_api_auth_file=str(tmp_path / "missing"))
