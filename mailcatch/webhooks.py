"""--webhook-url: each new message's summary POSTed as JSON to a URL, as Mailpit does.

The summary is the one GET /api/v1/messages lists (Mailpit's MessageSummary). The sender listens
on the event bus, so the SMTP client has had its `250` before any request is made, and an
endpoint that is slow, failing or gone never holds up incoming mail.

- **Limit** (--webhook-limit N): at most N requests start in any second (0: no limit). As in
  Mailpit, a message that comes while the limit is reached gets no request (it is not queued);
  a warning says so, at most once a minute.
- **Timeout**: a request that gets no answer within `timeout` seconds (5) has failed.
- **Retries**: a request that fails (no connection, a timeout, a 5xx, 408 or 429) is tried again
  after 0.5 s, 1 s and 2 s; another 4xx is not retried. Once the tries are used up a warning
  names the URL and the last failure, a repeated one at most once a minute.

Requests run on threads of the sender's own (urllib), a few at once, so a hanging endpoint takes
no thread the store parses big messages on; those waiting are bounded, and beyond that new
messages get no request (warned about like the limit).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mailcatch import __version__
from mailcatch.events import EventBus
from mailcatch.json_text import dumps
from mailcatch.logs import limit_repeats
from mailcatch.models import Event

__all__ = ["RETRY_DELAYS", "RateLimit", "WebhookSender", "check_webhook_url"]

log = limit_repeats(logging.getLogger("mailcatch.webhooks"))

RETRY_DELAYS = (0.5, 1.0, 2.0)
"""Seconds before each new try of a failed request."""
SENDERS = 4
"""Requests in progress at once."""
MAX_WAITING = 100
"""Requests waiting for a sender; beyond that, new messages get none."""
_RETRIED_STATUSES = (408, 429)


def check_webhook_url(url: str) -> str | None:
    """What is wrong with a --webhook-url (None if nothing)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL"
    try:
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        return f"{url!r} has a port that is not a number between 0 and 65535"
    return None


class RateLimit:
    """At most `per_second` events in any second, counted by `clock` (0: no limit)."""

    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._started: list[float] = []

    def allow(self) -> bool:
        """Whether one more may start now (and if so, count it)."""
        if self.per_second <= 0:
            return True
        now = self._clock()
        self._started = [t for t in self._started if 0 <= now - t < 1]
        if len(self._started) >= self.per_second:
            return False
        self._started.append(now)
        return True


class _Failed(Exception):
    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


def _shown(url: str) -> str:
    """The URL as logs show it: without the password of a user:password@ part."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class WebhookSender:
    """POSTs the summary of every new message to `url`; `start()` on the running loop, `await stop()` at the end."""

    def __init__(
        self,
        url: str,
        bus: EventBus,
        *,
        limit: int = 1,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.retry_delays = retry_delays
        self.limit = RateLimit(limit, clock)
        self.sent = 0
        self.failed = 0
        self.skipped = 0
        self._request = self._build_request(url)
        self._waiting: asyncio.Queue[bytes] = asyncio.Queue(MAX_WAITING)
        self._tasks: list[asyncio.Task[None]] = []
        self._threads: ThreadPoolExecutor | None = None
        self._stopped = False
        bus.listen(self._on_event)

    @staticmethod
    def _build_request(url: str) -> tuple[str, dict[str, str]]:
        parts = urllib.parse.urlsplit(url)
        headers = {"Content-Type": "application/json", "User-Agent": f"mailcatch/{__version__}"}
        if parts.username is not None:  # user:password@ in the URL is basic auth, as in Mailpit
            login = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode("ascii")
            host = parts.netloc.rsplit("@", 1)[1]
            url = urllib.parse.urlunsplit(parts._replace(netloc=host))
        return url, headers

    def start(self) -> None:
        self._threads = ThreadPoolExecutor(SENDERS, thread_name_prefix="mailcatch-webhook")
        self._tasks = [asyncio.ensure_future(self._run()) for _ in range(SENDERS)]

    async def stop(self) -> None:
        """Stop sending; requests not yet made are not made."""
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)  # a request in progress ends by its timeout
            self._threads = None

    def _on_event(self, event: Event) -> None:
        if event.type != "new" or self._stopped:
            return
        if not self.limit.allow():
            self._skip(f"more than {self.limit.per_second} a second (--webhook-limit)")
            return
        try:
            self._waiting.put_nowait(dumps(event.data).encode())
        except asyncio.QueueFull:
            self._skip(f"{MAX_WAITING} requests are already waiting")

    def _skip(self, why: str) -> None:
        self.skipped += 1
        log.warning("webhook %s: new messages get no request while %s", _shown(self.url), why)

    async def _run(self) -> None:
        while True:
            await self._deliver(await self._waiting.get())

    async def _deliver(self, body: bytes) -> None:
        reason = ""
        for attempt in range(len(self.retry_delays) + 1):
            if attempt:
                await asyncio.sleep(self.retry_delays[attempt - 1])
            try:
                await asyncio.get_running_loop().run_in_executor(self._threads, self._post, body)
            except _Failed as failure:
                reason = str(failure)
                if not failure.retry:
                    break
                continue
            self.sent += 1
            return
        self.failed += 1
        tries = attempt + 1
        log.warning("webhook %s failed (%d %s): %s", _shown(self.url), tries, "try" if tries == 1 else "tries", reason)

    def _post(self, body: bytes) -> None:
        url, headers = self._request
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                response.read(64 * 1024)
        except urllib.error.HTTPError as error:
            error.close()
            retry = error.code >= 500 or error.code in _RETRIED_STATUSES
            raise _Failed(f"answered {error.code} {error.reason}", retry) from None
        except (TimeoutError, OSError) as error:
            raise _Failed(_describe(error), True) from None


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError):
        error = error.reason if isinstance(error.reason, BaseException) else error
        if isinstance(error, urllib.error.URLError):
            return str(error.reason)
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return "no answer in time"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed: the request has failed (and is not tried again)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects, urllib.request.ProxyHandler({}))
"""No proxies from the environment (the endpoint is usually on the developer's machine), no redirects."""
