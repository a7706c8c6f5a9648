"""PostgreSQL goes away while mailcatch runs, and comes back: clear errors fast, nothing lost, recovery by itself.

A catcher (`python -m mailcatch`, its log in a file) runs on a PostgreSQL server of the test's
own (tests/postgres/private_server.py), which the test stops as a crash would and starts again.
"""

from __future__ import annotations

import json
import smtplib
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mailcatch.storage.postgres.notify import APPLICATION_NAME
from mailcatch.storage.postgres.url import without_password
from tests.messages import build, send
from tests.postgres.private_server import PrivateServer, private_server
from tests.postgres.test_replicas import Replica, replica

QUICK = 10.0
"""Seconds within which an answer must come while PostgreSQL is away (the pool's old wait was 30)."""
RECOVERY = 5.0
"""Seconds after PostgreSQL is back within which new mail must be accepted."""
OUTAGE_LINE = "can't be reached"
RECOVERY_LINE = "can be reached again"


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PrivateServer]:
    """One private PostgreSQL server for the module (a couple of seconds to make)."""
    with private_server() as server:
        yield server


@pytest.fixture
def server(postgres_server: PrivateServer) -> PrivateServer:
    """The private server, running at the start of the test whatever an earlier one left."""
    if not postgres_server.running:
        postgres_server.start()
    return postgres_server


def _accepted(catcher: Replica, subject: str) -> None:
    send(catcher, build(subject))


def _refused(catcher: Replica, subject: str) -> tuple[smtplib.SMTPDataError, float]:
    """Send a message that must be refused at DATA; the error and the seconds it took."""
    began = time.monotonic()
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(catcher, build(subject))
    return refused.value, time.monotonic() - began


def _listeners(server: PrivateServer, database: str) -> int:
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
            (APPLICATION_NAME, database.rsplit("/", 1)[1]),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_postgresql_going_away_gets_clear_errors_fast_and_the_catcher_recovers_by_itself(
    server: PrivateServer, tmp_path: Path
) -> None:
    database = server.new_database()
    named = without_password(database)
    log = tmp_path / "catcher.log"
    accepted: list[str] = []
    # --quiet: warnings only (a line per message received or refused is INFO), as an outage shows in a busy log.
    with replica(database, log, "--quiet") as catcher, catcher.api() as api, catcher.events() as events:
        for subject in ("before 1", "before 2"):
            _accepted(catcher, subject)
            accepted.append(subject)
        assert api.get("/api/v1/messages").json()["total"] == 2

        server.stop("immediate")  # as a crash: no goodbye to the clients

        # SMTP: 451 naming the database, in seconds, not after the pool's old 30 s wait.
        error, took = _refused(catcher, "during 1")
        assert error.smtp_code == 451, error
        reply = error.smtp_error.decode() if isinstance(error.smtp_error, bytes) else error.smtp_error
        assert reply.startswith("4.3.0") and named in reply and OUTAGE_LINE in reply, reply
        assert took < QUICK, f"SMTP answered after {took:.1f} s"

        # HTTP: 503 with a JSON error naming the database, in seconds too.
        began = time.monotonic()
        listing = api.get("/api/v1/messages")
        took = time.monotonic() - began
        assert listing.status_code == 503, listing.text
        assert named in listing.json()["Error"] and OUTAGE_LINE in listing.json()["Error"]
        assert took < QUICK, f"HTTP answered after {took:.1f} s"

        # /readyz: not ready, saying why; quickly, as a probe's short timeout needs.
        began = time.monotonic()
        ready = api.get("/readyz")
        assert ready.status_code == 503 and OUTAGE_LINE in ready.json()["Error"], ready.text
        assert time.monotonic() - began < 2.0

        # Once the outage is known, requests fail at once (no wait for a pool): many of them, logged once.
        began = time.monotonic()
        for n in range(5):
            assert api.get("/api/v1/messages").status_code == 503
            assert api.get("/api/v1/search", params={"query": "before"}).status_code == 503
            assert _refused(catcher, f"during {n + 2}")[0].smtp_code == 451
        took = time.monotonic() - began
        assert took < 3.0, f"15 requests in a known outage took {took:.1f} s: they wait for the pool"

        time.sleep(1.0)  # long enough for the pool and the listener to try again, and fail
        server.start()
        back = time.monotonic()

        # New mail is accepted within seconds, by the first tries after PostgreSQL is back.
        while True:
            try:
                _accepted(catcher, "after 1")
                break
            except smtplib.SMTPDataError as refused:
                assert refused.smtp_code == 451 and time.monotonic() - back < RECOVERY, refused
                time.sleep(0.1)
        accepted.append("after 1")
        recovered = time.monotonic() - back
        assert recovered < RECOVERY, f"mail accepted {recovered:.1f} s after PostgreSQL came back"
        _accepted(catcher, "after 2")
        accepted.append("after 2")

        # Every message answered 250, before and after, and none of those answered 451; counts right.
        listing = api.get("/api/v1/messages")
        assert listing.status_code == 200, listing.text
        assert sorted(m["Subject"] for m in listing.json()["messages"]) == sorted(accepted)
        deadline = time.monotonic() + 3  # the counts are read again once changes settle (notify.SETTLE)
        while (body := api.get("/api/v1/messages").json())["total"] != 4 or body["unread"] != 4:
            assert time.monotonic() < deadline, f"counts {body['total']}, {body['unread']} for 4 messages"
            time.sleep(0.1)
        assert api.get("/api/v1/search", params={"query": "after"}).json()["messages_count"] == 2
        assert api.get("/readyz").status_code == 200

        # The websocket opened before the outage still works: it gets the new messages.
        pushed: set[str] = set()
        deadline = time.monotonic() + 5
        while {"after 1", "after 2"} - pushed:
            assert time.monotonic() < deadline, f"new messages pushed: {pushed}"
            frame = json.loads(events.recv(timeout=max(0.1, deadline - time.monotonic())))
            if frame["Type"] == "new":
                pushed.add(frame["Data"]["Subject"])

        # The listener of the other replicas' changes has connected again, by itself.
        deadline = time.monotonic() + RECOVERY
        while _listeners(server, database) != 1:
            assert time.monotonic() < deadline, "the listener did not connect again"
            time.sleep(0.1)

    # One line when the outage began, one when it ended: not one per request, nor the pool's own.
    text = log.read_text(encoding="utf-8", errors="replace")
    assert text.count(OUTAGE_LINE) == 1, text
    assert text.count(RECOVERY_LINE) == 1, text
    assert "error connecting in" not in text and "discarding" not in text, text
    assert "Traceback" not in text and "ERROR" not in text, text
