"""uvicorn's websocket protocol with its writes gathered per turn of the event loop.

uvicorn writes every websocket frame to the socket at once, one system call per frame.
The events hub sends the same frame to every client, and frames published together (a
group commit stores several messages at once) are sent to a client in one go; on
loopback each of those calls also costs the kernel's delivery to the reader. Here the
frames a connection writes in one turn of the loop are joined and written together at
the end of that turn: the same bytes, in the same order, in fewer system calls. Nothing
waits longer than the current turn of the loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["GatheringWebSocketProtocol"]


class _GatheringTransport:
    """Wraps a transport: `write` keeps the data until the loop's turn ends; `close` sends what is kept first."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatheringWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websocket protocol, writing through a `_GatheringTransport`.

    The real transport still calls this protocol's `pause_writing` and `resume_writing`,
    so a client that stops reading holds up its own sends exactly as before.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(_GatheringTransport(transport, self.loop))  # type: ignore[arg-type]
