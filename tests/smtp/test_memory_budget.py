"""The in-flight budget (--max-in-flight): what the SMTP sessions may hold of message data in memory at once.

A message that does not fit is answered `452 4.3.1` (at MAIL FROM when its SIZE= does not fit,
else at the end of its data, which is read but not kept); one answered `250` is stored whole.
"""

from __future__ import annotations

import base64
import json
import os
import quopri
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailcatch.config import DEFAULT_MAX_IN_FLIGHT, from_args
from mailcatch.errors import ConfigError
from mailcatch.mail.parse import parse_message
from mailcatch.server import ServerThread
from tests.smtp.test_smtp import RawClient

KB = 1024
BUDGET = 256 * KB
BENCH = Path(__file__).resolve().parents[2] / "bench"


def message(name: str, size: int) -> bytes:
    """A message of about `size` bytes whose lines never start with a dot, without the ending dot line."""
    head = f"From: a@example.com\r\nTo: b@example.com\r\nSubject: {name}\r\n\r\n".encode()
    line = f"{name}: some text of the message, {os.urandom(8).hex()}\r\n".encode()
    return head + line * ((size - len(head)) // len(line) + 1)


def session(catcher: ServerThread) -> RawClient:
    client = RawClient(catcher.smtp_host, catcher.smtp_port)
    assert client.command("EHLO app.test")[-1].startswith(b"250")
    return client


def envelope(client: RawClient, size: int | None = None) -> bytes:
    """MAIL FROM (with SIZE= if given) and RCPT TO; the reply to MAIL FROM."""
    mail = client.command("MAIL FROM:<a@example.com>" + (f" SIZE={size}" if size is not None else ""))[0]
    if mail.startswith(b"250"):
        assert client.command("RCPT TO:<b@example.com>")[0].startswith(b"250")
    return mail


def send(client: RawClient, data: bytes) -> bytes:
    """DATA with `data`; the reply to its end."""
    assert client.command("DATA")[0].startswith(b"354")
    return client.command(data + b"\r\n.")[0]


def stored_raw(catcher: ServerThread, reply: bytes) -> bytes:
    message_id = reply.split()[-1].decode()
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        response = api.get(f"/api/v1/message/{message_id}/raw")
        assert response.status_code == 200
        return response.content


def budget_used(catcher: ServerThread) -> int:
    handler = catcher.server._handler
    assert handler is not None
    return handler.budget.used


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait (at most 10 s) for something the catcher does after a socket closes."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


@pytest.fixture
def small_budget(start_catcher: Callable[..., ServerThread]) -> ServerThread:
    return start_catcher(max_in_flight=BUDGET, max_message_size=BUDGET)


def test_data_beyond_the_budget_is_refused_with_452_and_accepted_on_retry(small_budget: ServerThread) -> None:
    first, second = session(small_budget), session(small_budget)
    try:
        one, two = message("one", 160 * KB), message("two", 160 * KB)
        assert envelope(first).startswith(b"250")
        assert first.command("DATA")[0].startswith(b"354")
        first.send(one[: 120 * KB])  # the first message's data, not yet ended
        wait_until(lambda: budget_used(small_budget) > BUDGET - len(two), "the catcher holds what it read")
        assert envelope(second, len(two)).startswith(b"452 4.3.1")  # a SIZE= that doesn't fit
        assert envelope(second).startswith(b"250")  # no SIZE=: refused only once its data is read
        refused = send(second, two)
        assert refused.startswith(b"452 4.3.1"), refused
        assert b"--max-in-flight 0.25 MB" in refused and b"try again later" in refused
        first.send(one[120 * KB :] + b"\r\n.\r\n")
        accepted = first.reply()[0]
        assert accepted.startswith(b"250"), accepted
        assert envelope(second).startswith(b"250")
        retried = send(second, two)
        assert retried.startswith(b"250"), retried
        assert stored_raw(small_budget, accepted) == one + b"\r\n"
        assert stored_raw(small_budget, retried) == two + b"\r\n"
    finally:
        first.close()
        second.close()
    wait_until(lambda: budget_used(small_budget) == 0, "the budget is all given back")


def test_a_size_that_does_not_fit_is_refused_at_mail_from_until_room_is_made(small_budget: ServerThread) -> None:
    first, second = session(small_budget), session(small_budget)
    try:
        assert envelope(first, 200 * KB).startswith(b"250")
        refused = envelope(second, 100 * KB)
        assert refused.startswith(b"452 4.3.1"), refused
        assert envelope(second, 50 * KB).startswith(b"250")  # what still fits
        assert second.command("RSET")[0].startswith(b"250")
        assert first.command("RSET")[0].startswith(b"250")  # gives back the first's 200 KB
        assert envelope(second, BUDGET).startswith(b"250")
        data = message("whole budget", BUDGET - 3 * KB)
        accepted = send(second, data)
        assert accepted.startswith(b"250"), accepted
        assert stored_raw(small_budget, accepted) == data + b"\r\n"
        assert envelope(first, 200 * KB).startswith(b"250")  # given back once stored
    finally:
        first.close()
    wait_until(lambda: budget_used(small_budget) == 0, "a closed connection gives back what it held")
    second.close()


def test_a_message_that_ends_early_gives_back_what_it_held(small_budget: ServerThread) -> None:
    client = session(small_budget)
    try:
        assert envelope(client).startswith(b"250")
        assert client.command("DATA")[0].startswith(b"354")
        client.send(message("cut short", 200 * KB))
    finally:
        client.close()
    wait_until(lambda: budget_used(small_budget) == 0, "a connection lost in DATA gives back what it held")
    client = session(small_budget)
    try:
        assert envelope(client, BUDGET).startswith(b"250")
        assert send(client, message("after", 100 * KB)).startswith(b"250")
    finally:
        client.close()


def test_too_big_wins_over_no_room(small_budget: ServerThread) -> None:
    client = session(small_budget)
    try:
        assert envelope(client).startswith(b"250")
        reply = send(client, message("too big", BUDGET + 10 * KB))
        assert reply.startswith(b"552"), reply
        assert envelope(client).startswith(b"250")
        assert send(client, message("small", 2 * KB)).startswith(b"250")
    finally:
        client.close()


def test_max_in_flight_is_a_flag_and_a_variable() -> None:
    assert from_args([]).in_flight_budget == DEFAULT_MAX_IN_FLIGHT
    assert from_args(["--max-in-flight", "300"]).in_flight_budget == 300 * 1024 * 1024
    assert from_args([], {"MAILCATCH_MAX_IN_FLIGHT": "0"}).in_flight_budget == 0  # no limit
    assert from_args(["--max-message-size", "500"]).in_flight_budget == 500 * 1024 * 1024
    with pytest.raises(ConfigError, match="at least --max-message-size"):
        from_args(["--max-in-flight", "20", "--max-message-size", "30"])
    with pytest.raises(ConfigError, match="--max-in-flight"):
        from_args(["--max-in-flight", "-1"])


def test_the_memory_benchmark_runs() -> None:
    """bench/memory.py against real catcher processes: four 4 MB messages at once with room for two;
    those refused are sent again until all are stored."""
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH / "memory.py"),
            "--seconds",
            "1",
            "--connections",
            "2",
            "--big-count",
            "4",
            "--big-megabytes",
            "4",
            "--",
            "--max-in-flight",
            "9",
            "--max-message-size",
            "9",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steady, big = (json.loads(line) for line in result.stdout.splitlines())
    assert steady["sent"] > 0 and steady["errors"] == 0 and steady["peak_rss_mb"] > 0
    assert big["accepted"] == 4 and big["peak_rss_mb"] > 0


@pytest.mark.parametrize("encoding", ["7bit", "base64", "quoted-printable"])
@pytest.mark.parametrize("kind", ["single", "multipart"])
def test_storing_a_huge_body_decodes_only_its_start(encoding: str, kind: str) -> None:
    """What the store parses of a huge message (text_limit): the start of its text, decoded whole."""
    text = "".join(f"line {n}: ünïcödé text of a long message =\n" for n in range(20_000))
    body = text.replace("\n", "\r\n").encode()
    if encoding == "base64":
        body = base64.encodebytes(body).replace(b"\n", b"\r\n")
    elif encoding == "quoted-printable":
        body = quopri.encodestring(body.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    part = f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n".encode() + body
    if kind == "multipart":
        part = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + part + b"\r\n--b--\r\n"
    raw = b"From: a@example.com\r\nSubject: long\r\n" + part
    whole = parse_message(raw, measure_parts=False)
    start = parse_message(raw, measure_parts=False, text_limit=10_000)
    sent_text = text.replace("\n", "\r\n")  # the text keeps the message's own line endings
    assert whole.text.rstrip("\r\n") == sent_text.rstrip("\r\n"), "the whole text differs"  # no diff of 1 MB
    assert 10_000 <= len(start.text) < 50_000
    assert whole.text.startswith(start.text)
    assert start.snippet == whole.snippet and start.subject == "long"
