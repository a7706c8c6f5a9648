"""GET /api/v1/message/{ID}/part/{PartID}?inline=1: a PDF part inline, for the UI's preview frame
only, and nothing else inline: a part that could run as a page at the catcher's origin never is."""

from __future__ import annotations

from email.message import EmailMessage

import httpx
import pytest

from mailcatch.server import ServerThread
from tests.helpers import wait_for_count
from tests.messages import build, pdf, send

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL

REPORT = pdf("Quarterly report")


def policy_of(response: httpx.Response) -> dict[str, str]:
    directives = [d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def send_parts(catcher: ServerThread, api: httpx.Client, *files: tuple[str, bytes, str]) -> tuple[str, list[str]]:
    """Send one message with these attachments (name, bytes, type/subtype): its ID and their part IDs."""
    message = build("Parts", text="see attached")
    for name, data, content_type in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    send(catcher, message)
    wait_for_count(api, 1)
    found = api.get("/api/v1/message/latest").json()
    return found["ID"], [part["PartID"] for part in found["Attachments"]]


def test_a_pdf_is_served_inline_to_frames_of_the_catcher_only(catcher: ServerThread, api: httpx.Client) -> None:
    message_id, [part_id] = send_parts(catcher, api, ("report Q3.pdf", REPORT, "application/pdf"))
    for asked in ("1", "true"):
        response = api.get(f"/api/v1/message/{message_id}/part/{part_id}", params={"inline": asked})
        assert response.status_code == 200
        assert response.content == REPORT
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == (
            "inline; filename=\"report Q3.pdf\"; filename*=UTF-8''report%20Q3.pdf"
        )
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        policy = policy_of(response)
        assert policy == {"frame-ancestors": "'self'"}  # no sandbox, no object-src: Chrome's viewer needs both


def test_without_inline_the_part_is_still_a_download(catcher: ServerThread, api: httpx.Client) -> None:
    message_id, [part_id] = send_parts(catcher, api, ("report.pdf", REPORT, "application/pdf"))
    for params in ({}, {"inline": "0"}, {"inline": ""}):
        response = api.get(f"/api/v1/message/{message_id}/part/{part_id}", params=params)
        assert response.status_code == 200 and response.content == REPORT
        assert response.headers["content-disposition"].startswith('attachment; filename="report.pdf"')
        assert response.headers["content-security-policy"] == "sandbox"
        assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("page.html", b"<html><script>parent.pwned = 1</script></html>", "text/html"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>parent.pwned = 1</script></svg>',
            "image/svg+xml",
        ),
        ("feed.xml", b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml"/>', "application/xml"),
        ("notes.txt", b"%PDF-1.4 but labelled as text", "text/plain"),
        ("page.pdf", b"<html><script>parent.pwned = 1</script></html>", "application/pdf"),
        ("empty.pdf", b"", "application/pdf"),
        ("chart.png", b"\x89PNG\r\n\x1a\n", "image/png"),
    ],
)
def test_anything_but_a_pdf_is_refused(
    catcher: ServerThread, api: httpx.Client, name: str, data: bytes, content_type: str
) -> None:
    message_id, [part_id] = send_parts(catcher, api, (name, data, content_type))
    response = api.get(f"/api/v1/message/{message_id}/part/{part_id}", params={"inline": "1"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert "inline is for PDF parts only" in response.json()["Error"]
    assert b"script" not in response.content and "inline" not in response.headers.get("content-disposition", "")


def test_a_pdf_without_a_file_name_is_named_after_its_part(catcher: ServerThread, api: httpx.Client) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "app@example.com", "user@example.com", "Unnamed"
    message.set_content("see attached")
    message.add_attachment(REPORT, maintype="application", subtype="pdf")  # no file name
    send(catcher, message)
    wait_for_count(api, 1)
    response = api.get("/api/v1/message/latest/part/2", params={"inline": "1"})
    assert response.status_code == 200 and response.content == REPORT
    assert response.headers["content-disposition"].startswith('inline; filename="part-2.pdf"')


def test_unknown_messages_and_parts_are_404s(catcher: ServerThread, api: httpx.Client) -> None:
    message_id, [part_id] = send_parts(catcher, api, ("report.pdf", REPORT, "application/pdf"))
    for path in (f"/api/v1/message/{message_id}/part/9.9", f"/api/v1/message/no-such-id/part/{part_id}"):
        response = api.get(path, params={"inline": "1"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json" and response.json()["Error"]


def test_the_ui_may_frame_only_its_own_origin(api: httpx.Client) -> None:
    policy = policy_of(api.get("/"))
    assert policy["frame-src"] == "'self'"  # the PDF preview; nothing from elsewhere, no data: or blob:
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
