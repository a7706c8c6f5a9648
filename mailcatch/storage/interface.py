"""What the SMTP and web sides may ask of a message store: the one interface every storage backend implements.

The SQLite store (mailcatch.storage.store) is today's only backend; mailcatch.storage.create_store
picks the backend, so that another one (PostgreSQL) is a module of its own plus a branch there,
and the code that uses a store, typed against `MessageStore`, stays as it is.

Every change a store makes is published on its event bus (`new`, `update`, `delete`,
`truncate`, `prune`), after it is durable.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from mailcatch.errors import MessageNotFound

if TYPE_CHECKING:  # types only: the search package's modules import storage's
    from mailcatch.events import EventBus
    from mailcatch.models import ReceivedEnvelope, SessionInfo, SessionLine, Transaction
    from mailcatch.shapes import MessageSummary, TranscriptJSON
    from mailcatch.storage.search import SearchResult, Term

__all__ = ["MessageStore", "StoredMessage", "Usage", "resolve_latest"]


@dataclass(slots=True)
class StoredMessage:
    """A message as stored: its summary, envelope, place in its session's transcript, and raw bytes."""

    seq: int
    """Its position in the order of arrival (never reused)."""
    id: str
    created: float
    read: bool
    tags: list[str]
    summary: MessageSummary
    envelope: ReceivedEnvelope
    session_id: str
    tx_start: int
    tx_end: int
    raw: bytes
    """Exactly as received; b"" when it was not asked for."""


@dataclass(frozen=True, slots=True)
class Usage:
    """What a store takes up, for GET /api/v1/info."""

    size: int
    """Bytes of storage in use."""
    accepted: int
    """Messages stored since the store was created, deleted ones included."""


class MessageStore(Protocol):
    """Captured messages: stored, listed, searched, marked, tagged and deleted; every change published on `bus`.

    Reading one message (`get`, `transcript`, `resolve_id`) that isn't there raises
    mailcatch.errors.MessageNotFound (changes to messages that aren't there change nothing); a
    query that can't be searched for, mailcatch.errors.QueryError; a store that can't be read
    or written, mailcatch.errors.StoreError.
    """

    @property
    def bus(self) -> EventBus:
        """Where the store publishes its changes."""

    @property
    def total(self) -> int:
        """Messages stored now."""

    @property
    def unread(self) -> int:
        """Messages stored now and not read."""

    @property
    def max_messages(self) -> int:
        """The newest this many are kept (0: no limit): storing one more prunes the oldest, published as `prune`."""

    # Life cycle
    def open(self) -> None:
        """Open (and migrate) the storage; raises StoreError if it is unusable."""

    def close(self) -> None:
        """Finish every write accepted so far, then close (blocks)."""

    async def flush_index(self) -> None:
        """Wait until every message stored so far can be found by a search."""

    # Writing
    async def add(self, raw: bytes, envelope: ReceivedEnvelope, tx: Transaction) -> MessageSummary:
        """Store a message durably (pruning the oldest past `max_messages`) and publish it as `new`."""

    async def save_transcript_tail(self, session: SessionInfo, first_line: int, lines: list[SessionLine]) -> None:
        """Store the lines a session recorded after its last message (its closing replies)."""

    async def set_read(self, ids: Sequence[str] | None, read: bool) -> None:
        """Mark these messages (all when `ids` is None) read or unread."""

    async def delete(self, ids: Sequence[str] | None = None) -> list[str]:
        """Delete these messages (all when `ids` is None); returns the IDs that existed."""

    async def set_tags(self, ids: Sequence[str], tags: Sequence[str]) -> list[str]:
        """Replace the tags of these messages (an empty list removes them all); returns the IDs that exist."""

    async def rename_tag(self, tag: str, name: str) -> int:
        """Rename a tag on every message that has it; returns how many messages changed."""

    async def delete_tag(self, tag: str) -> int:
        """Remove a tag from every message (the messages stay); returns how many messages changed."""

    # Reading
    def stats(self) -> dict[str, int]:
        """`{Total, Unread}`, as the websocket's `stats` event sends it."""

    async def summaries(self, start: int = 0, limit: int = 50) -> tuple[list[MessageSummary], list[str]]:
        """A page of summaries, newest first, and every tag in use."""

    async def get(self, message_id: str, *, raw: bool = True) -> StoredMessage:
        """One message by ID (or `latest`), with its bytes unless `raw` is False."""

    async def transcript(self, message_id: str) -> TranscriptJSON:
        """The SMTP dialogue of the session that delivered a message, with its own transaction marked."""

    async def all_tags(self) -> list[str]:
        """Every tag in use, sorted."""

    async def tag_counts(self) -> dict[str, int]:
        """Each tag in use with its number of messages, by tag name."""

    async def usage(self) -> Usage:
        """The storage's size and how many messages it has accepted."""

    async def raw_page(self, terms: Sequence[Term], start: int, limit: int) -> tuple[int, list[StoredMessage]]:
        """How many messages match every term, and a page of them with their bytes, newest first (MailHog's listing)."""

    # Searching
    async def search(
        self, query: str | Sequence[Term], start: int = 0, limit: int = 50, zone: datetime.tzinfo | None = None
    ) -> SearchResult:
        """A page of the messages matching a query, newest first, with the number matching and unread."""

    async def matching_ids(
        self, query: str | Sequence[Term], zone: datetime.tzinfo | None = None, limit: int | None = None
    ) -> list[str]:
        """IDs of the messages matching a query, newest first (at most `limit` of them)."""

    async def resolve_id(self, message_id: str, query: str | None) -> str:
        """A message ID as given, or for `latest` with a query, the ID of the newest match."""

    async def matches(self, message_id: str, query: str) -> bool:
        """Whether this message matches a search (False if there is no such message)."""

    # Options of the SMTP side
    async def has_message_id(self, message_id: str) -> bool:
        """Whether a stored message has this Message-ID header (without its angle brackets)."""

    async def prune_older_than(self, cutoff: float) -> int:
        """Delete the messages received before `cutoff` (a Unix time), published as one `prune`; returns how many."""


async def resolve_latest(message_id: str, query: str | None, matching_ids: Callable[..., Awaitable[list[str]]]) -> str:
    """What every store's resolve_id answers: the ID as given, or for `latest` with a query the ID of the
    newest match, found with the store's `matching_ids` (MessageNotFound if nothing matches)."""
    if message_id != "latest" or not query or not query.strip():
        return message_id
    found = await matching_ids(query, limit=1)
    if not found:
        raise MessageNotFound(f"no message matches {query!r}")
    return found[0]
