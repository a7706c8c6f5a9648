"""uvicorn's h11 HTTP protocol with a deadline on reading each request's head, and the connection cap.

uvicorn closes a keep-alive connection that stays silent after a response, but a connection
that never sends a request, or sends half of one and stops, stays open for ever: a few
thousand such connections (a port scanner, a stuck client, a slowloris) hold file
descriptors and memory until the process runs out. Here every request head, the first on a
connection and each later one, must arrive within `head_timeout` seconds of the connection
opening or of the previous response, and a request body must not stall for `body_idle_timeout`
seconds; a connection that misses either is closed. A body that keeps coming is not cut: a big
upload may take as long as it takes.

`MAX_HTTP_CONNECTIONS` is the cap uvicorn applies (`limit_concurrency`): beyond it, requests
get `503` and uvicorn logs "Exceeded concurrency limit" each time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from mailcatch import json_text

__all__ = [
    "BODY_IDLE_TIMEOUT",
    "HEAD_TIMEOUT",
    "MAX_HTTP_CONNECTIONS",
    "DeadlineH11Protocol",
    "http_options",
    "with_head_timeout",
]

log = logging.getLogger("mailcatch.web")

HEAD_TIMEOUT = 30.0
"""Seconds a connection may take to send a request's head (the request line and headers)."""

BODY_IDLE_TIMEOUT = 30.0
"""Seconds a request body may stall (no byte arriving) before the connection is closed."""

UNREADABLE_REQUEST = (
    "the request could not be read as HTTP: a request line or header over 16 KB, or not HTTP at all"
    " (send a long search query in a JSON body: PUT /api/v1/messages with Search)"
)

MAX_HTTP_CONNECTIONS = 1000
"""HTTP connections (websockets included) served at once; requests beyond get 503."""


class DeadlineH11Protocol(H11Protocol):
    """H11Protocol that closes a connection whose request head doesn't arrive within `head_timeout`."""

    head_timeout: float = HEAD_TIMEOUT
    body_idle_timeout: float = BODY_IDLE_TIMEOUT
    closed_for_timeout = 0  # connections closed by the deadline, over every instance (a count for logs and tests)

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_head():
            return  # the head's deadline stands
        if self.conn.their_state is h11.SEND_BODY:
            self._arm(self.body_idle_timeout)  # the body must keep coming, however long it takes in all
        else:
            self._disarm()  # the request is in (or the connection became a websocket): the route takes over

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's head is due in its turn

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """Refuse what h11 could not read as a request with a JSON error, as every other refusal, then close."""
        body = json_text.dumps({"Error": f"{UNREADABLE_REQUEST} ({msg.rstrip('.')})"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            (b"connection", b"close"),
        ]
        for event in (h11.Response(status_code=400, headers=headers), h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _waiting_for_head(self) -> bool:
        return self.conn.their_state in (h11.IDLE, h11.DONE) and (self.cycle is None or self.cycle.response_complete)

    def _arm(self, seconds: float | None = None) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout if seconds is None else seconds, self._overdue)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _overdue(self) -> None:
        self._head_timer = None
        get_protocol = getattr(self.transport, "get_protocol", None)
        if self.transport.is_closing() or (get_protocol is not None and get_protocol() is not self):
            return
        if self._waiting_for_head():
            why = f"no request head within {self.head_timeout:g} s"
        elif self.conn.their_state is h11.SEND_BODY:
            why = f"its request body stalled for {self.body_idle_timeout:g} s"
        else:
            return
        type(self).closed_for_timeout += 1
        log.debug("closed an HTTP connection from %s: %s", self.client, why)
        self.transport.close()


def with_head_timeout(seconds: float) -> type[DeadlineH11Protocol]:
    """The protocol class with another deadline (tests use a short one)."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"head_timeout": seconds})


def http_options() -> dict[str, Any]:
    """The keyword arguments of uvicorn.Config that set the HTTP protocol and the connection cap."""
    return {"http": DeadlineH11Protocol, "limit_concurrency": MAX_HTTP_CONNECTIONS}
