"""Property-based tests of SMTP line handling: DATA round trips exactly, junk never hurts, transcripts are chunk-proof."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcatch.server import ServerThread
from mailcatch.smtp.transcript import TranscriptRecorder
from tests.helpers import make_settings
from tests.smtp.test_smtp import RawClient, _stuff

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def shared_catcher() -> Iterator[ServerThread]:
    with ServerThread(make_settings(max_messages=0)) as catcher:
        yield catcher


@pytest.fixture(scope="module")
def shared_api(shared_catcher: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(verify=False, base_url=shared_catcher.url) as client:
        yield client


lines = st.lists(st.binary(max_size=120).filter(lambda b: b"\r\n" not in b), min_size=0, max_size=40)


@PROPERTY_SETTINGS
@given(lines=lines)
def test_any_message_data_round_trips_exactly(
    shared_catcher: ServerThread, shared_api: httpx.Client, lines: list[bytes]
) -> None:
    message = b"".join(line + b"\r\n" for line in lines)
    client = RawClient(shared_catcher.smtp_host, shared_catcher.smtp_port)
    try:
        client.command("EHLO prop.test")
        client.command("MAIL FROM:<a@example.com>")
        client.command("RCPT TO:<b@example.com>")
        assert client.command("DATA")[0].startswith(b"354")
        reply = client.command(_stuff(message) + b".")[0].decode()
    finally:
        client.close()
    assert reply.startswith("250 "), reply
    message_id = reply.rsplit(" ", 1)[1]
    assert shared_api.get(f"/api/v1/message/{message_id}/raw").content == message
    assert shared_api.get(f"/api/v1/message/{message_id}").status_code == 200
    assert shared_api.get(f"/api/v1/message/{message_id}/headers").status_code == 200


@PROPERTY_SETTINGS
@given(
    lines=st.lists(
        st.sampled_from([b"", b".", b"..", b".x", b".\r", b"\r.", b"a" * 70, b"\r", b"b\r", b"\n.", b"x" * 300_000]),
        max_size=30,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=1 << 24), max_size=5),
)
def test_message_data_round_trips_however_it_is_split_into_reads(
    shared_catcher: ServerThread, shared_api: httpx.Client, lines: list[bytes], cuts: list[int]
) -> None:
    """Data arrives in pieces cut anywhere (dots, CRLF and the final CRLF.CRLF split between reads),
    with the next command pipelined behind it; the raw comes out exact and the command is answered."""
    message = b"".join(line + b"\r\n" for line in lines)
    wire = _stuff(message) + b".\r\nRSET\r\n"
    client = RawClient(shared_catcher.smtp_host, shared_catcher.smtp_port)
    client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        client.command("EHLO split.test")
        client.command("MAIL FROM:<a@example.com>")
        client.command("RCPT TO:<b@example.com>")
        assert client.command("DATA")[0].startswith(b"354")
        previous = 0
        for cut in sorted(cut % (len(wire) + 1) for cut in cuts):
            client.send(wire[previous:cut])
            time.sleep(0.005)  # a separate read on the server
            previous = cut
        client.send(wire[previous:])
        reply = client.reply()[0].decode()
        assert client.reply()[0].startswith(b"250"), "the pipelined RSET was not answered"
    finally:
        client.close()
    assert reply.startswith("250 "), reply
    assert shared_api.get(f"/api/v1/message/{reply.rsplit(' ', 1)[1]}/raw").content == message


@PROPERTY_SETTINGS
@given(
    junk=st.lists(
        st.binary(min_size=1, max_size=300).filter(lambda b: b"\r\n" not in b and b"\n" not in b),
        min_size=1,
        max_size=10,
    )
)
def test_junk_commands_get_replies_and_the_server_carries_on(shared_catcher: ServerThread, junk: list[bytes]) -> None:
    client = RawClient(shared_catcher.smtp_host, shared_catcher.smtp_port)
    try:
        for line in junk:
            if line.split(b" ", 1)[0].upper() in (b"QUIT", b"DATA", b"STARTTLS", b"AUTH"):
                continue
            try:
                reply = client.command(line)
            except (TimeoutError, ConnectionError):
                break  # too many unrecognised commands: the server may hang up, politely
            assert reply[-1][:1] in (b"2", b"4", b"5") and reply[-1][3:4] == b" ", reply
    finally:
        client.close()
    healthy = RawClient(shared_catcher.smtp_host, shared_catcher.smtp_port)
    try:
        assert healthy.command("EHLO prop.test")[-1].startswith(b"250")
    finally:
        healthy.close()


COMMANDS = (
    b"EHLO client.test\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<a@example.com>\r\n"
    b"RCPT TO:<b@example.com>\r\nDATA\r\n"
)
CONTENT = b"Subject: x\r\n\r\nline one\r\n..dotted\r\n"
AFTER_354 = CONTENT + b".\r\nQUIT\r\n"


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(before=st.lists(st.integers(min_value=0), max_size=8), after=st.lists(st.integers(min_value=0), max_size=8))
def test_transcript_does_not_depend_on_how_bytes_arrive(before: list[int], after: list[int]) -> None:
    def record(first: list[bytes], second: list[bytes]) -> list[tuple[str, str]]:
        recorder = TranscriptRecorder()
        for chunk in first:
            recorder.client_bytes(chunk)
        for reply in (b"250 hello", b"235 ok", b"250 ok", b"250 ok", b"354 go ahead"):  # EHLO, AUTH, MAIL, RCPT, DATA
            recorder.server_line(reply)
        for chunk in second:
            recorder.client_bytes(chunk)
        recorder.server_line(b"250 queued")
        recorder.server_line(b"221 bye")
        return [(line.dir, line.text) for line in recorder.lines]

    whole = record([COMMANDS], [AFTER_354])
    assert record(_chunks(COMMANDS, before), _chunks(AFTER_354, after)) == whole
    # and when the client pipelines everything, message data included, before the first reply
    assert record(_chunks(COMMANDS + AFTER_354, before + after), []) == whole
    texts = [text for _, text in whole]
    assert 'AUTH PLAIN <username "alice", password hidden>' in texts
    assert f"<{len(CONTENT)} bytes, 4 lines of message data>" in texts
    assert texts[-2:] == ["QUIT", "221 bye"] and "Subject: x" not in texts
