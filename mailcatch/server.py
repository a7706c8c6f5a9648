"""Run one catcher: the store, the SMTP server and the HTTP server on one event loop (`Server`),
or on a loop of its own in a background thread (`ServerThread`, for tests and scripts)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType

import uvicorn

from mailcatch import __version__
from mailcatch.checks.spam import ping, spamd_address
from mailcatch.config import HostPort, Settings
from mailcatch.events import EventBus
from mailcatch.relay.auto import AutoRelay
from mailcatch.retention import Retention
from mailcatch.smtp.faults import FaultInjector, parse_chaos_triggers
from mailcatch.smtp.handler import CatchHandler, start_smtp
from mailcatch.smtp.session_log import SessionLog
from mailcatch.storage import create_store, where_kept
from mailcatch.web.app import create_app
from mailcatch.web.http_protocol import http_options
from mailcatch.web.ws_protocol import GatheringWebSocketProtocol
from mailcatch.webhooks import WebhookSender

log = logging.getLogger("mailcatch")
lifecycle = logging.getLogger("mailcatch.lifecycle")
"""The start-up and shutdown lines, at INFO: the `mailcatch` command shows them even with --quiet, and a
test run shows them only when asked for (`--log-level=INFO`)."""


class _QuietUvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: the catcher owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _bound_address(sock: socket.socket) -> HostPort:
    host, port = sock.getsockname()[:2]
    return HostPort(host, port)


def _listen_socket(address: HostPort) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.create_server((address.host, address.port), family=family, reuse_port=False)
    # Accepted sockets inherit this: without it, a response written in two parts (headers, then
    # body) waits ~40 ms for the client's delayed ACK on every keep-alive request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@contextlib.contextmanager
def _naming_the_address(what: str, address: HostPort, flag: str) -> Iterator[None]:
    """Re-raise a failure to listen (an address in use, a port the user may not open) naming the server,
    the address and the flag that changes it."""
    try:
        yield
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)  # not asyncio's "error while attempting..."
        if error.errno == errno.EADDRINUSE:
            reason += " (another catcher or mail server?)"
        raise OSError(
            error.errno,
            f"{what} on {address}: {reason}; choose another address with {flag} HOST:PORT (port 0 picks a free one)",
        ) from error


class Server:
    """A running catcher. `await start()`, then `await stop()`; or `await run()` until `request_stop()`."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.bus = EventBus()
        self.store = create_store(
            settings.database,
            self.bus,
            settings.max_messages,
            x_tags=settings.tags_from_x_tags,
            plus_tags=settings.tags_from_plus_addresses,
        )
        self.clock = clock
        """The time --max-age measures ages against and --webhook-limit counts seconds by (tests pass their own)."""
        self._retention: asyncio.Task[None] | None = None
        self._spamd_check: asyncio.Task[None] | None = None
        triggers = parse_chaos_triggers(settings.chaos_triggers) if settings.chaos_triggers else None
        self.faults = FaultInjector(settings.enable_chaos or bool(triggers), triggers)
        """Fault rules and Mailpit's chaos, shared by the SMTP handler (which applies them) and the API."""
        self.session_log = SessionLog(self.bus)
        """The recent SMTP sessions: the SMTP handler records each as it ends, the API lists them."""
        self.auto_relay: AutoRelay | None = None
        self.webhooks: WebhookSender | None = None
        self.smtp_address: HostPort | None = None
        self.http_address: HostPort | None = None
        self._smtp: asyncio.Server | None = None
        self._handler: CatchHandler | None = None
        self._http: _QuietUvicorn | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @property
    def url(self) -> str:
        assert self.http_address is not None
        host = self.http_address.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        return f"http://{HostPort(host, self.http_address.port)}"

    async def start(self) -> None:
        """Open the store, then listen for SMTP and HTTP; raises OSError if an address is taken."""
        settings = self.settings
        self.store.open()
        try:
            if settings.max_age_hours:
                retention = Retention(self.store, settings.max_age_hours * 3600, settings.prune_interval, self.clock)
                await retention.prune()  # before listening: what is served is within the age
                self._retention = asyncio.ensure_future(retention.run())
            self._start_subscribers()
            with _naming_the_address("SMTP", settings.smtp, "--smtp"):
                self._smtp, self._handler = await start_smtp(settings, self.store, self.faults, self.session_log)
            self.smtp_address = _bound_address(self._smtp.sockets[0])
            # Before the HTTP socket: a bad auth file leaks none.
            app = create_app(settings, self.store, self.bus, self.session_log)
            app.state.smtp_address = self.smtp_address
            app.state.smtp_handler = self._handler  # its runtime counters, for /api/v1/info
            app.state.faults = self.faults
            with _naming_the_address("the web UI and API", settings.listen, "--listen"):
                http_socket = _listen_socket(settings.listen)
            self.http_address = _bound_address(http_socket)
            config = uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                ws=GatheringWebSocketProtocol,
                **http_options(),  # a deadline on each request's head, and a cap on connections
                ws_ping_interval=20,
                ws_ping_timeout=20,
            )
            self._http = _QuietUvicorn(config)
            self._http_task = asyncio.ensure_future(self._http.serve(sockets=[http_socket]))
            while not self._http.started:
                if self._http_task.done():
                    self._http_task.result()
                    raise RuntimeError("the HTTP server stopped while starting")
                await asyncio.sleep(0.01)
        except BaseException:
            await self.stop()
            raise
        if not settings.ui_auth_file and not _is_loopback(self.http_address.host):
            log.warning(
                "warning: the web UI and API on %s are open beyond this machine and show every captured message "
                "to anyone who can reach them; protect them with --ui-auth-file (in a container, publish the "
                "port on this machine only: -p 127.0.0.1:8025:8025)",
                self.http_address,
            )
        where = where_kept(settings.database)
        kept = f"newest {settings.max_messages} kept" if settings.max_messages else "no limit"
        if settings.max_age_hours:
            kept += f", deleted after {settings.max_age_hours} h"
        lifecycle.info(
            "mailcatch %s: SMTP on %s, web UI and API on %s (messages %s, %s; SMTP with %s%s)",
            __version__,
            self.smtp_address,
            self.url,
            where,
            kept,
            settings.smtp_tls_mode,
            "; fault injection on" if self.faults.enabled else "",
        )
        if settings.enable_spamassassin:
            self._spamd_check = asyncio.ensure_future(self._say_whether_spamd_answers(settings.enable_spamassassin))

    async def _say_whether_spamd_answers(self, where: str) -> None:
        """As Mailpit does at start: a warning when the spamd --enable-spamassassin names doesn't answer."""
        problem = await ping(spamd_address(where))
        if problem:
            log.warning("--enable-spamassassin: %s; spam checks will say so until it answers", problem)
        else:
            lifecycle.info("mailcatch: spam checks by the spamd at %s", where)

    def _start_subscribers(self) -> None:
        """Automatic relay and the webhook: listeners on the bus, working after each message is stored."""
        settings = self.settings
        if settings.relay is not None and (settings.smtp_relay_all or settings.smtp_relay_matching):
            self.auto_relay = AutoRelay(settings.relay, self.store, self.bus, settings.smtp_relay_matching)
            self.auto_relay.start()
            which = "every new message" if settings.smtp_relay_all else "new messages to matching recipients"
            log.warning("automatic relay of %s via %s is on", which, settings.relay.server)
        if settings.webhook_url:
            self.webhooks = WebhookSender(
                settings.webhook_url,
                self.bus,
                limit=settings.webhook_limit,
                timeout=settings.webhook_timeout,
                clock=self.clock,
            )
            self.webhooks.start()

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Start, serve until `request_stop()`, then stop cleanly."""
        await self.start()
        await self.run_until_stopped()

    async def run_until_stopped(self) -> None:
        """Serve until `request_stop()`, then stop cleanly."""
        try:
            await self._stop.wait()
        finally:
            lifecycle.info("mailcatch: stopping: no new connections; finishing the messages under way")
            began = time.monotonic()
            await self.stop()
            database = self.settings.database
            kept = f"messages kept {where_kept(database)}" if database else "the messages held in memory are gone"
            lifecycle.info("mailcatch: stopped in %.1f s (%s)", time.monotonic() - began, kept)

    async def stop(self) -> None:
        """Stop listening, let stored messages finish, flush every pending write, close the store."""
        if self._spamd_check is not None:
            self._spamd_check.cancel()
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
            self._retention = None
        if self._smtp is not None:
            self._smtp.close()
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            with contextlib.suppress(Exception):
                await self._http_task
            self._http = None
        if self._handler is not None:
            await self._handler.drain()
        if self._smtp is not None:
            self._smtp = None
        for subscriber in (self.auto_relay, self.webhooks):
            if subscriber is not None:
                await subscriber.stop()
        await asyncio.get_running_loop().run_in_executor(None, self.store.close)


class ServerThread:
    """A catcher in a daemon thread: `start()` returns once it listens, `stop()` flushes and ends it."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.server = Server(settings, clock=clock)
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

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
