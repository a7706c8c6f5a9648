"""HTTP connections that never finish a request's head, or whose body stalls, are closed; connections beyond the cap get 503."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.sync.client import connect

from mailcatch.server import ServerThread
from mailcatch.web import http_protocol
from mailcatch.web.http_protocol import DeadlineH11Protocol
from tests.messages import build, send

DEADLINE = 0.3
BOUND = 10  # seconds a socket read may wait before the test fails: the deadline is far shorter


@pytest.fixture
def short(monkeypatch: pytest.MonkeyPatch, start_catcher) -> ServerThread:
    """A catcher whose request heads are due within DEADLINE seconds, and whose bodies may stall as long (instead of 30)."""
    monkeypatch.setattr(DeadlineH11Protocol, "head_timeout", DEADLINE)
    monkeypatch.setattr(DeadlineH11Protocol, "body_idle_timeout", DEADLINE)
    catcher: ServerThread = start_catcher()
    return catcher


def address(catcher: ServerThread) -> tuple[str, int]:
    url = httpx.URL(catcher.url)
    assert url.port is not None
    return url.host, url.port


def closed_by_server(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (fails after BOUND seconds)."""
    sock.settimeout(BOUND)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_silent_connection_is_closed(short: ServerThread) -> None:
    with socket.create_connection(address(short), timeout=BOUND) as sock:
        assert closed_by_server(sock) == b""


def test_a_half_sent_request_is_closed(short: ServerThread) -> None:
    with socket.create_connection(address(short), timeout=BOUND) as sock:
        sock.sendall(b"GET /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        assert closed_by_server(sock) == b""


def test_a_half_sent_second_request_is_closed(short: ServerThread) -> None:
    with socket.create_connection(address(short), timeout=BOUND) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\nGET /livez HTTP/1.1\r\nHost: loc")
        received = closed_by_server(sock)
    assert received.startswith(b"HTTP/1.1 200") and received.count(b"HTTP/1.1 ") == 1


def test_a_body_that_keeps_coming_is_not_cut(short: ServerThread) -> None:
    """A body may take longer than the deadline in all, as long as it never stalls that long."""
    body = b'{"Read": true, "IDs": []}'
    with socket.create_connection(address(short), timeout=BOUND) as sock:
        sock.sendall(
            b"PUT /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        for start in range(0, len(body), 5):  # 5 pieces, DEADLINE / 3 apart: longer than DEADLINE in all
            time.sleep(DEADLINE / 3)
            sock.sendall(body[start : start + 5])
        assert closed_by_server(sock).startswith(b"HTTP/1.1 200")


def test_a_stalled_body_is_closed(short: ServerThread) -> None:
    with socket.create_connection(address(short), timeout=BOUND) as sock:
        sock.sendall(
            b"PUT /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000000\r\n\r\n{"Read": '
        )
        assert closed_by_server(sock) == b""


def test_a_websocket_outlives_the_deadline(short: ServerThread) -> None:
    with connect(short.url.replace("http", "ws") + "/api/events", open_timeout=BOUND) as events:
        assert '"stats"' in events.recv(timeout=BOUND)
        time.sleep(DEADLINE * 2)  # past the deadline, on purpose
        send(short, build("still here"))
        while '"new"' not in (frame := events.recv(timeout=BOUND)):
            pass
        assert "still here" in frame


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch, start_catcher) -> Iterator[ServerThread]:
    monkeypatch.setattr(http_protocol, "MAX_HTTP_CONNECTIONS", 4)
    yield start_catcher()


def test_connections_beyond_the_cap_get_503(capped: ServerThread) -> None:
    silent = [socket.create_connection(address(capped), timeout=BOUND) for _ in range(4)]
    try:
        # The server counts a connection once it has accepted it: ask until it has counted them all.
        deadline = time.monotonic() + BOUND
        while (status := httpx.get(capped.url + "/livez", timeout=BOUND).status_code) != 503:
            assert time.monotonic() < deadline, "the cap was never reached"
        assert status == 503
    finally:
        for sock in silent:
            sock.close()
    deadline = time.monotonic() + BOUND
    while httpx.get(capped.url + "/livez", timeout=BOUND).status_code != 200:
        assert time.monotonic() < deadline, "closed connections were never let go of"


def test_the_catcher_uses_them() -> None:
    options = http_protocol.http_options()
    assert issubclass(options["http"], DeadlineH11Protocol)
    assert options["limit_concurrency"] == http_protocol.MAX_HTTP_CONNECTIONS
