"""A Store opened in the test's own process, with no SMTP or HTTP server: messages added straight to it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from mailcatch.events import EventBus
from mailcatch.models import ReceivedEnvelope, SessionInfo, SessionLine, Transaction
from mailcatch.storage.search import Searcher, StoreState
from mailcatch.storage.store import Store

SESSION = SessionInfo("session-1", "127.0.0.1:40000", time.time(), "app.example")


@contextlib.contextmanager
def opened_store(path: str | None = None, max_messages: int = 5000) -> Iterator[Store]:
    """A Store in memory (or in the file `path`) with its search index, closed at the end."""
    store = Store(path, EventBus(), max_messages=max_messages)
    store.open()
    try:
        yield store
    finally:
        store.close()


def message(subject: str, body: str = "body", sender: str = "a@example.com", to: str = "b@example.com") -> bytes:
    """The bytes of a plain-text message."""
    return f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()


async def add(store: Store, subject: str, body: str = "body", sender: str = "a@example.com") -> str:
    """Store one message as if SMTP had delivered it; returns its ID."""
    now = time.time()
    envelope = ReceivedEnvelope(sender, [], ["b@example.com"], SESSION.peer, SESSION.helo, "", False, now)
    summary = await store.add(
        message(subject, body, sender), envelope, Transaction(SESSION, 0, 1, [SessionLine(now, "C", "DATA")])
    )
    return summary["ID"]


def searcher_over(store: Store, state: StoreState) -> Searcher:
    """A Searcher of the store's messages that reads the counters of `state` instead of the store's."""
    return Searcher(store.db, store.index, state)
