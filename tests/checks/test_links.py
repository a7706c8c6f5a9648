"""GET /api/v1/message/{ID}/link-check: each link's status, from HTTP servers on loopback that the tests start.

Messages go to a real catcher over SMTP; the catcher requests the links of a real HTTP server here,
which records every request it gets. Loopback is a blocked range by default: most tests start the
catcher with `allow_internal_http_requests` (--allow-internal-http-requests), and one checks that
without it the server is never asked.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from mailcatch.checks.links import DEADLINE_TIMEOUTS, MAX_LINKS, extract_links, why_not_public
from mailcatch.server import ServerThread
from mailcatch.web.openapi import document
from tests.helpers import wait_for_count
from tests.messages import build, send

TIMEOUT = 0.5
"""The catcher's link check timeout in these tests (5 s by default)."""


class LinkServer(ThreadingHTTPServer):
    """An HTTP server on loopback whose paths answer as their names say; it records every request."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def paths(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(method, path) for method, path, _ in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: LinkServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, location: str | None = None) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _handle(self) -> None:
        with self.server.lock:
            self.server.requests.append((self.command, self.path, dict(self.headers)))
        path = self.path.split("?", 1)[0]
        if path == "/ok":
            self._answer(200)
        elif path == "/missing":
            self._answer(404)
        elif path == "/broken":
            self._answer(500)
        elif path == "/no-head":
            self._answer(405 if self.command == "HEAD" else 200)
        elif path.startswith("/hops/"):  # /hops/3 -> /hops/2 -> /hops/1 -> /ok
            left = int(path.rsplit("/", 1)[1])
            self._answer(302, f"/hops/{left - 1}" if left > 1 else "/ok")
        elif path == "/loop/a":
            self._answer(301, "/loop/b")
        elif path == "/loop/b":
            self._answer(307, f"{self.server.base}/loop/a")
        elif path == "/slow":
            time.sleep(TIMEOUT * 4)
            self._answer(200)
        else:
            self._answer(404)

    do_HEAD = _handle
    do_GET = _handle


@pytest.fixture
def server() -> Iterator[LinkServer]:
    running = LinkServer()
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def checking(start_catcher: Callable[..., ServerThread]) -> ServerThread:
    """A catcher whose link check may request loopback addresses (--allow-internal-http-requests)."""
    return start_catcher(allow_internal_http_requests=True, link_check_timeout=TIMEOUT)


def _check(catcher: ServerThread, html: str | None, text: str = "hello", **query: str) -> dict[str, Any]:
    send(catcher, build("Links", text=text, html=html))
    with httpx.Client(base_url=catcher.url, timeout=30) as api:
        (summary,) = wait_for_count(api, 1)["messages"]
        response = api.get(f"/api/v1/message/{summary['ID']}/link-check", params=query)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _statuses(answer: dict[str, Any]) -> dict[str, tuple[int, str]]:
    return {link["URL"]: (link["StatusCode"], link["Status"]) for link in answer["Links"]}


def test_each_link_gets_its_status_following_redirects(
    checking: ServerThread, server: LinkServer, closed_port: int
) -> None:
    base = server.base
    html = (
        f'<a href="{base}/ok">ok</a> <a href="{base}/missing">gone</a> <a href="{base}/broken">broken</a>'
        f'<img src="{base}/no-head"> <a href="{base}/hops/3">hops</a> <a href="{base}/loop/a">loop</a>'
        f'<a href="{base}/slow">slow</a> <a href="http://127.0.0.1:{closed_port}/x">closed</a>'
        f'<a href="{base}/ok">the same again</a> <a href="mailto:a@example.com">mail</a> <a href="#top">top</a>'
    )
    started = time.monotonic()
    answer = _check(checking, html, follow="true")
    elapsed = time.monotonic() - started
    assert set(answer) == {"Errors", "Links", "Skipped"}
    components = document()["components"]
    OAS30Validator({"$ref": "#/components/schemas/LinkCheckResponse", "components": components}).validate(answer)
    assert _statuses(answer) == {
        f"{base}/ok": (200, "OK"),
        f"{base}/missing": (404, "Not Found"),
        f"{base}/broken": (500, "Internal Server Error"),
        f"{base}/no-head": (200, "OK"),
        f"{base}/hops/3": (200, "OK"),
        f"{base}/loop/a": (0, f"redirect loop: back to {base}/loop/a after 2 redirects"),
        f"{base}/slow": (0, f"timed out after {TIMEOUT:g} s"),
        f"http://127.0.0.1:{closed_port}/x": (0, "connection refused"),
    }
    assert [link["URL"] for link in answer["Links"]][:3] == [f"{base}/ok", f"{base}/missing", f"{base}/broken"]
    assert (answer["Errors"], answer["Skipped"]) == (5, 0)
    assert elapsed < 5
    paths = server.paths()
    # HEAD first; GET only where HEAD was refused; every hop of a redirect chain.
    assert paths.count(("HEAD", "/ok")) == 2  # the link, and the end of /hops/3
    assert [p for p in paths if p[1] == "/no-head"] == [("HEAD", "/no-head"), ("GET", "/no-head")]
    assert [p for p in paths if p[1].startswith("/hops/")] == [("HEAD", f"/hops/{n}") for n in (3, 2, 1)]
    assert ("GET", "/ok") not in paths


def test_without_follow_a_redirect_is_its_own_status(checking: ServerThread, server: LinkServer) -> None:
    answer = _check(checking, f'<a href="{server.base}/hops/2">hops</a>')
    assert _statuses(answer) == {f"{server.base}/hops/2": (302, "Found")}
    assert answer["Errors"] == 0
    assert server.paths() == [("HEAD", "/hops/2")]


def test_text_links_are_checked_and_nothing_identifying_is_sent(checking: ServerThread, server: LinkServer) -> None:
    base = server.base
    port = server.server_address[1]
    text = (
        f"Confirm at {base}/ok. Or see ({base}/missing), or the long one\n"
        f"<{base}/no-\nhead> and http://ann:secret@127.0.0.1:{port}/ok?token=1"
    )
    answer = _check(checking, None, text=text, follow="1")
    assert _statuses(answer) == {
        f"{base}/no-head": (200, "OK"),
        f"{base}/ok": (200, "OK"),
        f"{base}/missing": (404, "Not Found"),
        f"http://ann:secret@127.0.0.1:{port}/ok?token=1": (200, "OK"),
    }
    with server.lock:
        requests = list(server.requests)
    assert ("HEAD", "/ok?token=1") in [(method, path) for method, path, _ in requests]
    for _, _, headers in requests:
        names = {name.lower() for name in headers}
        assert not names & {"authorization", "cookie", "referer", "proxy-authorization"}, headers
        assert headers["User-Agent"].startswith("mailcatch/")


def test_by_default_internal_addresses_are_blocked_and_never_requested(
    start_catcher: Callable[..., ServerThread], server: LinkServer
) -> None:
    catcher = start_catcher(link_check_timeout=TIMEOUT)
    port = server.server_address[1]
    html = f'<a href="{server.base}/ok">ip</a> <a href="http://localhost:{port}/ok">name</a>'
    answer = _check(catcher, html, follow="true")
    assert _statuses(answer) == {
        f"{server.base}/ok": (0, "blocked: 127.0.0.1 is a loopback address (--allow-internal-http-requests allows it)"),
        f"http://localhost:{port}/ok": (
            0,
            "blocked: localhost resolves to 127.0.0.1, which is a loopback address"
            " (--allow-internal-http-requests allows it)",
        ),
    }
    assert answer["Errors"] == 2
    assert server.paths() == []


def test_at_most_100_links_are_checked(checking: ServerThread, server: LinkServer) -> None:
    html = "".join(f'<a href="{server.base}/ok?n={n}">{n}</a>' for n in range(MAX_LINKS + 5))
    answer = _check(checking, html)
    assert len(answer["Links"]) == MAX_LINKS and answer["Skipped"] == 5
    assert answer["Links"][-1]["URL"] == f"{server.base}/ok?n={MAX_LINKS - 1}"
    assert len(server.paths()) == MAX_LINKS


def test_a_check_of_many_slow_links_answers_in_time(checking: ServerThread, server: LinkServer) -> None:
    html = "".join(f'<a href="{server.base}/slow?n={n}">{n}</a>' for n in range(40))
    started = time.monotonic()
    answer = _check(checking, html)
    elapsed = time.monotonic() - started
    deadline = DEADLINE_TIMEOUTS * TIMEOUT
    assert elapsed < deadline + 1.5
    statuses = [link["Status"] for link in answer["Links"]]
    assert len(statuses) == 40 and answer["Errors"] == 40
    out_of_time = f"not checked: the link check's {deadline:g} s were used up"
    assert set(statuses) == {f"timed out after {TIMEOUT:g} s", out_of_time}
    assert statuses[0] != out_of_time and statuses[-1] == out_of_time


def test_unknown_message_is_404(checking: ServerThread) -> None:
    with httpx.Client(base_url=checking.url) as api:
        response = api.get("/api/v1/message/no-such-id/link-check")
    assert response.status_code == 404 and "Error" in response.json()


def test_links_are_found_in_html_then_text_each_once() -> None:
    html = (
        '<a href="https://a.example/1">x</a><a href="mailto:x@example.com">m</a><a href="/relative">r</a>'
        '<img src="https://cdn.example/i.png"><link rel="stylesheet" href="https://cdn.example/s.css">'
        '<link rel="icon" href="https://cdn.example/favicon.ico"><a href="https://a.example/1">again</a>'
        '<area href="https://a.example/map"><a href=" https://a.example/spaced ">s</a>'
    )
    text = "Visit https://a.example/1, https://b.example/page?q=1&r=2. (see https://b.example/x_(y))"
    assert extract_links(html, text) == [
        "https://a.example/1",
        "https://cdn.example/i.png",
        "https://cdn.example/s.css",
        "https://a.example/map",
        "https://a.example/spaced",
        "https://b.example/page?q=1&r=2",
        "https://b.example/x_(y)",
    ]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("fd00::1", "a unique-local address"),
        ("100.64.0.1", "not a public address"),
        ("0.0.0.0", "a private address"),
        ("224.0.0.1", "a multicast address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_which_addresses_are_internal(address: str, reason: str | None) -> None:
    assert why_not_public(ipaddress.ip_address(address)) == reason
