"""Storage, the only code that speaks SQL: the database and its writer thread, the store, the search index.

The rest of mailcatch types against `MessageStore` (see interface) and gets its store from
`create_store`: a second backend is a module beside store.py and a branch there.
"""

from __future__ import annotations

from mailcatch.events import EventBus
from mailcatch.storage.interface import MessageStore, StoredMessage, Usage

__all__ = ["MessageStore", "StoredMessage", "Usage", "create_store"]


def create_store(
    database: str | None, bus: EventBus, max_messages: int = 5000, *, x_tags: bool = True, plus_tags: bool = True
) -> MessageStore:
    """A store of messages in `database` (a file path; None: in memory), publishing on `bus`; call its `open()`.

    `x_tags` and `plus_tags` say whether new messages get tags from their X-Tags header and
    from plus-addressed recipients (--tags-disable).
    """
    # Each backend is imported only when chosen, so that using a store loads no other backend's driver.
    from mailcatch.storage.store import Store

    return Store(database, bus, max_messages, x_tags=x_tags, plus_tags=plus_tags)
