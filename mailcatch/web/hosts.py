"""The Host header check that keeps DNS rebinding out.

A page on `http://evil.example:8025` whose name the attacker's DNS points first at their
server, then at 127.0.0.1, is the same origin as itself to the browser: its scripts could
read the catcher on the visitor's machine. Every such request names the attacker's host
in its `Host` header, so the web side answers only requests that name a host it is known
by: `localhost` and its subdomains (`*.localhost`, which browsers resolve to loopback
themselves), any IP address (an address can't be rebound: a page loaded from one is the
origin of that address), the host name `--listen` gives, and the names `--allowed-hosts`
lists (`name`, or `*.domain` for its subdomains; `*` turns the check off). When listening
on every interface (`0.0.0.0` or `::`, as in a container), names without a dot are allowed
too: docker-compose service and container names such as `mailcatch`, which no attacker's
DNS can hand out. Other requests, websocket handshakes included, get 403 with a JSON error
that says how to allow the host.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HostCheck", "HostPolicy", "host_name"]

log = logging.getLogger("mailcatch.web")

_LISTEN_ALL = frozenset({"", "0.0.0.0", "::"})
_MAX_WARNED = 64  # distinct refused hosts logged; a scan can't fill the log


def host_name(header: str) -> str:
    """The host of a Host header: port and brackets removed, lower case, no final dot."""
    text = header.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    if text.count(":") == 1:
        text = text.partition(":")[0]
    return text.rstrip(".")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which hosts the web side answers, from `--listen` and `--allowed-hosts`."""

    def __init__(self, listen_host: str, allowed: Sequence[str] = ()) -> None:
        names = {host_name(a) for a in allowed if a.strip()}
        self.any = "*" in names
        self.listen_all = listen_host in _LISTEN_ALL
        self.names = {n for n in names if not n.startswith("*.")}
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))  # "*.example.test" -> ".example.test"
        listen = host_name(listen_host)
        if listen and not self.listen_all:
            self.names.add(listen)

    def allows(self, header: str | None) -> bool:
        """Whether a request with this Host header (None: without one, so no browser's) is answered."""
        if self.any or header is None:
            return True
        host = host_name(header)
        if host == "localhost" or host.endswith(".localhost") or _is_address(host):
            return True
        if host in self.names or (self.suffixes and host.endswith(self.suffixes)):
            return True
        return self.listen_all and "." not in host and host.isascii() and host.replace("-", "").isalnum()


class HostCheck:
    """ASGI middleware: HTTP requests and websocket handshakes naming a host the policy refuses get 403."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy
        self._warned: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", []):
            if name == b"host":
                header = value.decode("latin-1")
                break
        if self.policy.allows(header):
            await self.app(scope, receive, send)
            return
        assert header is not None
        host = host_name(header)
        if host not in self._warned and len(self._warned) < _MAX_WARNED:
            self._warned.add(host)
            log.warning(
                "refused a request for host %r (DNS rebinding?); if that is a name of this catcher, "
                "start it with --allowed-hosts %s",
                host,
                host,
            )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: the client gets 403
            return
        response = JSONResponse(
            {
                "Error": f"host {host!r} is not allowed (a guard against DNS rebinding); if the catcher is "
                f"reached by that name, start it with --allowed-hosts {host} (or MAILCATCH_ALLOWED_HOSTS={host})"
            },
            status_code=403,
        )
        await response(scope, receive, send)
