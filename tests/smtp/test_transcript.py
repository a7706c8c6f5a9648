"""Each message keeps the SMTP dialogue that delivered it, with secrets masked."""

from __future__ import annotations

import base64
import gc
import smtplib

import httpx

from mailcatch.smtp.protocol import CatcherSMTP
from tests.helpers import wait_for_count
from tests.smtp.test_smtp import RawClient


def _texts(transcript: dict) -> list[str]:
    return [line["Text"] for line in transcript["Lines"]]


def test_transcript_records_both_sides_in_order(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.ehlo("client.test")
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: t\r\n\r\n" + b"line\r\n" * 10)
    message_id = wait_for_count(api, 1)["messages"][0]["ID"]
    transcript = api.get(f"/api/v1/message/{message_id}/transcript").json()
    texts = _texts(transcript)
    assert texts[0].startswith("220 ") and "mailcatch" in texts[0]
    assert texts[1] == "ehlo client.test"
    assert "250-PIPELINING" in texts
    data_at = texts.index("data")
    assert texts[data_at + 1].startswith("354")
    assert texts[data_at + 2] == "<74 bytes, 12 lines of message data>"
    assert texts[data_at + 3] == f"250 2.0.0 Ok: queued as {message_id}"
    assert texts[-2:] == ["QUIT", "221 Bye"]
    directions = [line["Dir"] for line in transcript["Lines"]]
    assert directions[:3] == ["S", "C", "S"]
    assert set(directions) == {"C", "S"}
    assert transcript["Session"]["Helo"] == "client.test"
    assert transcript["Session"]["Peer"].startswith("127.0.0.1:")
    assert transcript["Envelope"] == {"From": "a@example.com", "To": ["b@example.com"]}
    times = [line["Time"] for line in transcript["Lines"]]
    assert times == sorted(times) and times[0].endswith("Z")


def test_auth_secrets_are_masked_and_the_username_shown(catcher, api: httpx.Client) -> None:
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        client.command("EHLO client.test")
        plain = base64.b64encode(b"\x00alice\x00hunter2").decode()
        assert client.command(f"AUTH PLAIN {plain}")[0].startswith(b"235")
        client.command("RSET")
        client.close()
        client = RawClient(catcher.smtp_host, catcher.smtp_port)
        client.command("EHLO client.test")
        assert client.command("AUTH LOGIN")[0].startswith(b"334")
        assert client.command(base64.b64encode(b"bob"))[0].startswith(b"334")
        assert client.command(base64.b64encode(b"correct horse"))[0].startswith(b"235")
        client.command("MAIL FROM:<a@example.com>")
        client.command("RCPT TO:<b@example.com>")
        client.command("DATA")
        client.command(b"Subject: masked\r\n\r\nhi\r\n.")
        client.command("QUIT")
    finally:
        client.close()
    message_id = wait_for_count(api, 1)["messages"][0]["ID"]
    texts = _texts(api.get(f"/api/v1/message/{message_id}/transcript").json())
    joined = "\n".join(texts)
    assert "correct horse" not in joined
    assert base64.b64encode(b"correct horse").decode() not in joined
    assert "AUTH LOGIN" in texts
    assert '<username "bob">' in texts
    assert "<password hidden>" in texts
    assert api.get(f"/api/v1/message/{message_id}").json()["Username"] == "bob"


def test_plain_auth_with_initial_response_is_masked(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        client.login("carol", "s3cr3t-value")
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: p\r\n\r\nx\r\n")
    message_id = wait_for_count(api, 1)["messages"][0]["ID"]
    texts = _texts(api.get(f"/api/v1/message/{message_id}/transcript").json())
    assert 'AUTH PLAIN <username "carol", password hidden>' in texts
    assert not any(
        "s3cr3t" in text or base64.b64encode(b"\x00carol\x00s3cr3t-value").decode() in text for text in texts
    )


def test_each_message_points_at_its_own_transaction(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in range(3):
            client.sendmail("a@example.com", [f"to{number}@example.com"], f"Subject: {number}\r\n\r\nx\r\n".encode())
    listing = wait_for_count(api, 3)
    transcripts = {m["Subject"]: api.get(f"/api/v1/message/{m['ID']}/transcript").json() for m in listing["messages"]}
    sessions = {t["Session"]["ID"] for t in transcripts.values()}
    assert len(sessions) == 1
    for subject, transcript in transcripts.items():
        span = transcript["Lines"][transcript["Transaction"]["Start"] : transcript["Transaction"]["End"]]
        texts = [line["Text"] for line in span]
        assert texts[0].lower().startswith("mail from:<a@example.com>")
        assert any(text.lower() == f"rcpt to:<to{subject}@example.com>" for text in texts)
        assert texts[-1] == f"250 2.0.0 Ok: queued as {transcript['ID']}"
        assert sum(1 for text in texts if text.lower().startswith("mail from")) == 1
    whole = _texts(next(iter(transcripts.values())))
    assert whole[-1] == "221 Bye" and whole.count("data") == 3


def test_a_long_session_keeps_only_the_lines_not_yet_stored(catcher, api: httpx.Client) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port) as client:
        for number in range(100):
            client.sendmail("a@example.com", ["b@example.com"], f"Subject: {number}\r\n\r\nx\r\n".encode())
        client.noop()
        wait_for_count(api, 100)
        port = client.sock.getsockname()[1]  # sessions of this catcher (earlier tests' may not be collected yet)
        sessions = [
            o
            for o in gc.get_objects()
            if isinstance(o, CatcherSMTP)
            and o.info is not None
            and o.event_handler.store is catcher.server.store
            and o.info.peer.endswith(f":{port}")
        ]
        assert len(sessions) == 1
        kept = [line.text for line in sessions[0].recorder.lines]  # the last message's 250, then the NOOP
        assert len(kept) == 3 and kept[0].startswith("250 2.0.0") and kept[1:] == ["noop", "250 OK"]
    last = api.get("/api/v1/messages", params={"limit": 1}).json()["messages"][0]
    texts = _texts(api.get(f"/api/v1/message/{last['ID']}/transcript").json())
    assert texts.count("data") == 100 and texts[-4:] == ["noop", "250 OK", "QUIT", "221 Bye"]
