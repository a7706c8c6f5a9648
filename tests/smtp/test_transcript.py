"""Each message keeps the SMTP dialogue that delivered it, with secrets masked."""

from __future__ import annotations

import base64
import gc
import smtplib
import socket

import httpx

from mailcatch.server import ServerThread
from mailcatch.smtp.protocol import CatcherSMTP
from mailcatch.smtp.transcript import KEEP_FIRST_LINES, MAX_PENDING_CHARS, MAX_PENDING_LINES
from tests.helpers import wait_for_count
from tests.smtp.test_smtp import RawClient


def session_of(catcher: ServerThread, sock: socket.socket) -> CatcherSMTP:
    """The catcher's session of this client socket (an earlier test's session, on a reused port, may
    not be collected yet: only this catcher's count)."""
    port = sock.getsockname()[1]
    sessions = [
        o
        for o in gc.get_objects()
        if isinstance(o, CatcherSMTP)
        and o.info is not None
        and o.event_handler.store is catcher.server.store
        and o.info.peer.endswith(f":{port}")
    ]
    assert len(sessions) == 1
    return sessions[0]


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
        kept = [
            line.text for line in session_of(catcher, client.sock).recorder.lines
        ]  # the last message's 250, then the NOOP
        assert len(kept) == 3 and kept[0].startswith("250 2.0.0") and kept[1:] == ["noop", "250 OK"]
    last = api.get("/api/v1/messages", params={"limit": 1}).json()["messages"][0]
    texts = _texts(api.get(f"/api/v1/message/{last['ID']}/transcript").json())
    assert texts.count("data") == 100 and texts[-4:] == ["noop", "250 OK", "QUIT", "221 Bye"]


NOOPS = 30_000


def test_a_noop_flood_keeps_the_first_and_last_lines_and_a_count(catcher, api: httpx.Client) -> None:
    """A client sending NOOP for ever (accepted before AUTH) can't make its session keep every line:
    past MAX_PENDING_LINES the session keeps its first lines, one line counting the rest, and the last
    ones; the message that ends the flood still points at its own transaction (issue 16)."""
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    try:
        ehlo = client.command("EHLO flood.test")
        assert ehlo[0].startswith(b"250")
        client.send(b"NOOP\r\n" * NOOPS)
        for _ in range(NOOPS):
            assert client.reply() == [b"250 OK"]
        recorder = session_of(catcher, client.sock).recorder
        assert len(recorder.lines) <= MAX_PENDING_LINES
        assert sum(len(line.text) for line in recorder.lines) <= MAX_PENDING_CHARS
        assert client.command("MAIL FROM:<a@example.com>")[0].startswith(b"250")
        assert client.command("RCPT TO:<b@example.com>")[0].startswith(b"250")
        assert client.command("DATA")[0].startswith(b"354")
        assert client.command(b"Subject: after the flood\r\n\r\nbody\r\n.")[0].startswith(b"250")
        client.command("QUIT")
    finally:
        client.close()
    message_id = wait_for_count(api, 1)["messages"][0]["ID"]
    transcript = api.get(f"/api/v1/message/{message_id}/transcript").json()
    texts = _texts(transcript)
    assert len(texts) <= MAX_PENDING_LINES + 3, texts[-4:]  # and the tail: QUIT, 221
    assert texts[1] == "EHLO flood.test" and texts[KEEP_FIRST_LINES - 1] in ("NOOP", "250 OK")
    counted = [text for text in texts if text.endswith("not kept: a session keeps its first and last lines>")]
    assert len(counted) == 1 and counted[0] == texts[KEEP_FIRST_LINES]
    folded = int(counted[0][1:].split()[0])
    stored_at = texts.index(f"250 2.0.0 Ok: queued as {message_id}")
    # every line up to the message's 250, kept or counted: greeting, EHLO and its reply, NOOPs, transaction
    assert stored_at + folded == 1 + 1 + len(ehlo) + 2 * NOOPS + 8
    span = texts[transcript["Transaction"]["Start"] : transcript["Transaction"]["End"]]
    assert span[0] == "MAIL FROM:<a@example.com>" and span[-1] == f"250 2.0.0 Ok: queued as {message_id}"


def test_pipelined_auth_answers_and_message_data_are_recorded_by_protocol_state(catcher, api: httpx.Client) -> None:
    """AUTH answers and message data sent in the same write as their command are still known for what
    they are: the password masked, the data summarised, each line after the reply it follows (issue 16)."""
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    login = b"AUTH LOGIN\r\n" + base64.b64encode(b"alice") + b"\r\n" + base64.b64encode(b"TopSecretPw!") + b"\r\n"
    client.send(b"EHLO pipe.test\r\n" + login)
    client.reply()  # EHLO
    assert [client.reply()[0][:3] for _ in range(3)] == [b"334", b"334", b"235"]
    client.send(
        b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
        b"Subject: pipelined\r\n\r\nsecret body line\r\n.\r\nQUIT\r\n"
    )
    assert [client.reply()[0][:3] for _ in range(5)] == [b"250", b"250", b"354", b"250", b"221"]
    client.close()
    message_id = wait_for_count(api, 1)["messages"][0]["ID"]
    texts = _texts(api.get(f"/api/v1/message/{message_id}/transcript").json())
    joined = "\n".join(texts)
    assert "TopSecretPw" not in joined and base64.b64encode(b"TopSecretPw!").decode() not in joined
    assert "secret body line" not in joined and "Subject: pipelined" not in joined
    at = texts.index("AUTH LOGIN")
    assert texts[at + 1].startswith("334 ") and texts[at + 2] == '<username "alice">'
    assert texts[at + 3].startswith("334 ") and texts[at + 4] == "<password hidden>"
    assert texts[at + 5].startswith("235 ")
    data_at = texts.index("DATA")
    assert texts[data_at + 1].startswith("354 ")
    assert texts[data_at + 2].startswith("<") and texts[data_at + 2].endswith("lines of message data>")
    assert texts[data_at + 3] == f"250 2.0.0 Ok: queued as {message_id}"
