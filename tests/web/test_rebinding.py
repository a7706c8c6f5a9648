"""DNS rebinding: requests and websocket handshakes naming a host the catcher isn't known by get 403."""

from __future__ import annotations

import http.client
import socket

import httpx
import pytest

from mailcatch.config import HostPort, from_args
from mailcatch.server import ServerThread
from mailcatch.web.hosts import HostPolicy
from tests.messages import build, send


def address(catcher: ServerThread) -> tuple[str, int]:
    parts = httpx.URL(catcher.url)
    assert parts.port is not None
    return parts.host, parts.port


def get(catcher: ServerThread, path: str, host: str) -> httpx.Response:
    return httpx.get(catcher.url + path, headers={"Host": host}, timeout=10)


@pytest.mark.parametrize("path", ["/api/v1/messages", "/", "/api/v1/info", "/view/latest.html", "/livez", "/readyz"])
def test_a_rebound_host_is_refused(catcher: ServerThread, path: str) -> None:
    send(catcher, build("secret reset link"))
    response = get(catcher, path, "evil.example")
    assert response.status_code == 403
    error = response.json()["Error"]
    assert "evil.example" in error and "--allowed-hosts evil.example" in error
    assert "secret" not in response.text
    assert get(catcher, path, "evil.example:8025").status_code == 403


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:8025", "localhost.", "app.localhost:1", "127.0.0.1", "127.1.2.3:80", "[::1]:8025"]
)
def test_local_names_and_addresses_are_answered(catcher: ServerThread, host: str) -> None:
    assert get(catcher, "/api/v1/messages", host).status_code == 200


def test_any_ip_address_is_answered(catcher: ServerThread) -> None:
    """An address can't be rebound: a page loaded from it is that address's own origin."""
    for host in ("192.168.1.20:8025", "10.0.0.5", "[fe80::1]:8025"):
        assert get(catcher, "/api/v1/messages", host).status_code == 200


def test_a_request_without_host_is_answered(catcher: ServerThread) -> None:
    """HTTP/1.0 without Host: not a browser, nothing to rebind."""
    with socket.create_connection(address(catcher), timeout=10) as sock:
        sock.sendall(b"GET /livez HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")


def handshake(catcher: ServerThread, host: str, origin: str | None = None) -> bytes:
    """The status line a websocket handshake naming this Host (and Origin) gets, sent as a browser would."""
    lines = [
        "GET /api/events HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection(address(catcher), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = b""
        while b"\r\n" not in reply and (chunk := sock.recv(4096)):
            reply += chunk
    return reply.split(b"\r\n")[0]


def test_websocket_with_rebound_host_is_refused(catcher: ServerThread) -> None:
    for origin in ("http://evil.example", "http://evil.example:8025", None):
        assert handshake(catcher, "evil.example:8025", origin).startswith(b"HTTP/1.1 403")
    assert handshake(catcher, "localhost", None).startswith(b"HTTP/1.1 101")
    assert handshake(catcher, "localhost:8025", "http://localhost:8025").startswith(b"HTTP/1.1 101")


def test_allowed_hosts_names_and_subdomains(start_catcher) -> None:
    catcher = start_catcher(allowed_hosts=("mail.dev.test", "*.ci.test"))
    for host in ("mail.dev.test", "MAIL.dev.test:8025", "a.ci.test", "b.a.ci.test:1"):
        assert get(catcher, "/api/v1/messages", host).status_code == 200
    for host in ("ci.test", "evil.example", "mail.dev.test.evil.example", "xci.test"):
        assert get(catcher, "/api/v1/messages", host).status_code == 403
    assert handshake(catcher, "a.ci.test:8025", "http://a.ci.test:8025").startswith(b"HTTP/1.1 101")
    assert handshake(catcher, "evil.example:8025", "http://a.ci.test:8025").startswith(b"HTTP/1.1 403")


def test_star_turns_the_check_off(start_catcher) -> None:
    catcher = start_catcher(allowed_hosts=("*",))
    assert get(catcher, "/api/v1/messages", "evil.example").status_code == 200


def test_the_listen_host_name_is_allowed() -> None:
    policy = HostPolicy("mailcatch.internal")
    assert policy.allows("mailcatch.internal:8025")
    assert not policy.allows("evil.example")
    assert not policy.allows("mailcatch")


def test_listening_on_every_interface_allows_single_label_names(start_catcher) -> None:
    """docker-compose service names (`mailcatch:8025`) work in a container; dotted names still need the flag."""
    catcher = start_catcher(listen=HostPort("0.0.0.0", 0))
    for host in ("mailcatch:8025", "mailpit", "localhost"):
        assert get(catcher, "/api/v1/messages", host).status_code == 200
    for host in ("evil.example", "mailcatch.evil.example:8025"):
        assert get(catcher, "/api/v1/messages", host).status_code == 403
    assert HostPolicy("::").allows("smtp-catcher")
    assert not HostPolicy("127.0.0.1").allows("mailcatch")


def test_a_raw_request_with_a_rebound_host(catcher: ServerThread) -> None:
    """What curl -H 'Host: evil.example' sends."""
    connection = http.client.HTTPConnection(*address(catcher), timeout=10)
    try:
        connection.request("GET", "/api/v1/messages", headers={"Host": "evil.example"})
        response = connection.getresponse()
        assert response.status == 403
        assert response.getheader("content-type") == "application/json"
    finally:
        connection.close()


def test_flag_and_environment() -> None:
    assert from_args([]).allowed_hosts == ()
    assert from_args(["--allowed-hosts", "mailcatch, *.dev.test,"]).allowed_hosts == ("mailcatch", "*.dev.test")
    assert from_args([], {"MAILCATCH_ALLOWED_HOSTS": "*"}).allowed_hosts == ("*",)
    assert from_args(["--allowed-hosts", "a.test"], {"MAILCATCH_ALLOWED_HOSTS": "*"}).allowed_hosts == ("a.test",)
