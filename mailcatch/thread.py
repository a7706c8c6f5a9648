"""Run a catcher on its own event loop in a background thread (for tests and scripts)."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from mailcatch.config import Settings
from mailcatch.server import Server


class ServerThread:
    """A catcher in a daemon thread: `start()` returns once it listens, `stop()` flushes and ends it."""

    def __init__(self, settings: Settings) -> None:
        self.server = Server(settings)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def smtp_host(self) -> str:
        assert self.server.smtp_address is not None
        return self.server.smtp_address.host

    @property
    def smtp_port(self) -> int:
        assert self.server.smtp_address is not None
        return self.server.smtp_address.port

    @property
    def url(self) -> str:
        return self.server.url

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        try:
            await self.server.start()
        except BaseException as error:
            self._error = error
            self._started.set()
            return
        self._started.set()
        await self.server.run_until_stopped()

    def start(self, timeout: float = 30) -> ServerThread:
        self._thread = threading.Thread(target=self._run, name="mailcatch-server", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError("mailcatch did not start in time")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self

    def stop(self, timeout: float = 30) -> None:
        if self._thread is None or self._loop is None:
            return
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.server.request_stop)
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
