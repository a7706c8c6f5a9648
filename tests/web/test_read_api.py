"""Mailpit's read API: list, message, headers, raw, parts, transcript, errors."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import httpx
import pytest

from tests.helpers import wait_for_count

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _rich_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Shop <shop@example.com>"
    message["To"] = "Ann <ann@example.com>, bob@example.com"
    message["Cc"] = "carol@example.com"
    message["Reply-To"] = "support@example.com"
    message["Subject"] = "Your receipt"
    message["Message-ID"] = "<receipt-42@example.com>"
    message["Date"] = "Sat, 28 Nov 2026 10:00:00 +0000"
    message["X-Tags"] = "receipts, billing"
    message.set_content("Thanks for your order.\nSee https://shop.example.com/orders/42\n")
    message.add_alternative('<p>Thanks for your <b>order</b>.</p><img src="cid:logo@shop">', subtype="html")
    message.get_payload()[1].add_related(PNG, "image", "png", cid="<logo@shop>", filename="logo.png")
    message.add_attachment(b"id,total\n42,9.99\n", maintype="text", subtype="csv", filename="receipt.csv")
    return message


@pytest.fixture
def rich_id(catcher, api: httpx.Client) -> str:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.send_message(
            _rich_message(), to_addrs=["ann@example.com", "bob@example.com", "carol@example.com", "secret@example.com"]
        )
    return wait_for_count(api, 1)["messages"][0]["ID"]


def test_list_has_mailpit_fields(rich_id: str, api: httpx.Client) -> None:
    listing = api.get("/api/v1/messages").json()
    assert set(listing) >= {
        "total",
        "unread",
        "count",
        "messages_count",
        "messages_unread",
        "start",
        "tags",
        "messages",
    }
    assert (listing["total"], listing["unread"], listing["count"], listing["start"]) == (1, 1, 1, 0)
    assert listing["tags"] == ["billing", "receipts"]
    summary = listing["messages"][0]
    assert list(summary) == [
        "ID",
        "MessageID",
        "Read",
        "From",
        "To",
        "Cc",
        "Bcc",
        "ReplyTo",
        "Subject",
        "Created",
        "Username",
        "Tags",
        "Size",
        "Attachments",
        "Snippet",
    ]
    assert summary["ID"] == rich_id
    assert summary["MessageID"] == "receipt-42@example.com"
    assert summary["From"] == {"Name": "Shop", "Address": "shop@example.com"}
    assert summary["To"] == [{"Name": "Ann", "Address": "ann@example.com"}, {"Name": "", "Address": "bob@example.com"}]
    assert summary["Cc"] == [{"Name": "", "Address": "carol@example.com"}]
    assert summary["Bcc"] == [{"Name": "", "Address": "secret@example.com"}]
    assert summary["ReplyTo"] == [{"Name": "", "Address": "support@example.com"}]
    assert summary["Tags"] == ["billing", "receipts"]  # sorted ignoring case, as Mailpit lists them
    assert summary["Attachments"] == 2  # the logo has "Content-Disposition: attachment" (and a Content-ID)
    assert summary["Snippet"].startswith("Thanks for your order.")
    assert summary["Read"] is False


def test_paging(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in range(7):
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: p{number}\r\n\r\nx\r\n".encode())
    wait_for_count(api, 7)
    page = api.get("/api/v1/messages", params={"start": 2, "limit": 3}).json()
    assert [m["Subject"] for m in page["messages"]] == ["p4", "p3", "p2"]
    assert (page["start"], page["count"], page["total"]) == (2, 3, 7)
    assert api.get("/api/v1/messages", params={"start": 50}).json()["messages"] == []


def test_message_detail(rich_id: str, api: httpx.Client) -> None:
    message = api.get(f"/api/v1/message/{rich_id}").json()
    assert message["ID"] == rich_id
    assert message["Subject"] == "Your receipt"
    assert message["Date"] == "2026-11-28T10:00:00.000Z"
    assert message["ReturnPath"] == "shop@example.com"
    assert "https://shop.example.com/orders/42" in message["Text"]
    assert "<b>order</b>" in message["HTML"]
    # As in Mailpit: the disposition decides (the logo is sent as an attachment), shallower parts first.
    assert message["Inline"] == []
    assert [(p["FileName"], p["ContentType"], p["ContentID"]) for p in message["Attachments"]] == [
        ("receipt.csv", "text/csv", ""),
        ("logo.png", "image/png", "logo@shop"),
    ]
    assert message["Attachments"][0]["Size"] == len(b"id,total\n42,9.99\n")
    assert message["Bcc"] == [{"Name": "", "Address": "secret@example.com"}]
    assert message["Envelope"]["To"] == [
        "ann@example.com",
        "bob@example.com",
        "carol@example.com",
        "secret@example.com",
    ]
    assert api.get("/api/v1/messages").json()["messages"][0]["Read"] is True


def test_latest_is_an_id(rich_id: str, api: httpx.Client) -> None:
    assert api.get("/api/v1/message/latest").json()["ID"] == rich_id


def test_headers_in_order(rich_id: str, api: httpx.Client) -> None:
    headers = api.get(f"/api/v1/message/{rich_id}/headers").json()
    assert list(headers)[:4] == ["From", "To", "Cc", "Reply-To"]
    assert headers["Subject"] == ["Your receipt"]


def test_raw_and_download(rich_id: str, api: httpx.Client) -> None:
    raw = api.get(f"/api/v1/message/{rich_id}/raw")
    assert raw.headers["content-type"].startswith("text/plain")
    assert b"Subject: Your receipt" in raw.content
    download = api.get(f"/api/v1/message/{rich_id}/raw", params={"dl": "1"})
    assert download.content == raw.content
    assert download.headers["content-disposition"].startswith("attachment;")
    assert f"{rich_id}.eml" in download.headers["content-disposition"]


def test_parts_are_served_safely(rich_id: str, api: httpx.Client) -> None:
    message = api.get(f"/api/v1/message/{rich_id}").json()
    logo = api.get(f"/api/v1/message/{rich_id}/part/{message['Attachments'][1]['PartID']}")
    assert logo.content == PNG
    assert logo.headers["content-type"] == "image/png"
    assert logo.headers["x-content-type-options"] == "nosniff"
    assert logo.headers["content-security-policy"] == "sandbox"
    csv = api.get(f"/api/v1/message/{rich_id}/part/{message['Attachments'][0]['PartID']}")
    assert csv.content == b"id,total\n42,9.99\n"
    assert 'filename="receipt.csv"' in csv.headers["content-disposition"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/message/nope",
        "/api/v1/message/nope/raw",
        "/api/v1/message/nope/headers",
        "/api/v1/message/nope/transcript",
        "/api/v1/message/nope/part/1",
        "/api/v1/message/latest",
    ],
)
def test_unknown_ids_are_404_with_a_json_error(catcher, api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert "not found" in response.json()["Error"]


def test_unknown_part_is_404(rich_id: str, api: httpx.Client) -> None:
    response = api.get(f"/api/v1/message/{rich_id}/part/9.9")
    assert response.status_code == 404 and "no part" in response.json()["Error"]


@pytest.mark.parametrize(
    "params", [{"start": "x"}, {"limit": "-1"}, {"start": "1.5"}, {"limit": "abc"}, {"start": "-1"}, {"limit": " 5"}]
)
def test_bad_paging_parameters_are_ignored_as_in_mailpit(catcher, api: httpx.Client, params: dict[str, str]) -> None:
    response = api.get("/api/v1/messages", params=params)
    assert response.status_code == 200
    assert response.json()["start"] == 0


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"IDs": "abc"}', b'{"IDs": [1, 2]}'])
def test_bad_delete_bodies_are_400(catcher, api: httpx.Client, body: bytes) -> None:
    response = api.request("DELETE", "/api/v1/messages", content=body)
    assert response.status_code == 400
    assert response.json()["Error"]


def test_health_checks(catcher, api: httpx.Client) -> None:
    assert api.get("/livez").text == "ok"
    assert api.get("/readyz").text == "ok"
