"""The PostgreSQL store past the everyday path: connections the server closes, big messages, --max-age."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from mailcatch.server import ServerThread
from tests.helpers import make_settings, wait_for_count
from tests.messages import build, send
from tests.postgres.databases import ADMIN_URL


@pytest.fixture
def catcher(postgres_database: str) -> Iterator[ServerThread]:
    with ServerThread(make_settings(database=postgres_database)) as running:
        yield running


def _close_connections_of(database_url: str) -> int:
    """Have the server close every connection to this database (as a restart or a fail-over does)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            (database_url.rsplit("/", 1)[1],),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_connections_closed_by_the_server_cost_no_request(catcher: ServerThread, postgres_database: str) -> None:
    """Each pooled connection is checked as it is taken: the next request and message get a fresh one, not an error."""
    send(catcher, build("before"))
    assert _close_connections_of(postgres_database) >= 1
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        listing = api.get("/api/v1/messages")
        assert listing.status_code == 200 and listing.json()["total"] == 1
        send(catcher, build("after"))
        assert [m["Subject"] for m in api.get("/api/v1/messages").json()["messages"]] == ["after", "before"]


def test_a_big_message_is_kept_byte_for_byte(catcher: ServerThread) -> None:
    """A 3 MB message (parsed off the event loop) comes back exactly; the start of its body is searchable, as on
    SQLite (prepare.MAX_INDEXED_BODY), the rest not."""
    body = b"".join(b"line %07d of a big report\r\n" % n for n in range(110_000))
    raw = b"From: app@example.com\r\nTo: user@example.com\r\nSubject: big\r\n\r\n" + body
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local") as client:
        client.sendmail("app@example.com", ["user@example.com"], raw)
    with httpx.Client(base_url=catcher.url, timeout=30) as api:
        assert api.get("/api/v1/message/latest/raw").content == raw
        assert api.get("/api/v1/search", params={"query": "line 0000042 of"}).json()["messages_count"] == 1
        assert api.get("/api/v1/search", params={"query": "line 0109999 of"}).json()["messages_count"] == 0


def test_max_age_deletes_what_is_too_old(postgres_database: str) -> None:
    """--max-age on PostgreSQL: at start (before listening) the messages older than the age are deleted."""
    now = [time.time()]
    with ServerThread(make_settings(database=postgres_database)) as first:
        send(first, build("old one"))
    now[0] += 3 * 3600
    settings = make_settings(database=postgres_database, max_age_hours=2)
    with ServerThread(settings, clock=lambda: now[0]) as second, httpx.Client(base_url=second.url) as api:
        assert api.get("/api/v1/messages").json()["total"] == 0
        send(second, build("new one"))
        assert [m["Subject"] for m in wait_for_count(api, 1)["messages"]] == ["new one"]
    with psycopg.connect(postgres_database) as conn:
        assert conn.execute("SELECT count(*) FROM message_data").fetchone() == (1,)
