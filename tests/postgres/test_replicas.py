"""Two mailcatch replicas, each `python -m mailcatch` in a process of its own, on one PostgreSQL database.

Over real SMTP, HTTP and websockets: mail accepted by one is listed, searched and pushed by the
other within a second, and so are deletes and read state; both accept mail at once and both list
exactly all of it; a replica killed with SIGKILL while it receives mail loses none it answered
250 for, and the other goes on; pruning with --max settles at the limit on both, under the
advisory lock, and pruning by age deletes each message once (two catchers in this process there, for
a clock the test moves); a replica whose listening connection is cut listens again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.sync.client import ClientConnection, connect

from mailcatch.server import ServerThread
from mailcatch.storage.postgres.migrate import PRUNE_LOCK
from mailcatch.storage.postgres.notify import APPLICATION_NAME
from tests.helpers import make_settings, stop_process
from tests.messages import build, send

_STARTED = "web UI and API on "


@dataclass
class Replica:
    """A catcher process on the shared database, its addresses and its log."""

    process: subprocess.Popen[bytes]
    smtp_port: int
    url: str
    log: Path

    @property
    def smtp_host(self) -> str:
        return "127.0.0.1"

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    @contextmanager
    def events(self) -> Iterator[ClientConnection]:
        """A websocket client on /api/events, past its first (stats) frame."""
        with connect(self.url.replace("http://", "ws://") + "/api/events", open_timeout=5) as client:
            assert _frame(client, 5)["Type"] == "stats"
            yield client

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def replica(database: str, log: Path, *args: str) -> Iterator[Replica]:
    """`python -m mailcatch --database <database>` on free loopback ports, its log in a file; stopped after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILCATCH_")}
    command = [sys.executable, "-m", "mailcatch", "--database", database]
    command += ["--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", *args]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stderr=out, stdout=out, env=env)
    try:
        deadline = time.monotonic() + 20
        while _STARTED not in log.read_text(errors="replace"):
            assert process.poll() is None, f"mailcatch exited with {process.returncode}: {log.read_text()}"
            assert time.monotonic() < deadline, f"mailcatch did not start: {log.read_text()}"
            time.sleep(0.02)
        line = next(line for line in log.read_text().splitlines() if _STARTED in line)
        smtp = line.split("SMTP on ", 1)[1].split(",", 1)[0]
        url = line.split(_STARTED, 1)[1].split(" ", 1)[0]
        yield Replica(process, int(smtp.rsplit(":", 1)[1]), url, log)
    finally:
        if process.poll() is None:
            stop_process(process)


@pytest.fixture
def pair(postgres_database: str, tmp_path: Path) -> Iterator[tuple[Replica, Replica]]:
    """Two replicas, A and B, on one fresh database."""
    with replica(postgres_database, tmp_path / "a.log") as a, replica(postgres_database, tmp_path / "b.log") as b:
        yield a, b


def _frame(client: ClientConnection, timeout: float) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(client.recv(timeout=timeout))
    return frame


def _wait_frame(client: ClientConnection, matches: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
    """The first frame that matches, within `timeout` seconds (TimeoutError otherwise)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = _frame(client, max(0.001, deadline - time.monotonic()))
        if matches(frame):
            return frame


def _until(check: Callable[[], Any], timeout: float) -> Any:
    """Poll `check` until it returns something true; its last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.01)


def _subjects(api: httpx.Client, limit: int = 1000) -> list[str]:
    listing = api.get("/api/v1/messages", params={"limit": limit}).json()
    return [message["Subject"] for message in listing["messages"]]


def _send(target: Replica, subjects: list[str]) -> list[str]:
    """Send each subject on one SMTP connection; the subjects answered 250 (until the connection fails)."""
    accepted = []
    try:
        with smtplib.SMTP(target.smtp_host, target.smtp_port, timeout=10) as client:
            for subject in subjects:
                client.ehlo_or_helo_if_needed()
                client.mail("app@example.com")
                client.rcpt("user@example.com")
                code, _ = client.data(build(subject).as_bytes())
                if code == 250:
                    accepted.append(subject)
    except (OSError, smtplib.SMTPException):
        pass
    return accepted


def test_mail_to_one_replica_is_listed_searched_and_pushed_by_the_other(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    with a.api() as api_a, b.api() as api_b, ExitStack() as stack:
        events_a, events_b = stack.enter_context(a.events()), stack.enter_context(b.events())
        assert _send(a, ["Quarterly figures"]) == ["Quarterly figures"]
        sent = time.monotonic()
        new = _wait_frame(events_b, lambda f: f["Type"] == "new", 1.0)
        assert new["Data"]["Subject"] == "Quarterly figures"
        message_id = new["Data"]["ID"]
        assert _until(lambda: _subjects(api_b) == ["Quarterly figures"], 1.0)
        found = _until(lambda: api_b.get("/api/v1/search", params={"query": "quarterly"}).json()["messages"], 1.0)
        assert [m["ID"] for m in found] == [message_id]
        assert time.monotonic() - sent < 1.5
        stats = _wait_frame(events_b, lambda f: f["Type"] == "stats", 2.0)
        assert (stats["Data"]["Total"], stats["Data"]["Unread"]) == (1, 1)
        listing = api_b.get("/api/v1/messages").json()
        assert (listing["total"], listing["unread"]) == (1, 1)

        # Read on A: B's clients are told, and B counts it.
        assert api_a.put("/api/v1/messages", json={"IDs": [message_id], "Read": True}).status_code == 200
        update = _wait_frame(events_b, lambda f: f["Type"] == "update", 1.0)
        assert update["Data"] == {"ID": message_id, "Read": True}
        assert _until(lambda: api_b.get("/api/v1/messages").json()["unread"] == 0, 1.0)

        # Tags on B: A's clients are told.
        assert api_b.put("/api/v1/tags", json={"IDs": [message_id], "Tags": ["finance"]}).status_code == 200
        tagged = _wait_frame(events_a, lambda f: f["Type"] == "update" and "Tags" in f["Data"], 1.0)
        assert tagged["Data"] == {"ID": message_id, "Tags": ["finance"]}

        # A delete on B reaches A's list and websocket.
        assert api_b.request("DELETE", "/api/v1/messages", json={"IDs": [message_id]}).status_code == 200
        deleted = _wait_frame(events_a, lambda f: f["Type"] == "delete", 1.0)
        assert deleted["Data"] == {"ID": message_id}
        assert _until(lambda: api_a.get("/api/v1/messages").json()["total"] == 0, 1.0)
        assert _subjects(api_a) == []

        # Delete-all on A empties B.
        _send(b, ["one", "two"])
        assert _until(lambda: api_a.get("/api/v1/messages").json()["total"] == 2, 1.0)
        assert api_a.request("DELETE", "/api/v1/messages").status_code == 200
        _wait_frame(events_b, lambda f: f["Type"] == "truncate", 1.0)
        listing = api_b.get("/api/v1/messages").json()
        assert (listing["total"], listing["unread"], listing["messages"]) == (0, 0, [])
    for each in (a, b):
        assert "Traceback" not in each.log_text() and "ERROR" not in each.log_text()


def test_both_replicas_accept_mail_at_once_and_list_all_of_it(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    batches = [(target, [f"msg {target is a} {n} {k}" for k in range(25)]) for target in (a, b) for n in range(4)]
    with ThreadPoolExecutor(len(batches)) as pool:
        accepted = [s for sent in pool.map(lambda batch: _send(*batch), batches) for s in sent]
    assert len(accepted) == 200
    for each in (a, b):
        with each.api() as api:
            assert _until(lambda api=api: api.get("/api/v1/messages").json()["total"] == 200, 2.0)
            listing = api.get("/api/v1/messages", params={"limit": 500}).json()
            assert (listing["total"], listing["unread"]) == (200, 200)
            assert sorted(m["Subject"] for m in listing["messages"]) == sorted(accepted)


def test_a_replica_killed_while_receiving_loses_nothing_it_accepted(pair: tuple[Replica, Replica]) -> None:
    a, b = pair
    accepted: list[str] = []
    done = threading.Event()

    def keep_sending() -> None:
        try:
            with smtplib.SMTP(a.smtp_host, a.smtp_port, timeout=10) as client:
                for k in range(100_000):
                    # sendmail raises unless the message got its 250
                    client.sendmail("app@example.com", ["user@example.com"], build(f"kill {k}").as_bytes())
                    accepted.append(f"kill {k}")
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            done.set()

    with b.events() as events_b:
        sender = threading.Thread(target=keep_sending)
        sender.start()
        assert _until(lambda: len(accepted) >= 40, 10.0)
        a.process.send_signal(signal.SIGKILL)
        assert done.wait(10)
        sender.join()
        a.process.wait(5)
        # B pushed every message A answered 250 for to its websocket clients (each notice commits with its message).
        pushed: set[str] = set()
        deadline = time.monotonic() + 3
        while not set(accepted) <= pushed and time.monotonic() < deadline:
            frame = _frame(events_b, max(0.001, deadline - time.monotonic()))
            if frame["Type"] == "new":
                pushed.add(frame["Data"]["Subject"])
        assert set(accepted) <= pushed, sorted(set(accepted) - pushed)[:5]
    with b.api() as api:
        listed = set(_subjects(api, 100_000))
        assert set(accepted) <= listed, sorted(set(accepted) - listed)[:5]
        assert listed <= set(accepted) | {f"kill {len(accepted)}"}  # at most the one whose 250 was lost in the kill
        # B goes on: it accepts and lists new mail.
        assert _send(b, ["after the kill"]) == ["after the kill"]
        assert "after the kill" in _subjects(api, 100_000)
    assert "Traceback" not in b.log_text()


def test_pruning_with_max_settles_at_the_limit_on_both(postgres_database: str, tmp_path: Path) -> None:
    with (
        replica(postgres_database, tmp_path / "a.log", "--max", "20") as a,
        replica(postgres_database, tmp_path / "b.log", "--max", "20") as b,
    ):
        batches = [(target, [f"p {target is a} {n} {k}" for k in range(30)]) for target in (a, b) for n in range(2)]
        with ThreadPoolExecutor(len(batches)) as pool:
            accepted = [s for sent in pool.map(lambda batch: _send(*batch), batches) for s in sent]
        assert len(accepted) == 120
        with psycopg.connect(postgres_database) as conn:
            assert conn.execute("SELECT count(*) FROM messages").fetchone() == (20,)
        for each in (a, b):
            with each.api() as api:
                assert _until(lambda api=api: api.get("/api/v1/messages").json()["total"] == 20, 3.0)
                assert len(_subjects(api)) == 20
        for each in (a, b):
            text = each.log_text()
            assert "Traceback" not in text and "ERROR" not in text and "deadlock" not in text, text


def test_a_replica_listens_again_after_its_connection_is_cut(
    pair: tuple[Replica, Replica], postgres_database: str
) -> None:
    a, b = pair
    with b.events() as events_b:
        with psycopg.connect(postgres_database, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
                (APPLICATION_NAME,),
            ).fetchall()
            assert len(cut) == 2  # one listener per replica
        again = "listening for other replicas' changes again"
        assert _until(lambda: again in a.log_text() and again in b.log_text(), 5.0)
        assert _send(a, ["after the cut"]) == ["after the cut"]
        new = _wait_frame(events_b, lambda f: f["Type"] == "new", 2.0)
        assert new["Data"]["Subject"] == "after the cut"
    with b.api() as api:
        assert api.get("/api/v1/messages").json()["total"] == 1


def test_notices_fit_in_postgresql_s_limit() -> None:
    """A change to many messages is split into notices under 8000 bytes; an item too big for one asks for a resync."""
    from mailcatch.storage.postgres.notify import MAX_PAYLOAD, payloads

    ids = [f"{n:022d}" for n in range(1000)]
    notices = payloads("replica", "delete", [[i, False] for i in ids])
    assert len(notices) > 1 and all(len(n.encode()) <= MAX_PAYLOAD for n in notices)
    decoded = [json.loads(n) for n in notices]
    assert [item[0] for n in decoded for item in n["i"]] == ids
    assert {(n["r"], n["k"]) for n in decoded} == {("replica", "delete")}
    assert payloads("replica", "tags", [["id", ["é" * 5000]]]) == ['{"r":"replica","k":"resync"}']
    assert payloads("replica", "truncate") == ['{"r":"replica","k":"truncate"}']


def test_changes_to_many_messages_reach_the_other_replica_as_one_event(pair: tuple[Replica, Replica]) -> None:
    """Past 200 messages a change is one event on both sides (`update` `*`, `prune`), and the counts follow."""
    a, b = pair
    subjects = [f"bulk {k}" for k in range(205)]
    assert len(_send(a, subjects)) == 205
    with a.api() as api_a, b.api() as api_b, a.events() as events_a:
        assert _until(lambda: api_b.get("/api/v1/messages").json()["total"] == 205, 2.0)
        assert api_b.put("/api/v1/messages", json={"Read": True}).status_code == 200
        update = _wait_frame(events_a, lambda f: f["Type"] == "update", 1.0)
        assert update["Data"] == {"ID": "*"}
        assert _until(lambda: api_a.get("/api/v1/messages").json()["unread"] == 0, 1.0)
        assert api_b.request("DELETE", "/api/v1/search", params={"query": "bulk"}).status_code == 200
        _wait_frame(events_a, lambda f: f["Type"] == "prune", 1.0)
        listing = api_a.get("/api/v1/messages").json()
        assert (listing["total"], listing["unread"], listing["messages"]) == (0, 0, [])


def test_max_age_pruning_deletes_each_message_once_whichever_replica_runs_it(
    postgres_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Both replicas prune by age every 50 ms at once: together they delete each old message once, and both count 0."""
    now = [time.time()]
    settings = make_settings(database=postgres_database, max_age_hours=1, prune_interval=0.05)
    with (
        caplog.at_level(logging.INFO, logger="mailcatch.retention"),
        ServerThread(settings, clock=lambda: now[0]) as a,
        ServerThread(settings, clock=lambda: now[0]) as b,
        httpx.Client(base_url=a.url, timeout=10) as api_a,
        httpx.Client(base_url=b.url, timeout=10) as api_b,
    ):
        send(a, *[build(f"old a {k}") for k in range(10)])
        send(b, *[build(f"old b {k}") for k in range(10)])
        for api in (api_a, api_b):
            assert _until(lambda api=api: api.get("/api/v1/messages").json()["total"] == 20, 2.0)
        now[0] += 2 * 3600
        for api in (api_a, api_b):
            assert _until(lambda api=api: api.get("/api/v1/messages").json()["total"] == 0, 3.0)
    deleted = [int(n) for n in re.findall(r"deleted (\d+) messages? older than", caplog.text)]
    assert sum(deleted) == 20, caplog.text


def test_max_age_pruning_gives_way_to_a_replica_already_pruning(postgres_database: str) -> None:
    """While another replica holds the prune lock, a replica's age retention passes its turn (it never waits in
    the lock's queue); once the lock is free, it prunes."""
    now = [time.time()]
    settings = make_settings(database=postgres_database, max_age_hours=1, prune_interval=0.05)
    waiting = (
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
    )
    with (
        ServerThread(settings, clock=lambda: now[0]) as catcher,
        httpx.Client(base_url=catcher.url, timeout=10) as api,
        psycopg.connect(postgres_database, autocommit=True) as other,
    ):
        send(catcher, build("old enough"))
        other.execute("SELECT pg_advisory_lock(%s, %s)", PRUNE_LOCK)  # another replica pruning
        now[0] += 2 * 3600
        deadline = time.monotonic() + 1.0  # about twenty runs of the retention
        while time.monotonic() < deadline:
            assert other.execute(waiting).fetchone() == (0,)
            time.sleep(0.02)
        assert api.get("/api/v1/messages").json()["total"] == 1
        other.execute("SELECT pg_advisory_unlock(%s, %s)", PRUNE_LOCK)
        assert _until(lambda: api.get("/api/v1/messages").json()["total"] == 0, 3.0)
