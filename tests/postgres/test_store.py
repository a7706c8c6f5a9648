"""A catcher on PostgreSQL, over real SMTP and HTTP: what it captures is read back exactly, listed,
marked, tagged, deleted and pruned as on SQLite, and kept across a restart."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import psycopg
import pytest

from mailcatch.server import ServerThread
from tests.helpers import make_settings, wait_for_count
from tests.messages import build, png, send


@pytest.fixture
def catcher(postgres_database: str) -> Iterator[ServerThread]:
    """A catcher on a fresh PostgreSQL database of this test's own."""
    with ServerThread(make_settings(database=postgres_database)) as running:
        yield running


@pytest.fixture
def api(catcher: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=catcher.url, timeout=10) as client:
        yield client


def _with_attachment() -> EmailMessage:
    message = build("Report", sender="Ann <ann@example.com>", to="bob@example.com", text="see the chart")
    message.add_attachment(png(), maintype="image", subtype="png", filename="chart.png")
    return message


def test_a_message_is_read_back_exactly(catcher: ServerThread, api: httpx.Client, postgres_database: str) -> None:
    """Captured over SMTP, committed to PostgreSQL before the 250: its view, raw bytes, headers, parts and transcript."""
    data = _with_attachment().as_bytes().replace(b"\n", b"\r\n")
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        client.sendmail("ann@example.com", ["bob@example.com", "hidden@example.com"], data)
    with psycopg.connect(postgres_database) as conn:  # committed when SMTP answered, not later
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (1,)
    listing = api.get("/api/v1/messages").json()
    assert listing["total"] == 1 and listing["unread"] == 1
    summary = listing["messages"][0]
    assert summary["Subject"] == "Report" and summary["Attachments"] == 1
    assert summary["From"] == {"Name": "Ann", "Address": "ann@example.com"}
    assert summary["Bcc"] == [{"Name": "", "Address": "hidden@example.com"}]
    message_id = summary["ID"]

    raw = api.get(f"/api/v1/message/{message_id}/raw")
    assert raw.content == data
    view = api.get(f"/api/v1/message/{message_id}").json()
    assert view["Text"].strip() == "see the chart"
    assert [(a["FileName"], a["ContentType"]) for a in view["Attachments"]] == [("chart.png", "image/png")]
    part = api.get(f"/api/v1/message/{message_id}/part/{view['Attachments'][0]['PartID']}")
    assert part.content == png()
    headers = api.get(f"/api/v1/message/{message_id}/headers").json()
    assert headers["Subject"] == ["Report"]

    transcript = api.get(f"/api/v1/message/{message_id}/transcript").json()
    assert transcript["Envelope"] == {"From": "ann@example.com", "To": ["bob@example.com", "hidden@example.com"]}
    texts = [line["Text"] for line in transcript["Lines"]]
    assert texts[0].startswith("220 ") and "ehlo app.local" in texts and any("QUIT" in t.upper() for t in texts)
    assert transcript["Session"]["Helo"] == "app.local"
    assert api.get("/api/v1/message/latest").json()["ID"] == message_id
    assert api.get("/api/v1/message/nosuchmessage").status_code == 404


def test_pages_newest_first_and_read_state(catcher: ServerThread, api: httpx.Client) -> None:
    send(catcher, *[build(f"number {n}") for n in range(5)])
    page = api.get("/api/v1/messages", params={"start": 1, "limit": 2}).json()
    assert [m["Subject"] for m in page["messages"]] == ["number 3", "number 2"]
    assert page["total"] == 5 and page["start"] == 1
    newest = api.get("/api/v1/messages", params={"limit": 1}).json()["messages"][0]
    api.get(f"/api/v1/message/{newest['ID']}")  # reading marks it read
    assert api.get("/api/v1/messages").json()["unread"] == 4
    assert api.put("/api/v1/messages", json={"IDs": [newest["ID"]], "Read": False}).status_code == 200
    assert api.get("/api/v1/messages").json()["unread"] == 5
    assert api.put("/api/v1/messages", json={"Read": True}).status_code == 200
    listing = api.get("/api/v1/messages").json()
    assert listing["unread"] == 0 and all(m["Read"] for m in listing["messages"])
    assert api.get("/api/v1/search", params={"query": "is:unread"}).json()["messages_count"] == 0


def test_delete_some_then_all(catcher: ServerThread, api: httpx.Client, postgres_database: str) -> None:
    send(catcher, *[build(f"number {n}") for n in range(3)])
    ids = [m["ID"] for m in api.get("/api/v1/messages").json()["messages"]]
    assert api.request("DELETE", "/api/v1/messages", json={"IDs": [ids[0]]}).status_code == 200
    listing = api.get("/api/v1/messages").json()
    assert listing["total"] == 2 and ids[0] not in [m["ID"] for m in listing["messages"]]
    assert api.get(f"/api/v1/message/{ids[0]}").status_code == 404
    assert api.request("DELETE", "/api/v1/messages").status_code == 200
    assert api.get("/api/v1/messages").json()["total"] == 0
    with psycopg.connect(postgres_database) as conn:  # bytes, sessions and transcripts went with them
        for table in ("messages", "message_data", "message_search", "sessions", "transcript_chunks"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def test_tags_set_rename_delete_and_count(catcher: ServerThread, api: httpx.Client) -> None:
    send(catcher, build("one", X_Tags="Alpha"), build("two"))
    one, two = sorted(api.get("/api/v1/messages").json()["messages"], key=lambda m: m["Subject"])
    assert one["Tags"] == ["Alpha"]
    assert api.put("/api/v1/tags", json={"IDs": [two["ID"]], "Tags": ["alpha", "beta"]}).status_code == 200
    assert api.get(f"/api/v1/message/{two['ID']}").json()["Tags"] == ["Alpha", "beta"]  # the spelling kept
    assert api.get("/api/v1/tags").json() == ["Alpha", "beta"]
    assert api.get("/api/v1/info").json()["Tags"] == {"Alpha": 2, "beta": 1}
    assert api.get("/api/v1/search", params={"query": "tag:alpha"}).json()["messages_count"] == 2
    assert api.put("/api/v1/tags/Alpha", json={"Name": "Gamma"}).status_code == 200
    assert api.get("/api/v1/tags").json() == ["beta", "Gamma"]
    assert api.delete("/api/v1/tags/beta").status_code == 200
    assert api.get(f"/api/v1/message/{two['ID']}").json()["Tags"] == ["Gamma"]
    assert api.get("/api/v1/messages").json()["tags"] == ["Gamma"]


def test_max_keeps_the_newest(postgres_database: str) -> None:
    with ServerThread(make_settings(database=postgres_database, max_messages=3)) as catcher:
        send(catcher, *[build(f"number {n}") for n in range(5)])
        with httpx.Client(base_url=catcher.url, timeout=10) as api:
            listing = api.get("/api/v1/messages").json()
    assert listing["total"] == 3
    assert [m["Subject"] for m in listing["messages"]] == ["number 4", "number 3", "number 2"]
    with psycopg.connect(postgres_database) as conn:
        assert conn.execute("SELECT count(*) FROM message_data").fetchone() == (3,)


def test_a_restart_keeps_the_mail(postgres_database: str) -> None:
    with ServerThread(make_settings(database=postgres_database)) as first:
        send(first, build("kept", X_Tags="saved"))
    with ServerThread(make_settings(database=postgres_database)) as second, httpx.Client(base_url=second.url) as api:
        listing = api.get("/api/v1/messages").json()
        assert listing["total"] == 1 and listing["unread"] == 1
        assert listing["messages"][0]["Subject"] == "kept" and listing["tags"] == ["saved"]
        send(second, build("after"))
        assert wait_for_count(api, 2)["total"] == 2
        info = api.get("/api/v1/info").json()
        assert info["RuntimeStats"]["MessagesDeleted"] == 0 and info["DatabaseSize"] > 0


def test_search_operators(catcher: ServerThread, api: httpx.Client) -> None:
    """Plain words match substrings of the body, subject and addresses; negation, subject: and `latest` by query
    (every operator, on both backends: tests/web/test_search.py)."""
    send(catcher, build("Invoice 42", text="your total is due"), build("Welcome", to="newcomer@example.org"))
    found = api.get("/api/v1/search", params={"query": "otal"}).json()
    assert [m["Subject"] for m in found["messages"]] == ["Invoice 42"] and found["messages_count"] == 1
    assert api.get("/api/v1/search", params={"query": "newcomer"}).json()["messages_count"] == 1
    assert api.get("/api/v1/search", params={"query": "-invoice"}).json()["messages_count"] == 1
    assert api.get("/api/v1/search", params={"query": 'subject:"invoice 4"'}).json()["messages_count"] == 1
    assert api.get("/api/v1/message/latest", params={"query": "invoice"}).json()["Subject"] == "Invoice 42"
    assert api.get("/api/v1/search", params={"query": "100%_"}).json()["messages_count"] == 0  # literal, no wildcards
