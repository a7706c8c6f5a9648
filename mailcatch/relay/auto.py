"""Automatic relay (--smtp-relay-all, --smtp-relay-matching): each new message sent on through the relay.

It listens on the event bus, so the SMTP client has had its `250` (the message is stored)
before relaying begins, and a relay that fails or hangs never holds up incoming mail. Messages
go out one at a time, in order of arrival, on a thread of its own (never one the store parses
big messages on); the message is sent as it was received
(only override-from changes it) to its envelope recipients, those in blocked-recipients left
out, and with --smtp-relay-matching only those the pattern finds a match in. A failure is
logged (a repeated one at most once a minute); the captured message stays as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from concurrent.futures import ThreadPoolExecutor

from mailcatch.errors import MailcatchError
from mailcatch.events import EventBus
from mailcatch.logs import limit_repeats
from mailcatch.models import Event
from mailcatch.relay.client import RelayError, send
from mailcatch.relay.config import RelayConfig
from mailcatch.relay.rewrite import override_from
from mailcatch.storage import MessageStore

__all__ = ["MAX_WAITING", "AutoRelay"]

log = limit_repeats(logging.getLogger("mailcatch.relay"))

MAX_WAITING = 10_000
"""New messages waiting to be relayed; while that many wait, newer ones are not relayed (they stay caught)."""


class AutoRelay:
    """Relays every new message (or those to recipients `matching` finds) through the relay server."""

    def __init__(self, config: RelayConfig, store: MessageStore, bus: EventBus, matching: str | None = None) -> None:
        self.config = config
        self.store = store
        self.matching = re.compile(matching) if matching else None
        self.relayed = 0
        self.failed = 0
        self._waiting: asyncio.Queue[str] = asyncio.Queue(MAX_WAITING)
        self._stopped = False
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="mailcatch-relay")
        self._task: asyncio.Task[None] | None = None
        bus.listen(self._on_event)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop relaying; messages still waiting are not relayed (they stay caught)."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._thread.shutdown(wait=False, cancel_futures=True)  # a relay in progress ends by its timeout

    def _on_event(self, event: Event) -> None:
        if event.type != "new" or self._stopped:
            return
        try:
            self._waiting.put_nowait(event.data["ID"])
        except asyncio.QueueFull:
            log.warning(
                "automatic relay via %s is %d messages behind: newer messages are not relayed (they stay caught)",
                self.config.server,
                MAX_WAITING,
            )

    def recipients(self, rcpt_to: list[str]) -> list[str]:
        """The envelope recipients a new message is relayed to."""
        chosen = [address for address in rcpt_to if not self.config.blocked(address)]
        if self.matching is not None:
            chosen = [address for address in chosen if self.matching.search(address)]
        return chosen

    async def _run(self) -> None:
        while True:
            await self._relay(await self._waiting.get())

    async def _relay(self, message_id: str) -> None:
        try:
            message = await self.store.get(message_id)
        except MailcatchError:
            return  # deleted (or pruned) before its turn came
        recipients = self.recipients(message.envelope.rcpt_to)
        if not recipients:
            return
        data, mail_from = message.raw, message.envelope.mail_from
        if self.config.override_from:
            data, mail_from = override_from(data, self.config.override_from), self.config.override_from
        try:
            sending = functools.partial(send, self.config, mail_from, recipients, data, partial=True)
            refused = await asyncio.get_running_loop().run_in_executor(self._thread, sending)
        except RelayError as error:
            self.failed += 1
            log.warning("automatic relay via %s failed (the message stays caught): %s", self.config.server, error)
            return
        self.relayed += 1
        for address, reply in refused.items():
            log.warning("automatic relay via %s: RCPT TO:<%s> refused: %s", self.config.server, address, reply)
        log.info("relayed %s to %s via %s", message_id, ", ".join(recipients), self.config.server)
