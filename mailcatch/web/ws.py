"""The /api/events websocket: every change to the mailbox, pushed as Mailpit's `{"Type", "Data"}` frames.

Frames: `stats` (`{Total, Unread, Version}`) as soon as a client connects and then at most
once per `stats_delay` after changes (a change of tags alone sends none, as in Mailpit);
`new` (a message summary), `update`, `delete`, `truncate`, `prune` and `error`, as the
store and the SMTP server publish them, and mailcatch's own `session` (an SMTP session's
summary, from the session log, when it ends; Mailpit's clients ignore types they don't know). A new message with tags comes as Mailpit sends
it: `update` `{ID, Tags}` first, then `new`, both with the tags in Mailpit's order there
(sorted by code point, where the API lists them sorted ignoring case).

Each event is encoded once, whatever the number of clients, and queued on each client's
bounded backlog. Publishing never waits for a client: one that falls the bus's
`max_pending` events behind is dropped and its connection closed, even when it has
stopped reading altogether (its send is then stuck on a full socket buffer). Keep-alive pings and the close of dead peers are the HTTP
server's (uvicorn's `ws_ping_interval`). A connection whose Origin header names
another site is refused with 403 before the handshake, so a page elsewhere can't read
the mailbox through the visitor's browser (cross-site websocket hijacking).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from mailcatch import __version__, json_text
from mailcatch.events import Backlog, EventBus
from mailcatch.models import Event
from mailcatch.storage import MessageStore

__all__ = ["EventsHub", "origin_allowed", "routes"]

log = logging.getLogger("mailcatch.ws")

CHANGES = frozenset({"new", "update", "delete", "truncate", "prune"})
"""Event types after which the stats frame is sent again."""

TOO_SLOW = 1013
"""Close code for a client dropped because it could not keep up ("try again later")."""

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _netloc(scheme: str, host: str) -> str:
    """`host:port` in lower case with the scheme's default port filled in."""
    parts = urlsplit(f"{scheme}://{host}")
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return ""
    hostname = parts.hostname or ""
    return f"[{hostname}]:{port}" if ":" in hostname else f"{hostname}:{port}"


def origin_allowed(origin: str | None, host: str | None, scheme: str, allowed: re.Pattern[str] | None = None) -> bool:
    """Whether a websocket handshake may proceed: no Origin (not a browser), the same origin, or an allowed one."""
    if origin is None:
        return True
    if allowed is not None and allowed.fullmatch(origin):
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or not host:
        return False
    own_scheme = "https" if scheme in ("https", "wss") else "http"
    return parts.scheme == own_scheme and _netloc(parts.scheme, parts.netloc) == _netloc(own_scheme, host)


class EventsHub:
    """Serves /api/events: one listener on the bus encodes each event once and hands the frame to every client.

    Each client has a bounded backlog of encoded frames and one task that sends them in
    order; frames published in the same turn of the loop are taken together.
    """

    def __init__(
        self,
        store: MessageStore,
        bus: EventBus,
        allowed_origins: re.Pattern[str] | None = None,
        stats_delay: float = 0.25,
        drop_check: float = 0.5,
    ) -> None:
        self.store = store
        self.bus = bus
        self.allowed_origins = allowed_origins
        self.stats_delay = stats_delay
        self.drop_check = drop_check
        self.clients = 0
        self.dropped = 0
        self._stats_timer: asyncio.TimerHandle | None = None
        self._backlogs: set[Backlog[Message]] = set()
        bus.listen(self._fan_out)

    @staticmethod
    def encode(event: Event) -> str:
        """The frame for an event: Mailpit's `{"Type", "Data"}` as compact JSON."""
        return json_text.dumps({"Type": event.type, "Data": event.data})

    def stats(self) -> dict[str, Any]:
        """The `stats` frame's data, as Mailpit sends it: `{Total, Unread, Version}`."""
        return {**self.store.stats(), "Version": __version__}

    @staticmethod
    def frames(event: Event) -> list[Event]:
        """The frames for an event, in order: a new message with tags is told as `update` `{ID, Tags}` then `new`."""
        if event.type != "new" or not isinstance(event.data, dict) or not event.data.get("Tags"):
            return [event]
        tags = sorted(event.data["Tags"])  # Mailpit's order in these frames: Go's sort.Strings
        summary = event.data if tags == event.data["Tags"] else {**event.data, "Tags": tags}
        return [Event("update", {"ID": event.data["ID"], "Tags": tags}), Event("new", summary)]

    def _fan_out(self, event: Event) -> None:
        """Encode the event once and queue the same frame for every client; never waits on any of them."""
        if not self._backlogs:
            return
        for told in self.frames(event):
            message: Message = {"type": "websocket.send", "text": self.encode(told)}
            for backlog in list(self._backlogs):
                backlog.offer(message)
        if event.type in CHANGES and not _tags_only(event):
            self._changed()

    def _changed(self) -> None:
        """Schedule a stats frame after a change, unless one is already due."""
        if self._stats_timer is None:
            self._stats_timer = asyncio.get_running_loop().call_later(self.stats_delay, self._send_stats)

    def _send_stats(self) -> None:
        self._stats_timer = None
        if self.clients:
            self.bus.publish(Event("stats", self.stats()))

    async def endpoint(self, websocket: WebSocket) -> None:
        """The websocket route: Origin check, handshake, then events until either side goes away."""
        origin = websocket.headers.get("origin")
        if not origin_allowed(origin, websocket.headers.get("host"), websocket.url.scheme, self.allowed_origins):
            log.warning("websocket from origin %r refused", origin)
            await websocket.close(code=1008)
            return
        await websocket.accept()
        backlog: Backlog[Message] = Backlog(self.bus.max_pending, self._backlogs.discard)
        self._backlogs.add(backlog)
        self.clients += 1
        pump = asyncio.ensure_future(self._pump(websocket, backlog))
        listen = asyncio.ensure_future(self._listen(websocket))
        try:
            while not (pump.done() or listen.done() or backlog.dropped):
                await asyncio.wait({pump, listen}, timeout=self.drop_check, return_when=asyncio.FIRST_COMPLETED)
            if backlog.dropped:
                self.dropped += 1
                log.warning("websocket client %s dropped: it fell too far behind", websocket.client)
                if not pump.done():
                    pump.cancel()  # stuck on a full socket buffer: the peer has stopped reading
                else:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(websocket.close(TOO_SLOW, "too slow, dropped"), self.drop_check)
        finally:
            backlog.close()
            self._backlogs.discard(backlog)
            self.clients -= 1
            if not self.clients and self._stats_timer is not None:
                self._stats_timer.cancel()
                self._stats_timer = None
            for task in (pump, listen):
                task.cancel()
            await asyncio.gather(pump, listen, return_exceptions=True)

    async def _pump(self, websocket: WebSocket, backlog: Backlog[Message]) -> None:
        await websocket.send_text(self.encode(Event("stats", self.stats())))
        while messages := await backlog.take():
            for message in messages:
                await websocket.send(message)

    async def _listen(self, websocket: WebSocket) -> None:
        """Read (and ignore) what the client sends, until it disconnects."""
        with contextlib.suppress(WebSocketDisconnect):
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass


def _tags_only(event: Event) -> bool:
    """Whether an event is a change of one message's tags, after which Mailpit sends no stats."""
    return event.type == "update" and isinstance(event.data, dict) and "Tags" in event.data


def routes(hub: EventsHub) -> list[BaseRoute]:
    """The websocket route."""
    return [WebSocketRoute("/api/events", hub.endpoint)]
