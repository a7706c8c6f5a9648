"""In-process publish/subscribe: the store publishes changes, websocket clients subscribe."""

from __future__ import annotations

import asyncio
import logging

from mailcatch.models import Event

log = logging.getLogger("mailcatch.events")


class Subscription:
    """A bounded queue of events for one listener; it is dropped when it falls too far behind."""

    def __init__(self, bus: EventBus, max_pending: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(max_pending)
        self.dropped = False

    def _offer(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            self._bus.unsubscribe(self)
            self._queue = asyncio.Queue(1)
            self._queue.put_nowait(None)

    async def get(self) -> Event | None:
        """The next event, or None once this subscription was dropped or closed."""
        return await self._queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    """Fan-out of events to subscribers; publishing never waits on a subscriber."""

    def __init__(self, max_pending: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._max_pending = max_pending

    def subscribe(self) -> Subscription:
        subscription = Subscription(self, self._max_pending)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def publish(self, event: Event) -> None:
        """Hand the event to every subscriber; call it on the event loop's thread."""
        for subscription in list(self._subscribers):
            subscription._offer(event)
