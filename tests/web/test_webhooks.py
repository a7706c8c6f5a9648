"""--webhook-url: a receiver on loopback (http.server in a thread) gets Mailpit's summary of each new message,
no more than --webhook-limit a second, with retries, and a dead or hanging one never holds up SMTP."""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mailcatch import __version__
from mailcatch.config import from_args
from mailcatch.errors import ConfigError
from mailcatch.server import ServerThread
from tests.helpers import make_settings, wait_for_count


@dataclass
class Receiver:
    """A webhook endpoint: records each request and answers with the next status of `statuses` (then 200)."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    hold: threading.Event | None = None
    """While set to an unset Event, requests get no answer (a hanging endpoint)."""
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with found.arrived:
                found.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                found.arrived.notify_all()
            if found.hold is not None:
                found.hold.wait(30)
            status = found.statuses.pop(0) if found.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield found
    if found.hold is not None:
        found.hold.set()
    server.shutdown()
    server.server_close()


class FrozenClock:
    """A clock that moves only when the test says so: the limit's seconds, counted without timing."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def start_with_clock() -> Iterator[Callable[..., tuple[ServerThread, FrozenClock]]]:
    running: list[ServerThread] = []

    def start(**overrides: Any) -> tuple[ServerThread, FrozenClock]:
        clock = FrozenClock()
        catcher = ServerThread(make_settings(**overrides), clock=clock).start()
        running.append(catcher)
        return catcher, clock

    yield start
    for catcher in running:
        catcher.stop()


def _send(catcher: ServerThread, subjects: list[str], to: str = "user@example.com") -> list[tuple[int, bytes]]:
    """Send one message per subject over one session; the server's reply to each."""
    replies = []
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname="app.local", timeout=10) as client:
        client.ehlo()
        for subject in subjects:
            raw = f"From: App <app@example.com>\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nHello\r\n"
            client.mail("app@example.com")
            client.rcpt(to)
            replies.append(client.data(raw.encode()))
    return replies


def test_each_new_message_is_posted_as_mailpits_summary(
    start_with_clock: Callable[..., tuple[ServerThread, FrozenClock]], receiver: Receiver
) -> None:
    catcher, _ = start_with_clock(webhook_url=receiver.url, webhook_limit=0)
    _send(catcher, ["first", "second"])
    got = receiver.wait_for(2)
    assert len(got) == 2
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        listed = {m["ID"]: m for m in wait_for_count(api, 2)["messages"]}
    for request in got:
        assert request["path"] == "/hook"
        assert request["headers"]["Content-Type"] == "application/json"
        assert request["headers"]["User-Agent"] == f"mailcatch/{__version__}"
        summary = json.loads(request["body"])
        assert summary == listed[summary["ID"]]  # the summary GET /api/v1/messages lists
        assert set(summary) >= {"ID", "MessageID", "Read", "From", "To", "Subject", "Created", "Tags", "Size"}
    assert sorted(json.loads(r["body"])["Subject"] for r in got) == ["first", "second"]
    assert json.loads(got[0]["body"])["From"] == {"Name": "App", "Address": "app@example.com"}


def test_the_limit_holds_within_a_second_and_opens_in_the_next(
    start_with_clock: Callable[..., tuple[ServerThread, FrozenClock]], receiver: Receiver
) -> None:
    catcher, clock = start_with_clock(webhook_url=receiver.url, webhook_limit=2)
    replies = _send(catcher, [f"burst {n}" for n in range(6)])
    assert [code for code, _ in replies] == [250] * 6
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert wait_for_count(api, 6)["total"] == 6  # every message kept
    assert len(receiver.wait_for(2)) == 2
    clock.now += 1.0  # the next second
    _send(catcher, ["later 1", "later 2", "later 3"])
    got = receiver.wait_for(4)
    sender = catcher.server.webhooks
    assert sender is not None
    deadline = time.monotonic() + 10
    while sender.sent < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    subjects = sorted(json.loads(r["body"])["Subject"] for r in receiver.requests)
    assert subjects == ["burst 0", "burst 1", "later 1", "later 2"]  # 9 sent, 2 a second passed
    assert sender.skipped == 5 and sender.sent == 4
    assert len(got) == 4


def test_a_failing_endpoint_is_tried_again_with_backoff(
    start_with_clock: Callable[..., tuple[ServerThread, FrozenClock]], receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    catcher, _ = start_with_clock(webhook_url=receiver.url)
    _send(catcher, ["retried"])
    got = receiver.wait_for(3)
    assert len(got) == 3
    assert len({r["body"] for r in got}) == 1  # the same summary each time
    sender = catcher.server.webhooks
    assert sender is not None
    deadline = time.monotonic() + 10
    while sender.sent < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (sender.sent, sender.failed) == (1, 0)


def test_a_4xx_is_not_retried_and_is_warned_about(
    start_with_clock: Callable[..., tuple[ServerThread, FrozenClock]],
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.statuses = [404]
    catcher, _ = start_with_clock(webhook_url=receiver.url)
    with caplog.at_level(logging.WARNING, logger="mailcatch.webhooks"):
        _send(catcher, ["not found"])
        sender = catcher.server.webhooks
        assert sender is not None
        deadline = time.monotonic() + 10
        while sender.failed < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(receiver.requests) == 1
    said = [r.getMessage() for r in caplog.records if r.name == "mailcatch.webhooks"]
    assert said == [f"webhook {receiver.url} failed (1 try): answered 404 Not Found"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_endpoint_gives_one_warning_and_every_message_is_accepted(
    start_with_clock: Callable[..., tuple[ServerThread, FrozenClock]], caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://user:pa55@127.0.0.1:{_closed_port()}/hook"
    catcher, _ = start_with_clock(webhook_url=url, webhook_limit=0)
    with caplog.at_level(logging.WARNING, logger="mailcatch.webhooks"):
        replies = _send(catcher, [f"dead {n}" for n in range(5)])
        assert [code for code, _ in replies] == [250] * 5
        sender = catcher.server.webhooks
        assert sender is not None
        deadline = time.monotonic() + 30
        while sender.failed < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sender.failed == 5
    said = [r.getMessage() for r in caplog.records if r.name == "mailcatch.webhooks"]
    shown = url.replace("pa55", "***")
    assert said == [f"webhook {shown} failed (4 tries): Connection refused"]  # then held back for a minute
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert wait_for_count(api, 5)["total"] == 5


def test_a_hanging_endpoint_never_holds_up_the_smtp_reply(
    start_with_clock: Callable[..., tuple[ServerThread, FrozenClock]], receiver: Receiver
) -> None:
    receiver.hold = threading.Event()  # no request is answered until the test is done
    catcher, _ = start_with_clock(webhook_url=receiver.url, webhook_limit=0)
    replies = _send(catcher, [f"while hanging {n}" for n in range(10)])
    assert [code for code, _ in replies] == [250] * 10
    assert not receiver.hold.is_set()  # every reply came while requests were held unanswered
    assert len(receiver.wait_for(4)) >= 4  # the senders are busy with requests that get no answer
    # on threads of their own, not the event loop's default executor that parses big messages
    assert sum(t.name.startswith("mailcatch-webhook") for t in threading.enumerate()) >= 4
    with httpx.Client(base_url=catcher.url, timeout=10) as api:
        assert wait_for_count(api, 10)["total"] == 10


def test_basic_auth_from_the_url(
    start_with_clock: Callable[..., tuple[ServerThread, FrozenClock]], receiver: Receiver
) -> None:
    url = receiver.url.replace("http://", "http://hook%40user:p%3Ass@")
    catcher, _ = start_with_clock(webhook_url=url)
    _send(catcher, ["with auth"])
    got = receiver.wait_for(1)
    assert got[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"hook@user:p:ss").decode()


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--webhook-url", "ftp://example.com/x"], "is not an http:// or https:// URL"),
        (["--webhook-url", "example.com/hook"], "is not an http:// or https:// URL"),
        (["--webhook-url", "http://127.0.0.1:99999/"], "has a port that is not a number"),
        (["--webhook-limit", "-1"], "--webhook-limit must be 0"),
        (["--webhook-limit", "many"], "--webhook-limit: 'many' is not a whole number"),
    ],
)
def test_bad_webhook_flags_are_refused(argv: list[str], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        from_args(argv, environ={})


def test_webhook_flags_from_mailpits_variables() -> None:
    settings = from_args([], environ={"MP_WEBHOOK_URL": "https://hooks.example.com/in", "MP_WEBHOOK_LIMIT": "0"})
    assert (settings.webhook_url, settings.webhook_limit) == ("https://hooks.example.com/in", 0)
    assert from_args([], environ={}).webhook_limit == 1
