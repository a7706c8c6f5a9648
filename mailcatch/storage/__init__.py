"""Storage, the only code that speaks SQL: the database and its writer thread, the store, the search index.

The rest of mailcatch types against `MessageStore` (see interface) and gets its store from
`create_store`: a second backend is a module beside store.py and a branch there.
"""

from __future__ import annotations

from mailcatch.events import EventBus
from mailcatch.storage.interface import MessageStore, StoredMessage, Usage
from mailcatch.storage.postgres.url import is_postgres_url, without_password

__all__ = ["MessageStore", "StoredMessage", "Usage", "create_store", "shown_database", "where_kept"]


def create_store(
    database: str | None, bus: EventBus, max_messages: int = 5000, *, x_tags: bool = True, plus_tags: bool = True
) -> MessageStore:
    """A store of messages in `database` (a SQLite file path, a postgresql:// URL; None: in memory), publishing
    on `bus`; call its `open()`.

    `x_tags` and `plus_tags` say whether new messages get tags from their X-Tags header and
    from plus-addressed recipients (--tags-disable).
    """
    # Each backend is imported only when chosen, so that using a store loads no other backend's driver.
    if is_postgres_url(database):
        assert database is not None
        from mailcatch.storage.postgres.connection import require_driver

        require_driver()  # StoreError naming the extra, before psycopg's import fails
        from mailcatch.storage.postgres.store import PostgresStore

        return PostgresStore(database, bus, max_messages, x_tags=x_tags, plus_tags=plus_tags)
    from mailcatch.storage.store import Store

    return Store(database, bus, max_messages, x_tags=x_tags, plus_tags=plus_tags)


def shown_database(database: str | None) -> str:
    """The --database value as mailcatch shows it: a PostgreSQL URL without its password ("" in memory)."""
    if not database:
        return ""
    return without_password(database) if is_postgres_url(database) else database


def where_kept(database: str | None) -> str:
    """Where messages are kept, for the log: in the file, in the PostgreSQL database, or in memory."""
    return f"in {shown_database(database)}" if database else "in memory"
