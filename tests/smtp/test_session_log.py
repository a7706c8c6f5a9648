"""The session log (GET /api/v1/sessions): recent SMTP sessions, refused ones too, each recorded as it ends."""

from __future__ import annotations

import base64
import json
import smtplib
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from websockets.sync.client import connect

from mailcatch.server import ServerThread
from mailcatch.smtp.session_log import MAX_LINES, MAX_SESSIONS
from mailcatch.web.openapi import document
from tests.helpers import wait_for_count
from tests.smtp.test_smtp import RawClient

SIMPLE = b"From: app@example.com\r\nTo: bob@example.com\r\nSubject: logged\r\n\r\nHello.\r\n"


def sessions_once(api: httpx.Client, count: int, timeout: float = 5) -> list[dict[str, Any]]:
    """The log's summaries, newest first, once it has recorded `count` sessions since start."""
    deadline = time.monotonic() + timeout
    while True:
        listing: dict[str, Any] = api.get("/api/v1/sessions").json()
        if listing["Recorded"] >= count or time.monotonic() > deadline:
            assert listing["Recorded"] == count, listing
            sessions: list[dict[str, Any]] = listing["Sessions"]
            return sessions
        time.sleep(0.02)


def texts(api: httpx.Client, session_id: str) -> list[str]:
    detail = api.get(f"/api/v1/sessions/{session_id}")
    assert detail.status_code == 200, detail.text
    return [line["Text"] for line in detail.json()["Lines"]]


def test_a_normal_session(catcher: ServerThread, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo("app.test")
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
        port = client.sock.getsockname()[1]
    message = wait_for_count(api, 1)["messages"][0]
    [session] = sessions_once(api, 1)
    assert session["Peer"] == f"127.0.0.1:{port}"
    assert (session["Helo"], session["TLS"], session["Username"]) == ("app.test", False, "")
    assert (session["End"], session["Messages"], session["MessageCount"]) == ("quit", [message["ID"]], 1)
    assert (session["Refusals"], session["Refused"]) == (0, [])
    assert session["Started"] <= session["Ended"] and session["Ended"].endswith("Z")
    assert "Lines" not in session
    detail = api.get(f"/api/v1/sessions/{session['ID']}").json()
    assert {key: value for key, value in detail.items() if key not in ("Lines", "LinesOmitted")} == session
    assert detail["LinesOmitted"] == 0 and session["LineCount"] == len(detail["Lines"])
    lines = texts(api, session["ID"])
    assert lines[0].startswith("220 ") and lines[1] == "ehlo app.test" and lines[-2:] == ["QUIT", "221 Bye"]
    assert f"250 2.0.0 Ok: queued as {message['ID']}" in lines
    assert f"<{len(SIMPLE)} bytes, 5 lines of message data>" in lines
    # The message's transcript is the same session: its ID, and (once its end is stored) the same lines.
    deadline = time.monotonic() + 5
    while True:
        transcript = api.get(f"/api/v1/message/{message['ID']}/transcript").json()
        if transcript["Lines"][-1]["Text"] == "221 Bye" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert transcript["Session"]["ID"] == session["ID"]
    assert [line["Text"] for line in transcript["Lines"]] == lines


def test_a_refused_session(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(smtp_allowed_recipients=r"@example\.com$")
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo("app.test")
        assert client.docmd("BOGUS")[0] == 500
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("app@example.com", ["eve@elsewhere.test"], SIMPLE)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        [session] = sessions_once(api, 1)
        assert session["Refusals"] == 2 and session["End"] == "quit"
        assert session["Refused"][0].startswith("500 ") and "BOGUS" in session["Refused"][0]
        assert session["Refused"][1] == "550 5.1.0 Requested action not taken: mailbox unavailable"
        assert session["Messages"] == [] and session["MessageCount"] == 0
        lines = texts(api, session["ID"])
        assert "rcpt TO:<eve@elsewhere.test>" in lines and session["Refused"][1] in lines
        assert api.get("/api/v1/messages").json()["total"] == 0


def test_a_timed_out_session(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(smtp_timeout=0.3)
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO idle.test")
        assert client.reply()[0].startswith(b"421 4.4.2")
    finally:
        client.close()
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        [session] = sessions_once(api, 1)
        assert (session["End"], session["Helo"], session["Refusals"]) == ("timeout", "idle.test", 1)
        assert texts(api, session["ID"])[-1] == "421 4.4.2 Idle too long, closing the connection"


def test_a_session_the_client_leaves_and_one_a_fault_rule_drops(start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(enable_chaos=True)
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        client = RawClient(catcher.smtp_host, catcher.smtp_port)
        client.command("EHLO gone.test")
        client.command("MAIL FROM:<app@example.com>")
        client.close()  # no QUIT
        [left] = sessions_once(api, 1)
        assert (left["End"], left["Helo"], left["Refusals"]) == ("client closed", "gone.test", 0)
        assert texts(api, left["ID"])[-1] == "250 OK"

        assert api.post("/api/v1/faults", json={"Stage": "RCPT", "Drop": True}).status_code == 201
        dropped = smtplib.SMTP(catcher.smtp_host, catcher.smtp_port)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            dropped.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
        dropped.close()
        newest, older = sessions_once(api, 2)
        assert older["ID"] == left["ID"]
        assert newest["End"] == "dropped" and newest["MessageCount"] == 0
        assert texts(api, newest["ID"])[-1].startswith("<connection dropped by fault rule")


def test_a_session_with_two_messages(catcher: ServerThread, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("app@example.com", ["one@example.com"], SIMPLE)
        client.sendmail("app@example.com", ["two@example.com"], SIMPLE)
    ids = [message["ID"] for message in reversed(wait_for_count(api, 2)["messages"])]  # oldest first
    [session] = sessions_once(api, 1)
    assert (session["Messages"], session["MessageCount"]) == (ids, 2)
    lines = texts(api, session["ID"])
    assert [line for line in lines if "queued as" in line] == [f"250 2.0.0 Ok: queued as {id_}" for id_ in ids]
    assert lines.count("data") == 2 and lines[-1] == "221 Bye"


def test_the_log_keeps_the_newest_sessions_and_their_last_lines(catcher: ServerThread, api: httpx.Client) -> None:
    extra = 5
    ports = []
    for _ in range(MAX_SESSIONS + extra):
        with socket.create_connection((catcher.smtp_host, catcher.smtp_port)) as raw, raw.makefile("rb") as replies:
            ports.append(raw.getsockname()[1])
            replies.readline()
            raw.sendall(b"QUIT\r\n")
            assert replies.readline().startswith(b"221")
    sessions = sessions_once(api, MAX_SESSIONS + extra)
    assert len(sessions) == MAX_SESSIONS
    assert [s["Peer"] for s in sessions] == [f"127.0.0.1:{port}" for port in reversed(ports[extra:])]
    listing = api.get("/api/v1/sessions").json()
    assert (listing["Total"], listing["Max"], listing["Recorded"]) == (MAX_SESSIONS, MAX_SESSIONS, MAX_SESSIONS + extra)

    noops = 300  # each NOOP and its reply are two lines: more than the log keeps, fewer than the recorder folds
    assert 2 * noops > MAX_LINES
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.send(b"NOOP\r\n" * noops)
        for _ in range(noops):
            assert client.reply() == [b"250 OK"]
        client.command("QUIT")
    finally:
        client.close()
    long = sessions_once(api, MAX_SESSIONS + extra + 1)[0]
    assert long["LineCount"] == 1 + 2 * noops + 2
    detail = api.get(f"/api/v1/sessions/{long['ID']}").json()
    assert len(detail["Lines"]) == MAX_LINES and detail["LinesOmitted"] == long["LineCount"] - MAX_LINES
    assert [line["Text"] for line in detail["Lines"][-4:]] == ["NOOP", "250 OK", "QUIT", "221 Bye"]

    gone = api.get("/api/v1/sessions/0123456789abcdef")
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/json"
    assert "no SMTP session with ID 0123456789abcdef" in gone.json()["Error"]


def test_a_session_event_when_a_session_ends(catcher: ServerThread, api: httpx.Client) -> None:
    url = catcher.url.replace("http://", "ws://") + "/api/events"
    with connect(url, open_timeout=5) as events:
        assert json.loads(events.recv(timeout=5))["Type"] == "stats"
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
            client.helo("live.test")
            client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
        seen = []
        while not seen or seen[-1]["Type"] != "session":
            seen.append(json.loads(events.recv(timeout=5)))
    types = [frame["Type"] for frame in seen]
    assert types.index("new") < types.index("session")  # the session ends after its message is stored
    [listed] = sessions_once(api, 1)
    assert seen[-1]["Data"] == listed
    assert listed["Helo"] == "live.test" and listed["MessageCount"] == 1


def test_auth_credentials_stay_masked(catcher: ServerThread, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.login("alice", "hunter2-secret")
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO raw.test")
        assert client.command("AUTH LOGIN")[0].startswith(b"334")
        assert client.command(base64.b64encode(b"bob"))[0].startswith(b"334")
        assert client.command(base64.b64encode(b"correct horse"))[0].startswith(b"235")
        client.command("QUIT")
    finally:
        client.close()
    login, plain = sessions_once(api, 2)
    assert (plain["Username"], login["Username"]) == ("alice", "bob")
    plain_lines, login_lines = texts(api, plain["ID"]), texts(api, login["ID"])
    assert 'AUTH PLAIN <username "alice", password hidden>' in plain_lines
    assert [line for line in login_lines if line.startswith(("AUTH", "<"))] == [
        "AUTH LOGIN",
        '<username "bob">',
        "<password hidden>",
    ]
    secrets = ("hunter2", "correct horse", base64.b64encode(b"correct horse").decode())
    secrets += (base64.b64encode(b"\x00alice\x00hunter2-secret").decode(),)
    for text in [*plain_lines, *login_lines, json.dumps(api.get("/api/v1/sessions").json())]:
        assert not any(secret in text for secret in secrets), text


def test_the_responses_fit_the_api_description(catcher: ServerThread, api: httpx.Client) -> None:
    components = document()["components"]

    def check(name: str, instance: Any) -> None:
        OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": components}).validate(instance)

    check("Sessions", api.get("/api/v1/sessions").json())  # empty
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.sendmail("app@example.com", ["bob@example.com"], SIMPLE)
    [session] = sessions_once(api, 1)
    check("Sessions", api.get("/api/v1/sessions").json())
    check("SessionSummary", session)
    check("Session", api.get(f"/api/v1/sessions/{session['ID']}").json())
    check("Error", api.get("/api/v1/sessions/nope").json())
