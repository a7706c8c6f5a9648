"""MailHog's API as a second face: /api/v2/messages, /api/v2/search and the v1 deletes, in MailHog's shapes."""

from __future__ import annotations

import smtplib

import httpx
import pytest

from mailcatch.web.mailhog import content
from tests.helpers import wait_for_count
from tests.messages import build, send

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL

MULTIPART = (
    "From: Shop <shop@example.com>\r\n"
    "To: ann@example.com\r\n"
    "Subject: =?utf-8?q?Caf=C3=A9_receipt?=\r\n"
    "X-Long: first part\r\n"
    "  and folded part\r\n"
    'Content-Type: multipart/mixed; boundary="outer"\r\n'
    "\r\n"
    "preamble\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=inner\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Thanks!\r\n"
    "--inner\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>Thanks!</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: text/csv\r\n"
    "Content-Disposition: attachment; filename=receipt.csv\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "aWQsdG90YWwK\r\n"
    "--outer--\r\n"
    "epilogue\r\n"
)


@pytest.fixture
def hog(catcher, api: httpx.Client) -> httpx.Client:
    """The API of a catcher holding the multipart message (sent with a bounce address) and two plain ones."""
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail(
            "bounce+42@shop.example.com",
            ["ann@example.com", "audit@example.com"],
            MULTIPART.encode(),
            mail_options=["BODY=8BITMIME"],
        )
    send(catcher, build("plain one", "app@example.com", "bob@example.org", "first body"))
    send(catcher, build("plain two", "app@example.com", "carol@example.org", "second body"))
    wait_for_count(api, 3)
    return api


def test_messages_shape(hog: httpx.Client) -> None:
    page = hog.get("/api/v2/messages").json()
    assert (page["total"], page["count"], page["start"]) == (3, 3, 0)
    item = page["items"][2]
    assert set(item) == {"ID", "From", "To", "Content", "Created", "MIME", "Raw"}
    assert item["From"]["Relays"] is None and "BODY=8BITMIME" in item["From"]["Params"].split()
    assert (item["From"]["Mailbox"], item["From"]["Domain"]) == ("bounce+42", "shop.example.com")
    assert [(p["Mailbox"], p["Domain"]) for p in item["To"]] == [("ann", "example.com"), ("audit", "example.com")]
    headers = item["Content"]["Headers"]
    assert headers["Subject"] == ["=?utf-8?q?Caf=C3=A9_receipt?="]
    assert headers["X-Long"] == ["first part  and folded part"]
    assert "Received" not in headers and "Message-ID" not in headers  # nothing added, unlike MailHog
    assert item["Content"]["Body"].startswith("preamble\r\n--outer\r\n")
    assert item["Content"]["Size"] == len(MULTIPART) and item["Content"]["MIME"] is None
    assert item["Raw"] == {
        "From": "bounce+42@shop.example.com",
        "To": ["ann@example.com", "audit@example.com"],
        "Data": MULTIPART,
        "Helo": item["Raw"]["Helo"],
    }
    assert item["Raw"]["Helo"]
    outer = item["MIME"]["Parts"]
    assert len(outer) == 2
    inner = outer[0]["MIME"]["Parts"]
    assert [p["Body"] for p in inner] == ["Thanks!", "<p>Thanks!</p>"]
    assert inner[1]["Headers"] == {"Content-Type": ["text/html"]}
    assert outer[1]["Body"] == "aWQsdG90YWwK" and outer[1]["MIME"] is None
    assert page["items"][0]["MIME"] is None and page["items"][0]["Content"]["Body"] == "second body\r\n"
    assert item["Created"].endswith("Z")


def test_paging(hog: httpx.Client) -> None:
    page = hog.get("/api/v2/messages", params={"start": 1, "limit": 1}).json()
    assert (page["total"], page["count"], page["start"]) == (3, 1, 1)
    assert page["items"][0]["Content"]["Headers"]["Subject"] == ["plain one"]


@pytest.mark.parametrize(
    ("kind", "query", "subjects"),
    [
        ("from", "shop.example", ["=?utf-8?q?Caf=C3=A9_receipt?="]),
        ("from", "APP@", ["plain two", "plain one"]),
        ("to", "carol", ["plain two"]),
        ("to", "audit@example.com", ["=?utf-8?q?Caf=C3=A9_receipt?="]),
        ("containing", "second body", ["plain two"]),
        ("containing", "thanks", ["=?utf-8?q?Caf=C3=A9_receipt?="]),
        ("containing", "receipt.csv", ["=?utf-8?q?Caf=C3=A9_receipt?="]),
        ("containing", "nowhere", []),
        ("containing", "", ["plain two", "plain one", "=?utf-8?q?Caf=C3=A9_receipt?="]),
    ],
)
def test_search_kinds(hog: httpx.Client, kind: str, query: str, subjects: list[str]) -> None:
    page = hog.get("/api/v2/search", params={"kind": kind, "query": query}).json()
    assert [i["Content"]["Headers"]["Subject"][0] for i in page["items"]] == subjects
    assert page["total"] == len(subjects)


def test_search_kind_checked(hog: httpx.Client) -> None:
    response = hog.get("/api/v2/search", params={"kind": "subject", "query": "x"})
    assert response.status_code == 400 and "kind" in response.json()["Error"]


def test_get_and_delete_one_then_all(hog: httpx.Client) -> None:
    first = hog.get("/api/v2/messages").json()["items"][0]
    assert hog.get(f"/api/v1/messages/{first['ID']}").json() == first
    deleted = hog.delete(f"/api/v1/messages/{first['ID']}")
    assert (deleted.status_code, deleted.content) == (200, b"")  # as MailHog: no body for a client to misread
    assert hog.get(f"/api/v1/messages/{first['ID']}").status_code == 404
    missing = hog.delete(f"/api/v1/messages/{first['ID']}")
    assert missing.status_code == 404 and "Error" in missing.json()
    assert hog.get("/api/v2/messages").json()["total"] == 2
    assert hog.delete("/api/v1/messages").status_code == 200
    assert hog.get("/api/v2/messages").json() == {"total": 0, "count": 0, "start": 0, "items": []}


def test_content_of_odd_input() -> None:
    assert content("no blank line at all") == {"Headers": {}, "Body": "", "Size": 20, "MIME": None}
    bare = content("Subject: x\n\nbody\n")
    assert bare["Headers"] == {"Subject": ["x"]} and bare["Body"] == "body\n"
    unterminated = content('Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\npart one\r\n')
    assert unterminated["MIME"] == {"Parts": []}
    no_boundary = content("Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\npart\r\n--b--\r\n")
    assert no_boundary["MIME"] is None
