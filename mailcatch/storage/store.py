"""The SQLite message store: add, list, read, mark, tag and delete captured messages; publishes every change.

`Store` is the SQLite implementation of mailcatch.storage.interface.MessageStore. It keeps
the counts, the next seq and what the writer has stored in memory, and publishes each change
once it is committed; the SQL it runs is in reads, writes and tags (functions over a
connection), what it makes of rows in rows, and what it computes of a new message in prepare.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import math
import os
import secrets
import sqlite3
from collections.abc import Sequence

import mailcatch.storage.lookups as lookups
import mailcatch.storage.reads as reads
import mailcatch.storage.tags as tagging
import mailcatch.storage.writes as writes
from mailcatch.errors import MessageNotFound, StoreError
from mailcatch.events import EventBus
from mailcatch.logs import limit_repeats
from mailcatch.mail.tags import clean_tags
from mailcatch.models import Direction, Event, ReceivedEnvelope, SessionInfo, SessionLine, Transaction
from mailcatch.shapes import MessageSummary, TranscriptJSON
from mailcatch.storage.database import Database, file_uri, in_chunks, used_bytes
from mailcatch.storage.interface import StoredMessage, Usage, resolve_latest
from mailcatch.storage.prepare import Prepared, new_message_id, prepare_message
from mailcatch.storage.rows import lines_json, transcript_json, transcript_lines
from mailcatch.storage.scratch import make_scratch, remove_scratch
from mailcatch.storage.search import Searcher, SearchResult, Term, compile_terms
from mailcatch.storage.search.index import Added, Cleared, Deleted, SearchIndex
from mailcatch.storage.search.query import terms_of

__all__ = ["BIG_MESSAGE", "BULK_CHANGE", "MARK_CHUNK", "MEMORY_LIMIT", "PIECE_SIZE", "Store"]

log = limit_repeats(logging.getLogger("mailcatch.store"))

BIG_MESSAGE = 256 * 1024
"""Messages larger than this (in bytes) are parsed off the writer thread."""
PIECE_SIZE = 1024 * 1024
"""Messages larger than this are stored in pieces of this many bytes, each in a commit of its own."""
MEMORY_LIMIT = 1 << 30
"""An in-memory SQLite database can't grow past 1 GB: in memory, the store stays below
MEMORY_HIGH of it by dropping the oldest messages, down to MEMORY_LOW."""
MEMORY_HIGH = 0.8
MEMORY_LOW = 0.6
MARK_CHUNK = 500
"""Messages marked read or unread per commit."""
BULK_CHANGE = 200
"""A change to more messages than this is announced with one event, not one per message (a
`prune` for deletions, an `update` with ID "*" otherwise: clients fetch what they show
again); thousands of events at once would overflow every websocket client's backlog."""
PRUNE_CHUNK = 5000
"""Messages deleted per commit by --max-age pruning."""
SESSIONS_REMEMBERED = 1000
"""Sessions the writer remembers having stored, so that their later messages skip the row."""


class Store:
    """Captured messages in one SQLite database; publishes every change on the event bus (see MessageStore)."""

    def __init__(
        self,
        path: str | None,
        bus: EventBus,
        max_messages: int = 5000,
        *,
        x_tags: bool = True,
        plus_tags: bool = True,
    ) -> None:
        self.db = Database(path)
        self.bus = bus
        self.max_messages = max_messages
        self.x_tags = x_tags
        """Whether a new message's X-Tags header gives it tags (--tags-disable x-tags: no)."""
        self.plus_tags = plus_tags
        """Whether plus-addressed recipients give a new message tags (--tags-disable plus-addresses: no)."""
        self.total = 0
        self.unread = 0
        self.changes = 0
        """Counts changes other than new messages (deletions, read state, tags): a search's kept counts
        stay valid while it stays the same."""
        self._scratch: str | None = None
        """In memory: a private temporary directory for the search index, removed at close."""
        if path:
            index_path = f"{path}-search"
            index_uri = file_uri(index_path)
        else:
            # An in-memory SQLite database can't grow past 1 GB, and while it is written it
            # can't be read: a search index that size (the text of 5,000 messages of 100 KB
            # is enough) goes in a file, where it can grow and be searched while written.
            self._scratch = make_scratch()
            # Named, or ATTACH would open it with the in-memory store's VFS.
            index_path = os.path.join(self._scratch, "search.db")
            index_uri = file_uri(index_path) + ("?vfs=unix" if os.name == "posix" else "?vfs=win32")
        self.index = SearchIndex(index_path, index_uri, self.db.connect_readonly, reads.load_for_index)
        self.db.attached["search"] = self.index.uri
        self.db.after_commit = self.index.submit
        self.db.resync = self._resync
        self.searcher = Searcher(self.db, self.index, self)
        self._next_seq = 1
        """The seq the next stored message gets (writer thread only)."""
        self._sessions_stored: dict[str, None] = {}
        """Sessions whose row this process has written (writer thread only): later messages skip it."""
        self._unmeasured = 0
        """In memory: bytes of messages stored since the database's size was last measured."""
        self._pieces_in_flight: set[int] = set()
        """Owner keys of the big messages being stored: pieces written, row not yet (writer thread only).
        Delete-all keeps their pieces, or the row that comes next would name missing bytes."""

    def open(self) -> None:
        """Open (and migrate) the database and its search index; raises StoreError if it is unusable."""
        identity: list[str] = []

        def init(conn: sqlite3.Connection) -> None:
            self._count(conn)
            writes.forget_orphan_pieces(conn)
            identity.append(reads.identity(conn))

        self.db.open(init=init)
        try:
            self.index.open(identity[0], self._next_seq - 1)
        except sqlite3.Error as error:
            self.db.close()
            self._remove_scratch()
            raise StoreError(f"can't open the search index {self.index.uri}: {error}") from None

    async def flush_index(self) -> None:
        """Wait until every message stored so far is in the search index."""
        await self.index.flush()

    def close(self) -> None:
        """Commit everything queued, then close the database and the search index (blocks)."""
        self.db.close()
        self.index.close()
        self._remove_scratch()

    def _remove_scratch(self) -> None:
        if self._scratch is not None:
            remove_scratch(self._scratch)

    def _resync(self, conn: sqlite3.Connection) -> None:
        """After a failed batch: forget what the writer thought it had written, and count again."""
        self._sessions_stored.clear()
        self._count(conn)

    def _count(self, conn: sqlite3.Connection) -> None:
        """Count the messages and the unread, and find the next seq (writer thread)."""
        self.total, self.unread = reads.count_messages(conn)
        self._next_seq = reads.newest_seq(conn) + 1

    def stats(self) -> dict[str, int]:
        return {"Total": self.total, "Unread": self.unread}

    # Writing ----------------------------------------------------------
    async def add(self, raw: bytes, envelope: ReceivedEnvelope, tx: Transaction) -> MessageSummary:
        """Store a message durably and publish it; returns its summary once committed."""
        message_id = new_message_id()
        summary: MessageSummary
        pruned: bool
        if len(raw) <= BIG_MESSAGE:
            # Parsed right here on the event loop: doing it on the writer thread made the two
            # threads hand the interpreter lock back and forth, which cost more than the parse
            # itself (bench/compare.py, in memory: 1,043 msg/s instead of 916).
            ready = prepare_message(message_id, raw, envelope, tx, x_tags=self.x_tags, plus_tags=self.plus_tags)
            summary, pruned = await self.db.write_together(self._insert, ready)
        else:
            # Parsing a big message takes long: do it on another thread, so that neither the
            # event loop nor the writer makes smaller messages wait behind it; meanwhile its
            # bytes are written, in pieces when it is bigger still.
            parsing = asyncio.get_running_loop().run_in_executor(
                None,
                lambda: prepare_message(message_id, raw, envelope, tx, x_tags=self.x_tags, plus_tags=self.plus_tags),
            )
            owner = secrets.randbits(62) if len(raw) > PIECE_SIZE else None
            try:
                if owner is not None:
                    await self._store_pieces(owner, raw)
                big = await parsing
                big.pieces = owner
                summary, pruned = await self.db.write_together(self._insert, big)
            except BaseException:
                if owner is not None:
                    await self._forget_pieces(owner)
                raise
        self.bus.publish(Event("new", summary))
        if pruned:
            self.changes += 1
            self.bus.publish(Event("prune", None))
        return summary

    def _insert(self, conn: sqlite3.Connection, messages: list[Prepared]) -> list[tuple[MessageSummary, bool]]:
        """Insert messages that met in one group commit, a statement per table for all of them.

        Returns each one's summary, and whether older messages were pruned to make room.
        """
        first = self._next_seq
        seqs = range(first, first + len(messages))
        sessions = {m.tx.session.id: m.tx.session for m in messages if m.tx.session.id not in self._sessions_stored}
        writes.insert_messages(conn, seqs, messages, sessions.values())
        for message in messages:
            if message.pieces is not None:
                self._pieces_in_flight.discard(message.pieces)  # its row owns them now
        self._next_seq = first + len(messages)
        for session_id in sessions:
            self._sessions_stored[session_id] = None
        while len(self._sessions_stored) > SESSIONS_REMEMBERED:
            del self._sessions_stored[next(iter(self._sessions_stored))]
        for seq, message in zip(seqs, messages, strict=True):
            self.db.note(Added(seq, len(message.raw), message.fields))
        self.total += len(messages)
        self.unread += len(messages)
        pruned = bool(
            self.max_messages
            and self.total > self.max_messages
            and self._delete_oldest(conn, self.total - self.max_messages)
        )
        if self.db.path is None:
            self._unmeasured += sum(len(message.raw) for message in messages)
            pruned = self._make_room(conn) or pruned
        return [(message.summary, pruned) for message in messages]

    def _make_room(self, conn: sqlite3.Connection) -> bool:
        """In memory, drop the oldest messages before the database reaches MEMORY_LIMIT."""
        if self._unmeasured < MEMORY_LIMIT >> 8:  # measuring takes three statements: not for every message
            return False
        self._unmeasured = 0
        used = used_bytes(conn)
        if used < MEMORY_LIMIT * MEMORY_HIGH or self.total <= 1:
            return False
        count = max(1, math.ceil(self.total * (used - MEMORY_LIMIT * MEMORY_LOW) / used))
        dropped = self._delete_oldest(conn, min(count, self.total - 1))
        log.warning(
            "in memory, messages may take up to %d MB: dropped the %d oldest to make room (--database FILE keeps more)",
            MEMORY_LIMIT >> 20,
            len(dropped),
        )
        return bool(dropped)

    async def _store_pieces(self, owner: int, raw: bytes) -> None:
        """Write a message's bytes in pieces under the key `owner`, each in a commit of its own.

        Until the message's row is inserted (or its pieces forgotten), `owner` is in flight:
        delete-all leaves its pieces alone.
        """

        def store(conn: sqlite3.Connection, piece: bytes) -> None:
            self._pieces_in_flight.add(owner)
            writes.store_piece(conn, owner, piece)

        for start in range(0, len(raw), PIECE_SIZE):
            piece = raw[start : start + PIECE_SIZE]
            await self.db.write(lambda conn, piece=piece: store(conn, piece))

    async def _forget_pieces(self, owner: int) -> None:
        """Delete the pieces of a message that was not stored after all (at the latest, start-up does).

        Pieces that a stored row names stay: the row's insert may have been committed after all
        (its caller cancelled while it was queued).
        """

        def forget(conn: sqlite3.Connection) -> None:
            self._pieces_in_flight.discard(owner)  # even if the delete fails: delete-all may take them then
            writes.forget_pieces(conn, owner)

        with contextlib.suppress(StoreError):
            await self.db.write(forget)

    async def save_transcript_tail(self, session: SessionInfo, first_line: int, lines: list[SessionLine]) -> None:
        """Store the lines a session recorded after its last message (its closing replies)."""
        if not lines:
            return
        text = lines_json(lines)
        await self.db.write(lambda conn: writes.save_transcript_tail(conn, session.id, first_line, text))

    def _delete_where(self, conn: sqlite3.Connection, where: str, params: Sequence[object]) -> list[str]:
        """Delete the messages `where` selects (writer thread); returns their IDs."""
        rows = writes.delete_where(conn, where, params)
        if not rows:
            return []
        self._sessions_stored.clear()  # their rows may have gone with their messages
        self.total -= len(rows)
        self.unread -= sum(1 for row in rows if not row["read"])
        self.db.note(Deleted([row["seq"] for row in rows]))
        return [row["id"] for row in rows]

    def _delete_oldest(self, conn: sqlite3.Connection, count: int) -> list[str]:
        return self._delete_where(conn, "seq IN (SELECT seq FROM messages ORDER BY seq LIMIT ?)", (count,))

    async def delete(self, ids: Sequence[str] | None = None) -> list[str]:
        """Delete these messages (all when `ids` is None); returns the IDs that existed."""
        if ids is None:

            def delete_all(conn: sqlite3.Connection) -> list[str]:
                # Not the pieces of messages still being stored: their rows come after this.
                writes.delete_all(conn, self._pieces_in_flight)
                self._sessions_stored.clear()
                self.total = self.unread = 0
                self.db.note(Cleared())
                return []

            await self.db.write(delete_all)
            self.changes += 1
            self.bus.publish(Event("truncate", None))
            return []

        wanted = list(dict.fromkeys(ids))

        def delete_some(conn: sqlite3.Connection) -> list[str]:
            deleted: list[str] = []
            for marks, chunk in in_chunks(wanted):
                deleted += self._delete_where(conn, f"id IN ({marks})", chunk)
            return deleted

        deleted: list[str] = await self.db.write(delete_some)
        self.changes += 1
        self._publish_changes([Event("delete", {"ID": message_id}) for message_id in deleted], Event("prune", None))
        return deleted

    async def prune_older_than(self, cutoff: float) -> int:
        """Delete the messages received before `cutoff` (a Unix time), as --max-age does; returns how many.

        Done PRUNE_CHUNK messages to a commit, and published as one `prune`, as Mailpit does.
        """

        def prune(conn: sqlite3.Connection) -> int:
            where = "seq IN (SELECT seq FROM messages WHERE created < ? ORDER BY created LIMIT ?)"
            return len(self._delete_where(conn, where, (cutoff, PRUNE_CHUNK)))

        pruned = 0
        while True:
            done: int = await self.db.write(prune)
            pruned += done
            if done < PRUNE_CHUNK:
                break
        if pruned:
            self.changes += 1
            self.bus.publish(Event("prune", None))
        return pruned

    def _publish_changes(self, events: list[Event], bulk: Event) -> None:
        """Publish one event per changed message, or `bulk` instead when there are many (see BULK_CHANGE)."""
        for event in events if len(events) <= BULK_CHANGE else [bulk]:
            self.bus.publish(event)

    async def set_read(self, ids: Sequence[str] | None, read: bool) -> None:
        """Mark these messages (all when `ids` is None) read or unread.

        The work is done MARK_CHUNK messages to a commit, so that mail arriving meanwhile is
        not held up behind it; marking all stops at the newest message when it began.
        """
        newest: list[int] = []

        def mark_all(conn: sqlite3.Connection) -> list[str]:
            if not newest:
                newest.append(self._next_seq - 1)
            return counted(writes.mark_up_to(conn, read, newest[0], MARK_CHUNK))

        def counted(marked: list[str]) -> list[str]:
            self.unread += -len(marked) if read else len(marked)
            return marked

        changed: list[str] = []
        if ids is None:
            while True:
                done = await self.db.write(mark_all)
                changed += done
                self.changes += 1
                if len(done) < MARK_CHUNK:
                    break
        else:
            for marks, chunk in in_chunks(list(dict.fromkeys(ids)), MARK_CHUNK):
                changed += await self.db.write(
                    lambda conn, marks=marks, chunk=chunk: counted(writes.mark_ids(conn, read, marks, chunk))
                )
                self.changes += 1
        self._publish_changes(
            [Event("update", {"ID": message_id, "Read": read}) for message_id in changed], Event("update", {"ID": "*"})
        )

    # Tags -------------------------------------------------------------
    async def set_tags(self, ids: Sequence[str], tags: Sequence[str]) -> list[str]:
        """Replace the tags of these messages (an empty list removes them all); returns the IDs that exist."""
        wanted = list(dict.fromkeys(ids))
        new_tags = clean_tags(tags)
        changed: tagging.Retagged = await self.db.write(lambda conn: tagging.set_tags(conn, wanted, new_tags))
        self._retagged(changed)
        return [message_id for message_id, _ in changed]

    async def rename_tag(self, tag: str, name: str) -> int:
        """Rename a tag on every message that has it; returns how many messages changed."""
        changed: tagging.Retagged = await self.db.write(lambda conn: tagging.edit_tag(conn, tag, name))
        self._retagged(changed)
        return len(changed)

    async def delete_tag(self, tag: str) -> int:
        """Remove a tag from every message (the messages stay); returns how many messages changed."""
        changed: tagging.Retagged = await self.db.write(lambda conn: tagging.edit_tag(conn, tag, None))
        self._retagged(changed)
        return len(changed)

    def _retagged(self, changed: tagging.Retagged) -> None:
        self.changes += 1
        self._publish_changes(
            [Event("update", {"ID": message_id, "Tags": tags}) for message_id, tags in changed],
            Event("update", {"ID": "*"}),
        )

    async def all_tags(self) -> list[str]:
        """Every tag in use, sorted."""
        return await self.db.read(tagging.tags_in_use)

    async def tag_counts(self) -> dict[str, int]:
        """Each tag in use with its number of messages, by tag name."""
        return await self.db.read(tagging.tag_counts)

    # Reading ----------------------------------------------------------
    async def summaries(self, start: int = 0, limit: int = 50) -> tuple[list[MessageSummary], list[str]]:
        """Summaries, newest first, and every tag in use (one trip to a reader thread)."""
        return await self.db.read(lambda conn: reads.page_with_tags(conn, start, limit))

    async def get(self, message_id: str, *, raw: bool = True) -> StoredMessage:
        """One message by ID (or `latest`); MessageNotFound if there is no such message."""
        found = await self.db.read(lambda conn: reads.message(conn, message_id, raw))
        if found is None:
            raise MessageNotFound(f"message {message_id!r} not found")
        return found

    async def transcript(self, message_id: str) -> TranscriptJSON:
        """The SMTP dialogue of the session that delivered a message, with its own transaction marked."""
        message = await self.get(message_id, raw=False)

        def query(conn: sqlite3.Connection) -> tuple[sqlite3.Row | None, list[tuple[float, Direction, str]]]:
            session, chunks = reads.session_and_lines(conn, message.session_id)
            return session, transcript_lines(chunks)

        session, lines = await self.db.read(query)
        return transcript_json(message, session, lines)

    async def raw_page(self, terms: Sequence[Term], start: int, limit: int) -> tuple[int, list[StoredMessage]]:
        """How many messages match every term, and a page of them with their bytes, newest first (MailHog's listing)."""
        compiled = compile_terms(terms)
        if terms:
            await self.flush_index()
        return await self.db.read(lambda conn: reads.raw_page(conn, compiled, start, limit))

    async def usage(self) -> Usage:
        """The database's size (in a file, with its write-ahead log) and how many messages it has accepted."""
        size, accepted = await self.db.read(reads.usage)
        if self.db.path:
            size = sum(
                os.path.getsize(self.db.path + suffix)
                for suffix in ("", "-wal")
                if os.path.exists(self.db.path + suffix)
            )
        return Usage(size, accepted)

    # Searching --------------------------------------------------------
    async def search(
        self, query: str | Sequence[Term], start: int = 0, limit: int = 50, zone: datetime.tzinfo | None = None
    ) -> SearchResult:
        """One page of the messages matching a query, newest first, with the number matching and unread."""
        return await self.searcher.search(query, start, limit, zone)

    async def matching_ids(
        self, query: str | Sequence[Term], zone: datetime.tzinfo | None = None, limit: int | None = None
    ) -> list[str]:
        """IDs of the messages matching a query, newest first (at most `limit` of them)."""
        return await self.searcher.matching_ids(query, zone, limit)

    async def resolve_id(self, message_id: str, query: str | None) -> str:
        """A message ID as given, or for `latest` with a query, the newest match's (MessageNotFound if none)."""
        return await resolve_latest(message_id, query, self.matching_ids)

    async def matches(self, message_id: str, query: str) -> bool:
        """Whether this message matches a search (False if there is no such message)."""
        compiled = compile_terms(terms_of(query))
        await self.flush_index()
        return await self.db.read(lambda conn: lookups.message_matches(conn, message_id, compiled))

    async def has_message_id(self, message_id: str) -> bool:
        """Whether a stored message has this Message-ID header (without its angle brackets)."""
        return await self.db.read(lambda conn: lookups.has_message_id(conn, message_id))
