"""The message store: add, list, read, mark and delete captured messages in SQLite."""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
import os
import random
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailcatch import json_text
from mailcatch.errors import NotFound, StoreError
from mailcatch.events import EventBus
from mailcatch.mail.parse import Address, ParsedMessage, html_to_text, parse_message
from mailcatch.models import (
    Envelope,
    Event,
    SessionInfo,
    Transaction,
    TranscriptLine,
    rfc3339,
)
from mailcatch.storage.database import Database, file_uri, in_chunks, used_bytes
from mailcatch.storage.search import Searcher, SearchResult, Term
from mailcatch.storage.search.index import Added, Cleared, Deleted, Fields, SearchIndex
from mailcatch.mail.tags import with_plus_tags

log = logging.getLogger("mailcatch.store")

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_PAIRS = [first + second for second in _ID_ALPHABET for first in _ID_ALPHABET]
_SUMMARY_COLUMNS = "seq, id, created, read, tags, summary"
MAX_INDEXED_BODY = 512 * 1024
"""Characters of a message's text that search indexes; the rest of a giant body is not searchable."""
BIG_MESSAGE = 256 * 1024
"""Messages larger than this (in bytes) are parsed off the writer thread."""
FORGET_ORPHAN_PIECES = ("DELETE FROM message_pieces WHERE owner NOT IN"
                        " (SELECT pieces FROM message_data WHERE pieces IS NOT NULL)")
"""Run at start-up: deletes the pieces of a big message whose storing a crash cut short."""
PIECE_SIZE = 1024 * 1024
"""Messages larger than this are stored in pieces of this many bytes, each in a commit of its own."""
SCRATCH_PREFIX = "mailcatch-scratch-"
"""Name of the private temporary directories that hold the search index of an in-memory mailbox."""
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


_ID_RANDOM = random.Random()  # seeded from the operating system's randomness
os.register_at_fork(after_in_child=_ID_RANDOM.seed)  # a forked process must not repeat its parent's IDs


def new_message_id() -> str:
    """A random 22-character base62 ID, the shape of Mailpit's.

    IDs name messages, they don't grant access (the API's authentication does), so they come
    from a seeded generator rather than a system call per message.
    """
    number = _ID_RANDOM.getrandbits(128)
    pairs = []
    for _ in range(11):  # two base-62 digits at a time
        number, pair = divmod(number, 62 * 62)
        pairs.append(_ID_PAIRS[pair])
    return "".join(pairs)


def hidden_recipients(parsed: ParsedMessage, rcpt_to: Sequence[str]) -> list[Address]:
    """Envelope recipients that no To, Cc or Bcc header names: the message's Bcc."""
    shown = {a.address.lower() for a in (*parsed.to, *parsed.cc, *parsed.bcc)}
    hidden = []
    for recipient in rcpt_to:
        if recipient.lower() not in shown:
            shown.add(recipient.lower())
            hidden.append(Address("", recipient))
    return hidden


def _addresses(addresses: Sequence[Address]) -> list[dict[str, str]]:
    return [a.to_json() for a in addresses]


def _address_text(addresses: Sequence[Address]) -> str:
    return " ".join(f"{a.name} <{a.address}>" if a.name else a.address for a in addresses)


@dataclass(slots=True)
class StoredMessage:
    """A message as stored: its summary row, envelope, transaction and raw bytes."""

    seq: int
    id: str
    created: float
    read: bool
    tags: list[str]
    summary: dict[str, Any]
    envelope: Envelope
    session_id: str
    tx_start: int
    tx_end: int
    raw: bytes


@dataclass(slots=True)
class _Prepared:
    """A new message with what the writer thread computes for it before its transaction opens."""

    raw: bytes
    tx: Transaction
    summary: dict[str, Any]
    row: tuple[Any, ...]
    """Its `messages` row, without the seq."""
    fields: Callable[[], Fields]
    """The message's search fields, computed later by the index thread."""
    transcript: str
    tags: list[str]
    pieces: int | None = None
    """The owner key of its bytes in `message_pieces`, when it was stored in pieces."""


def summary_json(seq_row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    """The API summary of a `_SUMMARY_COLUMNS` row, in Mailpit's field order."""
    _, message_id, created, read, tags, summary = seq_row
    fixed = json_text.loads(summary) if isinstance(summary, str) else summary
    return {
        "ID": message_id,
        "MessageID": fixed["MessageID"],
        "Read": bool(read),
        "From": fixed["From"],
        "To": fixed["To"],
        "Cc": fixed["Cc"],
        "Bcc": fixed["Bcc"],
        "ReplyTo": fixed["ReplyTo"],
        "Subject": fixed["Subject"],
        "Created": rfc3339(created),
        "Username": fixed["Username"],
        "Tags": json_text.loads(tags) if isinstance(tags, str) else tags,
        "Size": fixed["Size"],
        "Attachments": fixed["Attachments"],
        "Snippet": fixed["Snippet"],
    }


class Store:
    """Captured messages in one SQLite database; publishes every change on the event bus."""

    def __init__(self, path: str | None, bus: EventBus, max_messages: int = 5000) -> None:
        self.db = Database(path)
        self.bus = bus
        self.max_messages = max_messages
        self.total = 0
        self.unread = 0
        self.changes = 0
        """Counts changes other than new messages (deletions, read state, tags): a search's kept counts
        stay valid while it stays the same."""
        self._scratch: str | None = None
        """In memory: a private temporary directory for the search index, removed at close."""
        if path:
            index_uri = self.db.sibling_uri("search")
        else:
            # An in-memory SQLite database can't grow past 1 GB, and while it is written it
            # can't be read: a search index that size (the text of 5,000 messages of 100 KB
            # is enough) goes in a file, where it can grow and be searched while written.
            self._scratch = _make_scratch()
            # Named, or ATTACH would open it with the in-memory store's VFS.
            index_uri = file_uri(os.path.join(self._scratch, "search.db")) + ("?vfs=unix" if os.name == "posix"
                                                                             else "?vfs=win32")
        self.index = SearchIndex(index_uri, self.db.connect_readonly, _load_for_index)
        self.db.attached["search"] = self.index.uri
        self.db.after_commit = self.index.submit
        self.db.resync = self._resync
        self.searcher = Searcher(self.db, self.index, self, summary_json)
        self._next_seq = 1
        """The seq the next stored message gets (writer thread only)."""
        self._sessions_stored: dict[str, None] = {}
        """Sessions whose row this process has written (writer thread only): later messages skip it."""
        self._unmeasured = 0
        """In memory: bytes of messages stored since the database's size was last measured."""

    def open(self) -> None:
        """Open (and migrate) the database and its search index; raises StoreError if it is unusable."""
        identity: list[str] = []

        def init(conn: sqlite3.Connection) -> None:
            self._count(conn)
            self._find_next_seq(conn)
            conn.execute(FORGET_ORPHAN_PIECES)
            identity.append(conn.execute("SELECT id FROM mailcatch_identity").fetchone()[0])

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
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _resync(self, conn: sqlite3.Connection) -> None:
        """After a failed batch: forget what the writer thought it had written, and count again."""
        self._sessions_stored.clear()
        self._count(conn)
        self._find_next_seq(conn)

    def _find_next_seq(self, conn: sqlite3.Connection) -> None:
        # Seqs are never reused, as AUTOINCREMENT promises, even after every message is deleted.
        self._next_seq = 1 + conn.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0),"
            " coalesce((SELECT max(seq) FROM messages), 0))").fetchone()[0]

    def _count(self, conn: sqlite3.Connection) -> None:
        self.total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        # Count whichever of the read and the unread are fewer (each has a partial index):
        # at a million messages, mostly unread, this takes 66 ms off the start-up.
        half = self.total // 2 + 1
        read = conn.execute("SELECT count(*) FROM (SELECT 1 FROM messages WHERE read = 1 LIMIT ?)", (half,)).fetchone()[0]
        self.unread = (self.total - read if read < half
                       else conn.execute("SELECT count(*) FROM messages WHERE read = 0").fetchone()[0])

    def stats(self) -> dict[str, int]:
        return {"Total": self.total, "Unread": self.unread}

    # Writing ----------------------------------------------------------
    async def add(self, raw: bytes, envelope: Envelope, tx: Transaction) -> dict[str, Any]:
        """Store a message durably and publish it; returns its summary once committed."""
        message_id = new_message_id()
        summary: dict[str, Any]
        pruned: bool
        if len(raw) <= BIG_MESSAGE:
            # Parsed right here on the event loop: doing it on the writer thread made the two
            # threads hand the interpreter lock back and forth, which cost more than the parse
            # itself (bench/compare.py, in memory: 1,043 msg/s instead of 916).
            ready = _prepare_message(message_id, raw, envelope, tx)
            summary, pruned = await self.db.write_together(self._insert, ready)
        else:
            # Parsing a big message takes long: do it on another thread, so that neither the
            # event loop nor the writer makes smaller messages wait behind it; meanwhile its
            # bytes are written, in pieces when it is bigger still.
            parsing = asyncio.get_running_loop().run_in_executor(
                None, _prepare_message, message_id, raw, envelope, tx)
            owner = None
            try:
                if len(raw) > PIECE_SIZE:
                    owner = await self._store_pieces(raw)
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

    def _insert(self, conn: sqlite3.Connection, messages: list[_Prepared]) -> list[tuple[dict[str, Any], bool]]:
        """Insert messages that met in one group commit, a statement per table for all of them.

        Returns each one's summary, and whether older messages were pruned to make room.
        """
        first = self._next_seq
        seqs = range(first, first + len(messages))
        _insert_rows(conn, "messages (seq, id, created, size, attachments, subject, message_id, sender, tags,"
                     " summary, envelope, session_id, tx_start, tx_end)",
                     [(seq, *m.row) for seq, m in zip(seqs, messages)])
        _insert_rows(conn, "message_data (seq, raw, pieces)",
                     [(seq, m.raw if m.pieces is None else b"", m.pieces) for seq, m in zip(seqs, messages)])
        tags = [(seq, tag) for seq, m in zip(seqs, messages) for tag in m.tags]
        if tags:
            _insert_rows(conn, "message_tags (seq, tag)", tags, "OR IGNORE")
        sessions = {m.tx.session.id: m.tx.session for m in messages if m.tx.session.id not in self._sessions_stored}
        if sessions:
            _insert_rows(conn, "sessions (id, peer, started)",
                         [(session.id, session.peer, session.started) for session in sessions.values()], "OR IGNORE")
        _insert_rows(conn, "transcript_chunks (session_id, first_line, lines)",
                     [(m.tx.session.id, m.tx.first_line, m.transcript) for m in messages], "OR REPLACE")
        self._next_seq = first + len(messages)
        for session_id in sessions:
            self._sessions_stored[session_id] = None
        while len(self._sessions_stored) > 1000:
            del self._sessions_stored[next(iter(self._sessions_stored))]
        for seq, message in zip(seqs, messages):
            self.db.note(Added(seq, len(message.raw), message.fields))
        self.total += len(messages)
        self.unread += len(messages)
        pruned = bool(self.max_messages and self.total > self.max_messages
                      and self._delete_oldest(conn, self.total - self.max_messages))
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
        log.warning("in memory, messages may take up to %d MB: dropped the %d oldest to make room"
                    " (--database FILE keeps more)", MEMORY_LIMIT >> 20, len(dropped))
        return bool(dropped)

    async def _store_pieces(self, raw: bytes) -> int:
        """Write a message's bytes in pieces, each in a commit of its own; returns the key that owns them."""
        owner = secrets.randbits(62)
        for start in range(0, len(raw), PIECE_SIZE):
            piece = raw[start:start + PIECE_SIZE]
            await self.db.write(lambda conn, piece=piece: conn.execute(
                "INSERT INTO message_pieces (owner, data) VALUES (?, ?)", (owner, piece)))
        return owner

    async def _forget_pieces(self, owner: int) -> None:
        """Delete the pieces of a message that was not stored after all (at the latest, start-up does)."""
        try:
            await self.db.write(lambda conn: conn.execute("DELETE FROM message_pieces WHERE owner = ?", (owner,)))
        except StoreError:
            pass

    async def save_transcript_tail(self, session: SessionInfo, first_line: int, lines: list[TranscriptLine]) -> None:
        """Store the lines a session recorded after its last message (its closing replies)."""
        if not lines:
            return
        text = _lines_json(lines)

        def save(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO transcript_chunks (session_id, first_line, lines)"
                " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?)",
                (session.id, first_line, text, session.id),
            )

        await self.db.write(save)

    def _delete_where(self, conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[str]:
        rows = conn.execute(f"SELECT seq, id, read, session_id FROM messages WHERE {where}", params).fetchall()
        if not rows:
            return []
        seqs = [(row[0],) for row in rows]
        conn.executemany("DELETE FROM message_pieces WHERE owner = (SELECT pieces FROM message_data WHERE seq = ?)",
                         seqs)
        conn.executemany("DELETE FROM message_data WHERE seq = ?", seqs)
        conn.executemany("DELETE FROM message_tags WHERE seq = ?", seqs)
        conn.executemany("DELETE FROM messages WHERE seq = ?", seqs)
        sessions = {(row[3],) for row in rows}
        self._sessions_stored.clear()  # their rows may go with their messages
        conn.executemany(
            "DELETE FROM sessions WHERE id = ? AND NOT EXISTS (SELECT 1 FROM messages WHERE session_id = sessions.id)",
            sessions,
        )
        self.total -= len(rows)
        self.unread -= sum(1 for row in rows if not row[2])
        self.db.note(Deleted([row[0] for row in rows]))
        return [row[1] for row in rows]

    def _delete_oldest(self, conn: sqlite3.Connection, count: int) -> list[str]:
        return self._delete_where(conn, "seq IN (SELECT seq FROM messages ORDER BY seq LIMIT ?)", (count,))

    async def delete(self, ids: Sequence[str] | None = None) -> list[str]:
        """Delete these messages (all when `ids` is None); returns the IDs that existed."""
        if ids is None:
            def delete_all(conn: sqlite3.Connection) -> list[str]:
                for table in ("message_tags", "message_pieces", "message_data", "transcript_chunks", "sessions",
                              "messages"):
                    conn.execute(f"DELETE FROM {table}")
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
        self.publish_changes([Event("delete", {"ID": message_id}) for message_id in deleted], Event("prune", None))
        return deleted

    def publish_changes(self, events: list[Event], bulk: Event) -> None:
        """Publish one event per changed message, or `bulk` instead when there are many (see BULK_CHANGE)."""
        for event in events if len(events) <= BULK_CHANGE else [bulk]:
            self.bus.publish(event)

    async def set_read(self, ids: Sequence[str] | None, read: bool) -> None:
        """Mark these messages (all when `ids` is None) read or unread.

        The work is done MARK_CHUNK messages to a commit, so that mail arriving meanwhile is
        not held up behind it; marking all stops at the newest message when it began.
        """
        flag = 1 if read else 0
        newest: list[int] = []

        def mark_all(conn: sqlite3.Connection) -> list[str]:
            if not newest:
                newest.append(self._next_seq - 1)
            # The literal read value lets SQLite find the messages through a partial index.
            return mark(conn, f"seq IN (SELECT seq FROM messages WHERE read = {1 - flag} AND seq <= ? LIMIT ?)",
                        [newest[0], MARK_CHUNK])

        def mark(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[str]:
            rows = conn.execute(f"UPDATE messages SET read = ? WHERE read != ? AND {where} RETURNING id",
                                (flag, flag, *params)).fetchall()
            self.unread += -len(rows) if read else len(rows)
            return [row[0] for row in rows]

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
                changed += await self.db.write(lambda conn, marks=marks, chunk=chunk: mark(conn, f"id IN ({marks})", chunk))
                self.changes += 1
        self.publish_changes([Event("update", {"ID": message_id, "Read": read}) for message_id in changed],
                             Event("update", {"ID": "*"}))

    # Reading ----------------------------------------------------------
    async def summaries(self, start: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], list[str]]:
        """Summaries, newest first, and every tag in use (one trip to a reader thread)."""
        def query(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], list[str]]:
            rows = conn.execute(f"SELECT {_SUMMARY_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ? OFFSET ?",
                                (limit, start)).fetchall()
            return [summary_json(row) for row in rows], tags_in_use(conn)

        return await self.db.read(query)

    async def all_tags(self) -> list[str]:
        """Every tag in use, sorted."""
        return await self.db.read(tags_in_use)

    async def get(self, message_id: str, *, raw: bool = True) -> StoredMessage:
        """One message by ID (or `latest`); NotFound if there is no such message."""
        def query(conn: sqlite3.Connection) -> StoredMessage:
            where = "seq = (SELECT max(seq) FROM messages)" if message_id == "latest" else "id = ?"
            params = () if message_id == "latest" else (message_id,)
            row = conn.execute(
                f"SELECT {_SUMMARY_COLUMNS}, envelope, session_id, tx_start, tx_end FROM messages WHERE {where}",
                params).fetchone()
            if row is None:
                raise NotFound(f"message {message_id!r} not found")
            data = raw_bytes(conn, row[0]) if raw else b""
            return StoredMessage(
                seq=row[0], id=row[1], created=row[2], read=bool(row[3]), tags=json_text.loads(row[4]),
                summary=summary_json(row[:6]), envelope=Envelope.from_json(json_text.loads(row[6]), row[2]),
                session_id=row[7], tx_start=row[8], tx_end=row[9], raw=data,
            )

        return await self.db.read(query)

    async def transcript(self, message_id: str) -> dict[str, Any]:
        """The SMTP dialogue of the session that delivered a message, with its own transaction marked."""
        message = await self.get(message_id, raw=False)

        def query(conn: sqlite3.Connection) -> tuple[Any, list[Any]]:
            session = conn.execute("SELECT id, peer, started FROM sessions WHERE id = ?",
                                   (message.session_id,)).fetchone()
            chunks = conn.execute("SELECT lines FROM transcript_chunks WHERE session_id = ? ORDER BY first_line",
                                  (message.session_id,)).fetchall()
            return session, [line for (chunk,) in chunks for line in json_text.loads(chunk)]

        session, lines = await self.db.read(query)
        envelope = message.envelope
        return {
            "ID": message.id,
            "Session": {
                "ID": message.session_id,
                "Peer": session[1] if session else envelope.peer,
                "Helo": envelope.helo,
                "TLS": envelope.tls,
                "Username": envelope.username,
                "Started": rfc3339(session[2] if session else message.created),
            },
            "Envelope": {"From": envelope.mail_from, "To": envelope.rcpt_to},
            "Transaction": {"Start": message.tx_start, "End": min(message.tx_end, len(lines))},
            "Lines": [{"Time": rfc3339(t), "Dir": d, "Text": text} for t, d, text in lines],
        }

    # Searching --------------------------------------------------------
    async def search(self, query: str | Sequence[Term], start: int = 0, limit: int = 50,
                     zone: datetime.tzinfo | None = None) -> SearchResult:
        """One page of the messages matching a query, newest first, with the number matching and unread."""
        return await self.searcher.search(query, start, limit, zone)

    async def matching_ids(self, query: str | Sequence[Term], zone: datetime.tzinfo | None = None,
                           limit: int | None = None) -> list[str]:
        """IDs of the messages matching a query, newest first (at most `limit` of them)."""
        return await self.searcher.matching_ids(query, zone, limit)

    async def resolve_id(self, message_id: str, query: str | None) -> str:
        """A message ID as given, or for `latest` with a query, the newest match's (MessageNotFound if none)."""
        return await self.searcher.resolve_id(message_id, query)


_TAGS_IN_USE = """
WITH RECURSIVE found(tag) AS (
    SELECT min(tag) FROM message_tags
    UNION ALL
    SELECT (SELECT min(tag) FROM message_tags WHERE tag > found.tag) FROM found WHERE found.tag IS NOT NULL
)
SELECT tag FROM found WHERE tag IS NOT NULL
"""


def _make_scratch() -> str:
    """A new private temporary directory, marked with this process's ID; removes those of killed catchers."""
    try:
        folder = tempfile.mkdtemp(prefix=SCRATCH_PREFIX)
        Path(folder, "pid").write_text(str(os.getpid()))
    except OSError as error:
        raise StoreError(f"can't create a temporary directory for the search index ({error}); point TMPDIR"
                         " at a writable directory, or keep messages in a file with --database") from None
    forget_orphan_scratch()
    return folder


def forget_orphan_scratch() -> None:
    """Remove the temporary directories of in-memory catchers that were killed before they could."""
    for folder in Path(tempfile.gettempdir()).glob(SCRATCH_PREFIX + "*"):
        try:
            pid = int((folder / "pid").read_text())
            os.kill(pid, 0)
        except ProcessLookupError:  # its catcher is gone
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):  # not one of ours, not ours to remove, or its catcher still runs
            continue


def tags_in_use(conn: sqlite3.Connection) -> list[str]:
    """Every tag in use, sorted; one index seek per tag, however many messages carry it."""
    return [row[0] for row in conn.execute(_TAGS_IN_USE)]


def _prepare_message(message_id: str, raw: bytes, envelope: Envelope, tx: Transaction) -> _Prepared:
    """Parse a new message and compute its rows (no database work)."""
    parsed = parse_message(raw, measure_parts=False)
    parsed.tags = with_plus_tags(parsed.tags, [*envelope.rcpt_to, *(a.address for a in (*parsed.to, *parsed.cc))])
    bcc = parsed.bcc + hidden_recipients(parsed, envelope.rcpt_to)
    from_json = parsed.from_.to_json() if parsed.from_ else None
    attachments = len(parsed.attachments)
    summary_fixed = {
        "MessageID": parsed.message_id,
        "From": from_json,
        "To": _addresses(parsed.to),
        "Cc": _addresses(parsed.cc),
        "Bcc": _addresses(bcc),
        "ReplyTo": _addresses(parsed.reply_to),
        "Subject": parsed.subject,
        "Username": envelope.username,
        "Size": len(raw),
        "Attachments": attachments,
        "Snippet": parsed.snippet,
    }
    tags = json_text.dumps(parsed.tags)
    fixed_text = json_text.dumps(summary_fixed)
    row = (
        message_id, envelope.received, len(raw), attachments, parsed.subject, parsed.message_id,
        (parsed.from_.address if parsed.from_ else envelope.mail_from).lower(), tags, fixed_text,
        json_text.dumps(envelope.to_json()), tx.session.id, tx.start, tx.end,
    )
    summary = summary_json((0, message_id, envelope.received, 0, parsed.tags, summary_fixed))
    return _Prepared(raw, tx, summary, row, lambda: _search_fields(parsed, envelope, bcc), _lines_json(tx.lines),
                     parsed.tags)


def _insert_rows(conn: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]], conflict: str = "") -> None:
    """One INSERT of many rows: `table` is "name (column, ...)"."""
    marks = "(" + ",".join("?" * len(rows[0])) + ")"
    conn.execute(f"INSERT {conflict} INTO {table} VALUES {','.join([marks] * len(rows))}",
                 [value for row in rows for value in row])


def _load_for_index(conn: sqlite3.Connection, after: int, before: int, limit: int) -> list[tuple[int, Fields]]:
    """Search fields of the stored messages with `after` < seq < `before`, in order (at most `limit`)."""
    rows = conn.execute("SELECT seq, envelope, created FROM messages WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?",
                        (after, before, limit)).fetchall()
    return [(seq, _search_fields(parse_message(raw_bytes(conn, seq), measure_parts=False),
                                 Envelope.from_json(json_text.loads(envelope), created)))
            for seq, envelope, created in rows]


def raw_bytes(conn: sqlite3.Connection, seq: int) -> bytes:
    """A stored message's bytes exactly as received (b"" if there is no such message)."""
    row = conn.execute("SELECT raw, pieces FROM message_data WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return b""
    if row[1] is None:
        return bytes(row[0])
    return b"".join(piece for (piece,) in conn.execute(
        "SELECT data FROM message_pieces WHERE owner = ? ORDER BY id", (row[1],)))


def _search_fields(parsed: ParsedMessage, envelope: Envelope, bcc: list[Address] | None = None) -> Fields:
    """The text a message is found by: subject, sender, recipients, bodies (HTML as text), file names."""
    if bcc is None:
        bcc = parsed.bcc + hidden_recipients(parsed, envelope.rcpt_to)
    sender = _address_text([parsed.from_]) if parsed.from_ else envelope.mail_from
    body = parsed.text + "\n" + html_to_text(parsed.html) if parsed.html else parsed.text
    return (
        parsed.subject,
        sender,
        _address_text([*parsed.to, *parsed.cc, *bcc]),
        body[:MAX_INDEXED_BODY],
        " ".join(p.filename for p in (*parsed.attachments, *parsed.inline) if p.filename),
    )


def _lines_json(lines: list[TranscriptLine]) -> str:
    return json_text.dumps([(line.time, line.dir, line.text) for line in lines])

