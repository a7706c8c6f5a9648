"""The link check: every http(s) link and image of a message (HTML and text), and the status each answers.

As Mailpit's: the links of `<a href>` (and `<area href>`), `<img src>` and `<link rel="stylesheet">`, then
those written in the text, in that order without repeats, at most MAX_LINKS; each asked with HEAD (GET
when the server refuses HEAD with 405 or 501), following redirects only when asked, at most
MAX_REDIRECTS of them, the whole check within DEADLINE_TIMEOUTS timeouts. A link that fails gets status code 0 and a status saying why ("timed out after
5 s", "connection refused", "no such host"). Nothing identifying is sent: no cookies, no credentials (a
link's user:password@ is dropped), no Referer.

Checking makes the catcher send requests where a message's author chose, which could be services only
the catcher's network reaches: unless `allow_internal`, every address a host name resolves to is checked
first, and a link to a loopback, private, link-local, unique-local or other non-public address is not
requested at all but reported "blocked: ...". The connection then goes to the address that was checked,
so that the name can't resolve elsewhere in between (DNS rebinding); redirects are checked the same way.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import re
import socket
import ssl
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from mailcatch import __version__
from mailcatch.checks.html_scan import Tag, scan

__all__ = [
    "MAX_LINKS",
    "MAX_REDIRECTS",
    "WORKERS",
    "LinkStatus",
    "check_links",
    "extract_links",
    "link_check",
    "why_not_public",
]

MAX_LINKS = 100
"""Links checked per message (as Mailpit); those beyond are counted in `Skipped`."""
MAX_REDIRECTS = 10
"""Redirects followed per link (with `follow`); one more is reported as too many."""
WORKERS = 5
"""Links checked at once (as Mailpit)."""
DEADLINE_TIMEOUTS = 6
"""A whole check answers within this many timeouts (30 s by default), however many links are slow."""
USER_AGENT = f"mailcatch/{__version__} (link check)"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEAD_REFUSED = frozenset({405, 501})
_TEXT_LINK = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_BRACKETED_LINK = re.compile(r"<(https?://[^>]+)>", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_HTML_LINK = re.compile(r"^https?://", re.IGNORECASE)


def _trimmed(url: str) -> str:
    """A URL found in text without the punctuation that ends its sentence (`see https://x.test/a.`)."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def extract_links(html: str, text: str) -> list[str]:
    """The message's http(s) links, each once: the HTML's in order, then the text's (<bracketed> ones first)."""
    found: list[str] = []
    for token in scan(html):
        if not isinstance(token, Tag) or token.closing:
            continue
        if token.name in ("a", "area"):
            value = token.value("href")
        elif token.name == "img":
            value = token.value("src")
        elif token.name == "link" and "stylesheet" in token.value("rel").lower().split():
            value = token.value("href")
        else:
            continue
        value = value.strip()
        if _HTML_LINK.match(value):
            found.append(value)
    bracketed = list(_BRACKETED_LINK.finditer(text))  # RFC 3986 appendix C: <URL>, may be broken over lines
    found += ["".join(match[1].split()) for match in bracketed]
    starts = {match.start(1) for match in bracketed}
    found += [_trimmed(match[0]) for match in _TEXT_LINK.finditer(text) if match.start() not in starts]
    return list(dict.fromkeys(link for link in found if link))


@dataclass(frozen=True)
class LinkStatus:
    """One link's result in Mailpit's shape: status code (0: no answer) and status text (or the error)."""

    url: str
    status_code: int
    status: str

    def to_json(self) -> dict[str, Any]:
        return {"URL": self.url, "StatusCode": self.status_code, "Status": self.status}


class _Failure(Exception):
    """Why a link got no status: its text is the link's status."""


def why_not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not public (None if it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if isinstance(address, ipaddress.IPv6Address) and address in ipaddress.IPv6Network("fc00::/7"):
        return "a unique-local address"
    if address.is_private:
        return "a private address"
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "not a public address"
    return None


def _addresses(host: str, port: int, allow_internal: bool) -> list[tuple[int, str]]:
    """The addresses to connect to for `host` (family, address); every one checked unless `allow_internal`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise _Failure(f"no such host: {host}") from None
        raise _Failure(f"can't resolve {host}: {error.strerror or error}") from None
    found: list[tuple[int, str]] = list(dict.fromkeys((int(family), str(info[0])) for family, _, _, _, info in infos))
    if not found:
        raise _Failure(f"no such host: {host}")
    if not allow_internal:
        for _, text in found:
            reason = why_not_public(ipaddress.ip_address(text.split("%", 1)[0]))
            if reason:
                shown = text if text == host.strip("[]") else f"{host} resolves to {text}, which"
                raise _Failure(f"blocked: {shown} is {reason} (--allow-internal-http-requests allows it)")
    return found


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, address: tuple[int, str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        family, ip = self.address
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect((ip, self.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """As _PinnedHTTPConnection, with TLS checked against the link's host name."""

    def connect(self) -> None:
        super().connect()
        self.sock = _tls_context().wrap_socket(self.sock, server_hostname=self.host)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, read on the first https link rather than when mailcatch starts."""
    return ssl.create_default_context()


def _error_text(error: BaseException, timeout: float) -> str:
    if isinstance(error, _Failure):
        return str(error)
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g} s"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without an answer"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not valid: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {error.reason or error}"
    if isinstance(error, http.client.HTTPException):
        return f"not an HTTP answer: {type(error).__name__}"
    if isinstance(error, OSError):
        return error.strerror.lower() if error.strerror else str(error)
    return str(error)


def _target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of an http(s) URL, without its user:password@ and fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _Failure(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _Failure(f"not an http or https URL: {scheme or 'no scheme'}")
    host = parts.hostname or ""
    if not host:
        raise _Failure("not a valid URL: no host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    path = re.sub(r"[\x00-\x20\x7f]", lambda m: urllib.parse.quote(m[0]), path)
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _request(url: str, method: str, allow_internal: bool, timeout: float) -> tuple[int, str | None]:
    """One request: the status and the Location header."""
    scheme, host, port, path = _target(url)
    addresses = _addresses(host, port, allow_internal)
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    last: BaseException | None = None
    for address in addresses:
        connection = kind(host, port, address, timeout)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            connection.putheader("User-Agent", USER_AGENT)
            connection.putheader("Accept", "*/*")
            connection.putheader("Connection", "close")
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.getheader("Location")
        except OSError as error:  # refused, unreachable, timed out: the host's next address, if it has one
            last = error
        finally:
            connection.close()
    assert last is not None
    raise last


def _status_text(code: int) -> str:
    try:
        return http.client.responses[code]
    except KeyError:
        return ""


def check_link(url: str, follow: bool, allow_internal: bool, timeout: float) -> LinkStatus:
    """The status of one link (never raises)."""
    current = url
    seen = {url}
    redirects = 0
    try:
        while True:
            status, location = _request(current, "HEAD", allow_internal, timeout)
            if status in _HEAD_REFUSED:
                status, location = _request(current, "GET", allow_internal, timeout)
            if not (follow and status in _REDIRECTS and location):
                return LinkStatus(url, status, _status_text(status))
            redirects += 1
            if redirects > MAX_REDIRECTS:
                return LinkStatus(url, 0, f"too many redirects (more than {MAX_REDIRECTS})")
            current = urllib.parse.urljoin(current, location.strip())
            if current in seen:
                return LinkStatus(url, 0, f"redirect loop: back to {current} after {redirects} redirects")
            seen.add(current)
    except Exception as error:
        return LinkStatus(url, 0, _error_text(error, timeout))


def check_links(
    urls: Iterable[str], follow: bool, allow_internal: bool = False, timeout: float = 5
) -> list[LinkStatus]:
    """The status of each link, WORKERS at a time, in the order given, all within DEADLINE_TIMEOUTS x `timeout`.

    A link still waiting or being checked when that time is up is reported so; a request under way then
    ends by its own timeout, on a thread nobody waits for.
    """
    urls = list(urls)
    if not urls:
        return []
    deadline = DEADLINE_TIMEOUTS * timeout
    pool = ThreadPoolExecutor(min(WORKERS, len(urls)), thread_name_prefix="mailcatch-link-check")
    try:
        futures = [pool.submit(check_link, link, follow, allow_internal, timeout) for link in urls]
        wait(futures, timeout=deadline)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    out_of_time = f"not checked: the link check's {deadline:g} s were used up"
    return [
        future.result() if future.done() and not future.cancelled() else LinkStatus(url, 0, out_of_time)
        for url, future in zip(urls, futures, strict=True)
    ]


def link_check(html: str, text: str, follow: bool, allow_internal: bool = False, timeout: float = 5) -> dict[str, Any]:
    """The link check of a message, in Mailpit's shape, with mailcatch's `Skipped` (links over MAX_LINKS)."""
    links = extract_links(html, text)
    statuses = check_links(links[:MAX_LINKS], follow, allow_internal, timeout)
    return {
        "Errors": sum(1 for s in statuses if s.status_code == 0 or s.status_code >= 400),
        "Links": [s.to_json() for s in statuses],
        "Skipped": max(0, len(links) - MAX_LINKS),
    }
