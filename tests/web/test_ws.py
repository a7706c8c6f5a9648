"""The /api/events websocket, driven by real websocket clients and real SMTP deliveries."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import smtplib
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from mailcatch import __version__
from mailcatch.models import Event
from mailcatch.server import ServerThread
from mailcatch.storage.store import BULK_CHANGE
from tests.helpers import Spawned, run_async, spawned, wait_for_count
from tests.messages import build, send

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL


def stats(total: int, unread: int) -> dict[str, Any]:
    """A `stats` frame's data, as Mailpit sends it."""
    return {"Total": total, "Unread": unread, "Version": __version__}


def ws_url(catcher: ServerThread | Spawned) -> str:
    return catcher.url.replace("http://", "ws://") + "/api/events"


def frame(client: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    """The next of Mailpit's frames: mailcatch's own `session` frames, sent as each SMTP session ends,
    are passed over here (tests/smtp/test_session_log.py tests them)."""
    while True:
        data: dict[str, Any] = json.loads(client.recv(timeout=timeout))
        if data["Type"] != "session":
            return data


def frames_until(client: ClientConnection, kind: str, timeout: float = 5) -> list[dict[str, Any]]:
    """Frames up to and including the first of type `kind`."""
    seen = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1]["Type"] != kind:
        seen.append(frame(client, max(0.0, deadline - time.monotonic())))
    return seen


@pytest.fixture
def events(catcher: ServerThread) -> Iterator[ClientConnection]:
    """A websocket client, past its first (stats) frame."""
    with connect(ws_url(catcher), open_timeout=5) as client:
        assert frame(client) == {"Type": "stats", "Data": stats(0, 0)}
        yield client


def test_new_frame_within_a_second_of_the_250(catcher: ServerThread, events: ClientConnection) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo()
        client.mail("app@example.com")
        client.rcpt("user@example.com")
        code, reply = client.data(build("Hello there").as_bytes())
        answered = time.monotonic()
    assert code == 250
    new = frame(events, timeout=1)
    assert time.monotonic() - answered < 1
    assert new["Type"] == "new"
    assert new["Data"]["Subject"] == "Hello there" and new["Data"]["ID"] in reply.decode()
    listed = httpx.get(catcher.url + "/api/v1/messages").json()["messages"][0]
    assert new["Data"] == listed


def test_stats_follow_changes_debounced(catcher: ServerThread, events: ClientConnection) -> None:
    send(catcher, *[build(f"burst {n}") for n in range(20)])
    seen = []
    while not seen or seen[-1] != {"Type": "stats", "Data": stats(20, 20)}:
        seen.append(frame(events))
    assert sum(1 for f in seen if f["Type"] == "new") == 20
    assert sum(1 for f in seen if f["Type"] == "stats") < 10


def test_update_delete_truncate_frames(catcher: ServerThread, events: ClientConnection) -> None:
    send(catcher, build("one"), build("two"))
    with httpx.Client(base_url=catcher.url) as api:
        ids = [m["ID"] for m in wait_for_count(api, 2)["messages"]]
        frames_until(events, "stats")
        api.put("/api/v1/messages", json={"IDs": [ids[0]], "Read": True})
        assert frames_until(events, "update")[-1]["Data"] == {"ID": ids[0], "Read": True}
        api.put("/api/v1/tags", json={"IDs": [ids[1]], "Tags": ["urgent"]})
        assert frames_until(events, "update")[-1]["Data"] == {"ID": ids[1], "Tags": ["urgent"]}
        api.request("DELETE", "/api/v1/messages", json={"IDs": [ids[0]]})
        assert frames_until(events, "delete")[-1]["Data"] == {"ID": ids[0]}
        assert frames_until(events, "stats")[-1]["Data"] == stats(1, 1)
        api.delete("/api/v1/messages")
        assert frames_until(events, "truncate")[-1]["Data"] is None
        assert frames_until(events, "stats")[-1]["Data"] == stats(0, 0)


def test_a_tagged_message_comes_as_update_then_new_as_in_mailpit(
    catcher: ServerThread, events: ClientConnection
) -> None:
    send(catcher, build("plus", to="user+tag@example.com", X_Tags="Zed, alpha"))
    seen = frames_until(events, "stats")
    assert [f["Type"] for f in seen] == ["update", "new", "stats"]
    update, new = seen[0]["Data"], seen[1]["Data"]
    assert update == {"ID": new["ID"], "Tags": ["Zed", "alpha", "tag"]}  # Mailpit's frames: code point order
    assert new["Tags"] == ["Zed", "alpha", "tag"]
    assert seen[2]["Data"] == stats(1, 1)
    with httpx.Client(base_url=catcher.url) as api:
        assert api.get("/api/v1/messages").json()["messages"][0]["Tags"] == ["alpha", "tag", "Zed"]


def test_no_stats_after_a_change_of_tags(catcher: ServerThread, events: ClientConnection) -> None:
    send(catcher, build("one"))
    frames_until(events, "stats")
    with httpx.Client(base_url=catcher.url) as api:
        message_id = wait_for_count(api, 1)["messages"][0]["ID"]
        api.put("/api/v1/tags", json={"IDs": [message_id], "Tags": ["a", "b"]})
        assert frame(events) == {"Type": "update", "Data": {"ID": message_id, "Tags": ["a", "b"]}}
        with pytest.raises(TimeoutError):
            frame(events, timeout=1)  # stats would come 0.25 s after a change
        api.put("/api/v1/messages", json={"IDs": [message_id], "Read": True})
        assert [f["Type"] for f in frames_until(events, "stats")] == ["update", "stats"]


def changes_until_stats(client: ClientConnection, stats: dict[str, Any]) -> list[dict[str, Any]]:
    """The frames other than `new` and `stats` up to a stats frame showing these counts."""
    seen: list[dict[str, Any]] = []
    while True:
        got = frame(client, timeout=10)
        if got["Type"] == "stats" and got["Data"] == stats:
            return [f for f in seen if f["Type"] not in ("new", "stats")]
        seen.append(got)


def test_a_change_to_many_messages_comes_as_one_frame(catcher: ServerThread, events: ClientConnection) -> None:
    """Thousands of frames at once would overflow every client's backlog and drop it: past
    BULK_CHANGE messages, one frame tells clients to fetch again, and they stay connected."""
    many = BULK_CHANGE + 50
    send(catcher, *[build(f"bulk {n}") for n in range(many)])
    with httpx.Client(base_url=catcher.url) as api:
        ids = [m["ID"] for m in api.get(f"/api/v1/messages?limit={many}").json()["messages"]]
        assert changes_until_stats(events, stats(many, many)) == []
        everything = {"Type": "update", "Data": {"ID": "*"}}
        api.put("/api/v1/messages", json={"Read": True})
        assert changes_until_stats(events, stats(many, 0)) == [everything]
        api.put("/api/v1/messages", json={"IDs": ids[: BULK_CHANGE + 1], "Read": False})
        assert changes_until_stats(events, stats(many, BULK_CHANGE + 1)) == [everything]
        api.put("/api/v1/messages", json={"IDs": ids[:BULK_CHANGE], "Read": True})  # not more than the limit
        named = changes_until_stats(events, stats(many, 1))
        assert sorted(f["Data"]["ID"] for f in named) == sorted(ids[:BULK_CHANGE])
        api.put("/api/v1/messages", json={"Read": True})  # every message, but only one changes: named
        assert changes_until_stats(events, stats(many, 0)) == [
            {"Type": "update", "Data": {"ID": ids[BULK_CHANGE], "Read": True}}
        ]
        api.put("/api/v1/messages", json={"Read": False})
        assert changes_until_stats(events, stats(many, many)) == [everything]
        api.put("/api/v1/tags", json={"IDs": ids, "Tags": ["bulk"]})
        assert changes_until_stats(events, stats(many, many)) == [everything]
        api.request("DELETE", "/api/v1/messages", json={"IDs": ids})
        assert changes_until_stats(events, stats(0, 0)) == [{"Type": "prune", "Data": None}]
    send(catcher, build("still connected"))
    assert frames_until(events, "new")[-1]["Data"]["Subject"] == "still connected"


def test_prune_frame(start_catcher) -> None:
    catcher = start_catcher(max_messages=2)
    with connect(ws_url(catcher)) as events:
        frame(events)
        send(catcher, build("a"), build("b"), build("c"))
        seen = frames_until(events, "prune")
        assert [f["Data"]["Subject"] for f in seen if f["Type"] == "new"] == ["a", "b", "c"]


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://{host}", "file://"])
def test_foreign_origin_refused(catcher: ServerThread, origin: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(catcher), origin=origin.format(host=catcher.url.split("//")[1]), open_timeout=5)
    assert refused.value.response.status_code == 403


def test_same_origin_and_listed_origins_accepted(start_catcher) -> None:
    catcher = start_catcher(api_cors=("https://tools.example", "dev.test"))
    for origin in (catcher.url, "https://tools.example", "http://dev.test:3000"):
        with connect(ws_url(catcher), origin=origin, open_timeout=5) as client:  # type: ignore[arg-type]
            assert frame(client)["Type"] == "stats"
    with pytest.raises(InvalidStatus):
        connect(ws_url(catcher), origin="https://tools.example.evil", open_timeout=5)  # type: ignore[arg-type]


SENDER = """
import smtplib, sys
host, port, first, count, step = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
with smtplib.SMTP(host, port) as smtp:
    for n in range(first, count, step):
        smtp.sendmail("app@example.com", ["user@example.com"], f"Subject: m{n}\\r\\n\\r\\nbody {n}\\r\\n".encode())
"""


def test_fifty_clients_none_missing_a_frame_of_a_thousand() -> None:
    clients, messages, senders = 50, 1000, 4

    async def run(catcher: Spawned) -> list[list[str]]:
        connections = [await async_connect(ws_url(catcher), max_queue=None, compression=None) for _ in range(clients)]

        async def collect(connection: Any) -> list[str]:
            ids = []
            async with connection:
                while len(ids) < messages:
                    data = json.loads(await connection.recv())
                    if data["Type"] == "new":
                        ids.append(data["Data"]["ID"])
            return ids

        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                SENDER,
                catcher.smtp_host,
                str(catcher.smtp_port),
                str(part),
                str(messages),
                str(senders),
            )
            for part in range(senders)
        ]
        try:
            return await asyncio.wait_for(asyncio.gather(*(collect(c) for c in connections)), 90)
        finally:
            assert [await process.wait() for process in processes] == [0] * senders

    # The catcher and the SMTP clients run in processes of their own: in this one, the 50 clients'
    # reads would make the server thread wait for the GIL after each of its 50,000 socket writes.
    with spawned("--max", "0") as catcher:
        received = run_async(run(catcher))
        with httpx.Client(base_url=catcher.url) as api:
            stored = [m["ID"] for m in api.get("/api/v1/messages", params={"limit": messages}).json()["messages"]]
    assert len(stored) == messages
    for ids in received:
        assert ids == stored[::-1]


def stalled_client(catcher: ServerThread) -> socket.socket:
    """A websocket that completes its handshake, then never reads again (small receive buffer)."""
    host, port = catcher.url.split("//")[1].rsplit(":", 1)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101")
    return sock


def test_slow_client_dropped_without_holding_up_others_or_smtp(catcher: ServerThread) -> None:
    loop = catcher._loop
    assert loop is not None
    big = Event("new", {"Subject": "x" * 65536})
    copies = catcher.server.bus._max_pending + 300
    stalled = stalled_client(catcher)
    with stalled, connect(ws_url(catcher), max_queue=None) as healthy:
        frame(healthy)
        for _ in range(0, copies, 100):  # in steps, as commits publish them: a burst of more would drop anyone
            for _ in range(100):
                loop.call_soon_threadsafe(catcher.server.bus.publish, big)
            got = 0
            while got < 100:
                if frame(healthy)["Type"] == "new":
                    got += 1
        started = time.monotonic()
        send(catcher, build("still flowing"))
        assert time.monotonic() - started < 1
        assert frames_until(healthy, "new")[-1]["Data"]["Subject"] == "still flowing"
        # Dropped: the connection ends (a close frame saying why, when the socket had room for one).
        stalled.settimeout(10)
        received = b""
        while (chunk := stalled.recv(1 << 20)) and b"too slow, dropped" not in received[-4096:] + chunk:
            received = received[-4096:] + chunk
        deadline = time.monotonic() + 5
        while (stats := httpx.get(catcher.url + "/api/v1/info").json()["RuntimeStats"])[
            "WebsocketClients"
        ] > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (stats["WebsocketClients"], stats["WebsocketDropped"]) == (1, 1)


def test_error_frames_for_sessions_that_failed(start_catcher, tmp_path) -> None:
    users = tmp_path / "smtp-users"
    users.write_text("app:secret\n")
    catcher = start_catcher(smtp_auth_file=str(users), max_message_size=1000)
    with connect(ws_url(catcher)) as events:
        frame(events)
        with (
            smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client,
            pytest.raises(smtplib.SMTPAuthenticationError),
        ):
            client.login("app", "wrong")
        error = frames_until(events, "error")[-1]["Data"]
        assert (error["Level"], error["Type"], error["IP"]) == ("error", "smtpd", "127.0.0.1")
        assert "535" in error["Message"]

        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            client.login("app", "secret")
            with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
                client.sendmail("app@example.com", ["user@example.com"], b"Subject: big\r\n\r\n" + b"x" * 5000)
        assert "552" in frames_until(events, "error")[-1]["Data"]["Message"]

        with socket.create_connection((catcher.smtp_host, catcher.smtp_port)) as raw, raw.makefile("rb") as reader:
            reader.readline()
            for command in (
                b"EHLO me",
                b"AUTH PLAIN AGFwcABzZWNyZXQ=",
                b"MAIL FROM:<a@example.com>",
                b"RCPT TO:<b@example.com>",
                b"DATA",
            ):
                raw.sendall(command + b"\r\n")
                while (line := reader.readline())[3:4] == b"-":
                    pass
            assert line.startswith(b"354")
            raw.sendall(b"Subject: half\r\n\r\nthe first half of")
        assert "cut off" in frames_until(events, "error")[-1]["Data"]["Message"]

        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            client.login("app", "secret")
            client.sendmail("app@example.com", ["user@example.com"], b"Subject: fine\r\n\r\nok\r\n")
        seen = frames_until(events, "stats")
        assert [f["Type"] for f in seen] == ["new", "stats"]
        with pytest.raises(TimeoutError):
            frame(events, timeout=0.5)
