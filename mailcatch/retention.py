"""--max-age: messages older than the limit are deleted at start, then once every interval (a minute)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from mailcatch.errors import StoreError
from mailcatch.storage import MessageStore

__all__ = ["Retention"]

log = logging.getLogger("mailcatch.retention")


class Retention:
    """Deletes the messages received more than `max_age` seconds before `clock()`, every `interval` seconds."""

    def __init__(
        self, store: MessageStore, max_age: float, interval: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.max_age = max_age
        self.interval = interval
        self.clock = clock

    async def prune(self) -> int:
        """Delete the messages now too old; returns how many."""
        pruned = await self.store.prune_older_than(self.clock() - self.max_age)
        if pruned:
            log.info("deleted %d message%s older than --max-age", pruned, "" if pruned == 1 else "s")
        return pruned

    async def run(self) -> None:
        """Prune now, then every `interval` seconds, until cancelled; a failed run is logged and retried next time."""
        while True:
            try:
                await self.prune()
            except StoreError as error:
                log.warning("messages older than --max-age not deleted: %s", error)
            await asyncio.sleep(self.interval)
