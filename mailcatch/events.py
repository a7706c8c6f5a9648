"""In-process publish/subscribe: the store publishes changes, the websocket hub and other listeners receive them."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from mailcatch.models import Event

log = logging.getLogger("mailcatch.events")

T = TypeVar("T")


class Backlog(Generic[T]):
    """A bounded backlog for one consumer; offering never waits, and a consumer that falls too far behind is dropped.

    Items offered while the consumer is busy pile up and are taken together, so a burst
    of changes published in one turn of the loop wakes the consumer once, not once each.
    """

    def __init__(self, max_pending: int, on_drop: Callable[[Backlog[T]], None] | None = None) -> None:
        self._items: deque[T] = deque()
        self._max_pending = max_pending
        self._on_drop = on_drop
        self._waiter: asyncio.Future[None] | None = None
        self.dropped = False
        self.closed = False

    def offer(self, item: T) -> None:
        """Add an item; if `max_pending` are already waiting, drop the consumer instead."""
        if self.closed:
            return
        if len(self._items) >= self._max_pending:
            self.dropped = True
            self._items.clear()
            self.close()
            if self._on_drop is not None:
                self._on_drop(self)
            return
        self._items.append(item)
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self) -> list[T]:
        """Everything pending, waiting for at least one item; an empty list once dropped or closed."""
        while not self._items:
            if self.closed:
                return []
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        items = list(self._items)
        self._items.clear()
        return items

    def close(self) -> None:
        """No more items: a waiting `take` returns an empty list."""
        self.closed = True
        self._wake()


class Subscription(Backlog[Event]):
    """A bus subscriber's bounded backlog of events; the bus forgets it once it is dropped or closed."""

    def __init__(self, bus: EventBus, max_pending: int) -> None:
        super().__init__(max_pending)
        self._bus = bus

    async def get(self) -> Event | None:
        """The next event, or None once this subscription was dropped or closed."""
        while not self._items:
            if self.closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._items.popleft()

    def close(self) -> None:
        super().close()
        self._bus.unsubscribe(self)


class EventBus:
    """Fan-out of events to subscribers and listeners; publishing never waits on any of them."""

    def __init__(self, max_pending: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._listeners: list[Callable[[Event], None]] = []
        self._max_pending = max_pending

    @property
    def max_pending(self) -> int:
        """How many events a subscriber may fall behind before it is dropped."""
        return self._max_pending

    def subscribe(self) -> Subscription:
        subscription = Subscription(self, self._max_pending)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def listen(self, listener: Callable[[Event], None]) -> None:
        """Call `listener(event)` for every event, on the loop's thread; it must not block."""
        self._listeners.append(listener)

    def publish(self, event: Event) -> None:
        """Hand the event to every listener and subscriber; call it on the event loop's thread."""
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on a %s event", event.type)
        if self._subscribers:
            for subscription in list(self._subscribers):
                subscription.offer(event)
