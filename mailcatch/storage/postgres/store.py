"""The PostgreSQL message store: add, list, read, mark, tag and delete captured messages; publishes every change.

`PostgresStore` implements mailcatch.storage.interface.MessageStore on a PostgreSQL database
through psycopg 3's async connections (a pool of them). A new message is parsed and its
rows computed by the SQLite store's own code (mailcatch.storage.prepare) and read back by its
rows module, so both backends keep and answer exactly the same; each message is committed
in a transaction of its own before `add` returns (and SMTP answers 250).

The counts (`total`, `unread`) are counted at start and kept up to date by this catcher's
changes and by the other replicas' (mailcatch.storage.postgres.notify): every change is
announced with NOTIFY in its own transaction, and each replica LISTENs, republishes the
others' changes on its bus and counts again once they settle. Search is mailcatch.storage.postgres.search: the same answers, through trigram indexes.

When PostgreSQL can't be reached (stopped, restarting, the network gone), a request fails in
seconds, not at the end of a long wait: it waits POOL_WAIT for a connection at most, then one
connection of its own tells an outage from a connection lost alone. In an outage every request
fails at once with DatabaseUnreachable naming the database (SMTP 451, HTTP 503, /readyz 503),
but one every PROBE_EVERY tries to connect, as the listener does on its own: the first that
succeeds ends the outage. Its start and its end are logged once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Sequence
from typing import Any

import psycopg_pool
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

import mailcatch.storage.postgres.tags as tagging
from mailcatch.errors import DatabaseUnreachable, MessageNotFound, StoreError
from mailcatch.events import EventBus
from mailcatch.mail.tags import clean_tags
from mailcatch.models import Event, ReceivedEnvelope, SessionInfo, SessionLine, Transaction
from mailcatch.shapes import MessageSummary, TranscriptJSON
from mailcatch.storage.interface import StoredMessage, Usage, resolve_latest
from mailcatch.storage.postgres.connection import (
    POOL_WAIT,
    connect,
    connect_async,
    lost_touch,
    make_pool,
    require_driver,
    why_unreachable,
)
from mailcatch.storage.postgres.migrate import PRUNE_LOCK, migrate
from mailcatch.storage.postgres.notify import Listener, announce, payloads
from mailcatch.storage.postgres.search import SEARCH_COLUMNS, search_row, where_of
from mailcatch.storage.postgres.url import without_password
from mailcatch.storage.prepare import ROW_COLUMNS, Prepared, new_message_id, prepare_message
from mailcatch.storage.rows import (
    MESSAGE_COLUMNS,
    SUMMARY_COLUMNS,
    lines_json,
    stored_message,
    summary_json,
    transcript_json,
    transcript_lines,
)
from mailcatch.storage.search import SearchResult, Term
from mailcatch.storage.search.query import terms_of

__all__ = ["BIG_MESSAGE", "BULK_CHANGE", "PROBE_EVERY", "PostgresStore"]

log = logging.getLogger("mailcatch.postgres")

BIG_MESSAGE = 256 * 1024
"""Messages larger than this (in bytes) are parsed on a worker thread, not on the event loop (as on SQLite)."""
BULK_CHANGE = 200
"""A change to more messages than this is announced with one event, as the SQLite store does."""
PROBE_EVERY = 0.5
"""While PostgreSQL can't be reached, a request tries to connect at most this often; the others fail at once."""
_MATCHED = ", ".join(f"m.{column.strip()}" for column in MESSAGE_COLUMNS.split(","))
_FROM_MATCHED = "messages m JOIN message_search s ON s.seq = m.seq"


def _text(value: Any) -> Any:
    """A value PostgreSQL's text takes: no NUL characters (SQLite keeps them; JSON text escapes them)."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


class PostgresStore:
    """Captured messages in one PostgreSQL database; publishes every change on the event bus (see MessageStore)."""

    def __init__(
        self, url: str, bus: EventBus, max_messages: int = 5000, *, x_tags: bool = True, plus_tags: bool = True
    ) -> None:
        require_driver()
        self.url = url
        self.bus = bus
        self.max_messages = max_messages
        self.x_tags = x_tags
        self.plus_tags = plus_tags
        self.total = 0
        self.unread = 0
        self._pool: AsyncConnectionPool | None = None
        self._pool_opening: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener: Listener | None = None
        """Hears the other replicas' changes (started on the event loop)."""
        self._down: str | None = None
        """Why PostgreSQL can't be reached, during an outage; None while it can."""
        self._down_since = 0.0
        self._tried = 0.0
        """When (time.monotonic) a connection was last tried and failed."""
        self._trying: asyncio.Lock | None = None
        self._checking: asyncio.Task[None] | None = None
        """Once an outage ends: the pool's idle connections (made before it) checked, and the dead replaced."""

    def __repr__(self) -> str:
        return f"PostgresStore({without_password(self.url)!r})"

    # Life cycle -------------------------------------------------------
    def open(self) -> None:
        """Connect, apply the migrations this database lacks and count its messages; StoreError saying why not."""
        conn = connect(self.url)
        try:
            migrate(conn)
            row = conn.execute("SELECT count(*), count(*) FILTER (WHERE NOT read) FROM messages").fetchone()
            assert row is not None
            self.total, self.unread = int(row[0]), int(row[1])
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(f"can't use the PostgreSQL database {without_password(self.url)}: {error}") from None
        finally:
            conn.close()
        self._pool = make_pool(self.url)
        self._listener = Listener(self)
        if _running_loop() is not None:
            self._listener.start()  # on the loop that serves: hear the other replicas from the start

    def close(self) -> None:
        """Close the connections (blocks; from another thread than the event loop's, as Server.stop calls it)."""
        pool, loop, listener = self._pool, self._loop, self._listener
        self._pool = self._listener = None
        if pool is None or loop is None or loop.is_closed():
            return
        if _running_loop() is loop:
            loop.create_task(_close(listener, pool))  # on the loop itself: it can't be waited for here
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_close(listener, pool), loop).result(timeout=10)

    async def flush_index(self) -> None:
        """Every message is searchable once committed: nothing to wait for."""

    async def _connection(self) -> AsyncConnectionPool:
        """The pool, opened on the running loop at the first use."""
        if self._pool is None:
            raise StoreError("the PostgreSQL store is not open")
        if self._loop is None:
            if self._pool_opening is None:
                self._pool_opening = asyncio.Lock()
            async with self._pool_opening:
                if self._loop is None:
                    await self._pool.open(wait=False)  # requests wait POOL_WAIT for a connection at most
                    self._loop = asyncio.get_running_loop()
                    if self._listener is not None:
                        self._listener.start()
        return self._pool

    def _notices(self, kind: str, items: Sequence[Any] | None = None, **extra: Any) -> list[str]:
        """The NOTIFY payloads announcing a change to the other replicas."""
        return payloads(self._listener.replica if self._listener else "", kind, items, **extra)

    def _deleted(self, kind: str, rows: list[dict[str, Any]]) -> list[str]:
        """The notices of deleted messages: each ID with its read state, or only how many when they are many."""
        if not rows:
            return []
        if len(rows) > BULK_CHANGE:
            return self._notices(kind, None, n=len(rows), u=sum(1 for row in rows if not row["read"]))
        return self._notices(kind, [[row["id"], row["read"]] for row in rows])

    def _changed(self) -> None:
        """A change committed: the counts are read again from the database once changes settle."""
        if self._listener is not None and self._listener.started:
            self._listener.changed()

    @contextlib.asynccontextmanager
    async def _transaction(self) -> Any:
        """A connection inside a transaction; PostgreSQL's errors become StoreError (HTTP 503, SMTP 451),
        DatabaseUnreachable when it can't be reached."""
        pool = await self._connection()
        if self._down is not None:
            await self._try_again()
        try:
            async with pool.connection() as conn, conn.transaction():
                yield conn
        except (StoreError, MessageNotFound):
            raise
        except Exception as error:
            if lost_touch(error):
                raise await self._lost(error) from None
            if type(error).__module__.startswith(("psycopg", "psycopg_pool")):
                raise StoreError(f"the PostgreSQL database could not be used: {error}") from None
            raise

    # Outages ----------------------------------------------------------
    def unreachable(self, error: BaseException) -> DatabaseUnreachable:
        """PostgreSQL can't be reached (a connection just failed): the outage begins, logged once; the error to raise."""
        self._tried = time.monotonic()
        reason = why_unreachable(self.url, error)
        if self._down is None:
            self._down, self._down_since = reason, self._tried
            log.warning("%s: SMTP answers 451 and the API 503 until it is back", reason)
        return DatabaseUnreachable(reason)

    def reachable(self) -> bool:
        """A connection was made: an outage ends, logged once; whether one did."""
        if self._down is None:
            return False
        self._down = None
        if self._pool is not None and self._loop is not None and _running_loop() is self._loop:
            self._checking = self._loop.create_task(self._pool.check())
            self._checking.add_done_callback(lambda task: task.cancelled() or task.exception())
        log.warning(
            "the PostgreSQL database %s can be reached again, after %.1f s: messages are stored again",
            without_password(self.url),
            time.monotonic() - self._down_since,
        )
        return True

    async def _lost(self, error: Exception) -> StoreError:
        """A request lost its connection, or got none: one connection of its own tells an outage (the error
        to raise is then DatabaseUnreachable) from a connection lost alone or a pool busy beyond the wait."""
        if self._down is None:
            try:
                probe = await connect_async(self.url)
            except Exception as failed:
                return self.unreachable(failed)
            with contextlib.suppress(Exception):
                await probe.close()
        if self._down is not None:
            return DatabaseUnreachable(self._down)
        if isinstance(error, psycopg_pool.PoolTimeout):
            return StoreError(
                f"the PostgreSQL database {without_password(self.url)} is busy:"
                f" no connection free after {POOL_WAIT:g} s, try again"
            )
        return StoreError(f"the PostgreSQL database could not be used: {error}")

    async def _try_again(self) -> None:
        """During an outage: DatabaseUnreachable at once, unless the last try is PROBE_EVERY old; then try
        to connect (one request at a time), and end the outage if that works."""
        if self._trying is None:
            self._trying = asyncio.Lock()
        async with self._trying:
            if self._down is None:
                return
            if time.monotonic() - self._tried < PROBE_EVERY:
                raise DatabaseUnreachable(self._down)
            try:
                probe = await connect_async(self.url)
            except Exception as error:
                raise self.unreachable(error) from None
            with contextlib.suppress(Exception):
                await probe.close()
            if self.reachable() and self._checking is not None:
                with contextlib.suppress(Exception):
                    await self._checking  # no dead connection from before the outage handed to this request

    async def unready(self) -> str | None:
        """Why this store can't serve now (PostgreSQL out of reach), for /readyz; None when it can."""
        try:
            await self._connection()  # the listener, started with the pool, notices an outage without requests
            if self._down is not None:
                await self._try_again()
        except StoreError as error:
            return str(error)
        return None

    def stats(self) -> dict[str, int]:
        return {"Total": self.total, "Unread": self.unread}

    # Writing ----------------------------------------------------------
    async def add(self, raw: bytes, envelope: ReceivedEnvelope, tx: Transaction) -> MessageSummary:
        """Store a message in a transaction of its own, prune past --max, publish it; returns its summary."""
        message_id = new_message_id()
        options = {"x_tags": self.x_tags, "plus_tags": self.plus_tags}
        if len(raw) <= BIG_MESSAGE:
            ready = prepare_message(message_id, raw, envelope, tx, **options)
        else:
            ready = await asyncio.get_running_loop().run_in_executor(
                None, lambda: prepare_message(message_id, raw, envelope, tx, **options)
            )
        fields = tuple(_text(field) for field in ready.fields())
        async with self._transaction() as conn:
            await _insert(conn, ready, fields)
            await announce(conn, self._notices("new", [message_id]))
        self.total += 1
        self.unread += 1
        self._changed()
        self.bus.publish(Event("new", ready.summary))
        if self.max_messages and self.total > self.max_messages and await self._prune_to_max():
            self.bus.publish(Event("prune", None))
        return ready.summary

    async def _prune_to_max(self) -> bool:
        """Delete the oldest messages past --max, one replica at a time (PRUNE_LOCK); whether any went."""
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", PRUNE_LOCK)
            rows = await _delete(
                conn,
                "seq <= (SELECT seq FROM messages ORDER BY seq DESC OFFSET %s LIMIT 1)",
                [self.max_messages],
            )
            await announce(conn, self._deleted("prune", rows))
        self._forget(rows)
        if rows:
            self._changed()
        return bool(rows)

    def _forget(self, rows: list[dict[str, Any]]) -> None:
        self.total = max(0, self.total - len(rows))
        self.unread = max(0, self.unread - sum(1 for row in rows if not row["read"]))

    async def save_transcript_tail(self, session: SessionInfo, first_line: int, lines: list[SessionLine]) -> None:
        """Store the lines a session recorded after its last message (its closing replies)."""
        if not lines:
            return
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO transcript_chunks (session_id, first_line, lines)"
                " SELECT %s, %s, %s WHERE EXISTS (SELECT 1 FROM sessions WHERE id = %s)"
                " ON CONFLICT (session_id, first_line) DO UPDATE SET lines = excluded.lines",
                (session.id, first_line, lines_json(lines), session.id),
            )

    async def delete(self, ids: Sequence[str] | None = None) -> list[str]:
        """Delete these messages (all when `ids` is None); returns the IDs that existed."""
        if ids is None:
            async with self._transaction() as conn:
                await conn.execute("DELETE FROM messages")
                await conn.execute("DELETE FROM sessions")
                await announce(conn, self._notices("truncate"))
            self.total = self.unread = 0
            self._changed()
            self.bus.publish(Event("truncate", None))
            return []
        async with self._transaction() as conn:
            rows = await _delete(conn, "id = ANY(%s)", [list(dict.fromkeys(ids))])
            await announce(conn, self._deleted("delete", rows))
        self._forget(rows)
        if rows:
            self._changed()
        deleted = [row["id"] for row in rows]
        self._publish_changes([Event("delete", {"ID": message_id}) for message_id in deleted], Event("prune", None))
        return deleted

    async def prune_older_than(self, cutoff: float) -> int:
        """Delete the messages received before `cutoff` (a Unix time), published as one `prune`; returns how many.

        Once for the mailbox: a replica that finds another pruning leaves it to that one (its next run comes
        soon enough), rather than waiting to find nothing left to delete."""
        async with self._transaction() as conn:
            cursor = await conn.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", PRUNE_LOCK)
            locked = await cursor.fetchone()
            if not (locked and locked[0]):
                return 0
            rows = await _delete(conn, "created < %s", [cutoff])
            await announce(conn, self._deleted("prune", rows))
        self._forget(rows)
        if rows:
            self._changed()
            self.bus.publish(Event("prune", None))
        return len(rows)

    def _publish_changes(self, events: list[Event], bulk: Event) -> None:
        for event in events if len(events) <= BULK_CHANGE else [bulk]:
            self.bus.publish(event)

    async def set_read(self, ids: Sequence[str] | None, read: bool) -> None:
        """Mark these messages (all when `ids` is None) read or unread."""
        where, params = ("TRUE", []) if ids is None else ("id = ANY(%s)", [list(dict.fromkeys(ids))])
        async with self._transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE messages SET read = %s WHERE read <> %s AND {where} RETURNING id", [read, read, *params]
            )
            changed = [message_id for (message_id,) in await cursor.fetchall()]
            if changed:
                bulk = len(changed) > BULK_CHANGE
                notices = self._notices("read", None if bulk else changed, read=read, n=len(changed))
                await announce(conn, notices)
        self.unread += -len(changed) if read else len(changed)
        if changed:
            self._changed()
        self._publish_changes(
            [Event("update", {"ID": message_id, "Read": read}) for message_id in changed], Event("update", {"ID": "*"})
        )

    # Tags -------------------------------------------------------------
    async def set_tags(self, ids: Sequence[str], tags: Sequence[str]) -> list[str]:
        """Replace the tags of these messages (an empty list removes them all); returns the IDs that exist."""
        async with self._transaction() as conn:
            changed = await tagging.set_tags(conn, list(dict.fromkeys(ids)), clean_tags(tags))
            await self._announce_tags(conn, changed)
        self._retagged(changed)
        return [message_id for message_id, _ in changed]

    async def rename_tag(self, tag: str, name: str) -> int:
        """Rename a tag on every message that has it; returns how many messages changed."""
        async with self._transaction() as conn:
            changed = await tagging.edit_tag(conn, tag, name)
            await self._announce_tags(conn, changed)
        self._retagged(changed)
        return len(changed)

    async def delete_tag(self, tag: str) -> int:
        """Remove a tag from every message (the messages stay); returns how many messages changed."""
        async with self._transaction() as conn:
            changed = await tagging.edit_tag(conn, tag, None)
            await self._announce_tags(conn, changed)
        self._retagged(changed)
        return len(changed)

    async def _announce_tags(self, conn: AsyncConnection[Any], changed: tagging.Retagged) -> None:
        if changed:
            bulk = len(changed) > BULK_CHANGE
            await announce(conn, self._notices("tags", None if bulk else [list(pair) for pair in changed]))

    def _retagged(self, changed: tagging.Retagged) -> None:
        self._publish_changes(
            [Event("update", {"ID": message_id, "Tags": tags}) for message_id, tags in changed],
            Event("update", {"ID": "*"}),
        )

    async def all_tags(self) -> list[str]:
        """Every tag in use, sorted."""
        async with self._transaction() as conn:
            return await tagging.tags_in_use(conn)

    async def tag_counts(self) -> dict[str, int]:
        """Each tag in use with its number of messages, by tag name."""
        async with self._transaction() as conn:
            return await tagging.tag_counts(conn)

    # Reading ----------------------------------------------------------
    async def summaries(self, start: int = 0, limit: int = 50) -> tuple[list[MessageSummary], list[str]]:
        """A page of summaries, newest first, and every tag in use (in one snapshot)."""
        async with self._transaction() as conn:
            cursor = await conn.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM messages ORDER BY seq DESC LIMIT %s OFFSET %s", (limit, start)
            )
            rows = await cursor.fetchall()
            return [summary_json(row) for row in rows], await tagging.tags_in_use(conn)

    async def get(self, message_id: str, *, raw: bool = True) -> StoredMessage:
        """One message by ID (or `latest`); MessageNotFound if there is no such message."""
        latest = message_id == "latest"
        where = "seq = (SELECT max(seq) FROM messages)" if latest else "id = %s"
        async with self._transaction() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE {where}", () if latest else (message_id,)
            )
            row = await cursor.fetchone()
            if row is None:
                raise MessageNotFound(f"message {message_id!r} not found")
            data = await _raw(conn, row["seq"]) if raw else b""
        return stored_message(row, data)

    async def transcript(self, message_id: str) -> TranscriptJSON:
        """The SMTP dialogue of the session that delivered a message, with its own transaction marked."""
        message = await self.get(message_id, raw=False)
        async with self._transaction() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute("SELECT id, peer, started FROM sessions WHERE id = %s", (message.session_id,))
            session = await cursor.fetchone()
            chunks = await conn.execute(
                "SELECT lines FROM transcript_chunks WHERE session_id = %s ORDER BY first_line", (message.session_id,)
            )
            lines = transcript_lines([chunk for (chunk,) in await chunks.fetchall()])
        return transcript_json(message, session, lines)

    async def usage(self) -> Usage:
        """The size of the store's tables, and how many messages it has accepted (its seq sequence's last value)."""
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname = ANY(%s)",
                (["messages", "message_data", "message_search", "sessions", "transcript_chunks", "message_tags"],),
            )
            size = await cursor.fetchone()
            cursor = await conn.execute("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM messages_seq_seq")
            accepted = await cursor.fetchone()
        return Usage(int(size[0]) if size else 0, int(accepted[0]) if accepted else 0)

    async def raw_page(self, terms: Sequence[Term], start: int, limit: int) -> tuple[int, list[StoredMessage]]:
        """How many messages match every term, and a page of them with their bytes, newest first (MailHog's listing)."""
        where, params = where_of(terms)
        async with self._transaction() as conn:
            counted = await conn.execute(f"SELECT count(*) FROM {_FROM_MATCHED} WHERE {where}", params)
            total = await counted.fetchone()
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(
                f"SELECT {_MATCHED} FROM {_FROM_MATCHED} WHERE {where} ORDER BY m.seq DESC LIMIT %s OFFSET %s",
                [*params, limit, start],
            )
            found = [stored_message(row, await _raw(conn, row["seq"])) for row in await cursor.fetchall()]
        return (int(total[0]) if total else 0), found

    # Searching --------------------------------------------------------
    async def search(
        self, query: str | Sequence[Term], start: int = 0, limit: int = 50, zone: datetime.tzinfo | None = None
    ) -> SearchResult:
        """A page of the messages matching a query, newest first, with the number matching and unread."""
        where, params = where_of(terms_of(query), zone)
        async with self._transaction() as conn:
            counted = await conn.execute(
                f"SELECT count(*), count(*) FILTER (WHERE NOT m.read) FROM {_FROM_MATCHED} WHERE {where}", params
            )
            counts = await counted.fetchone()
            cursor = await conn.execute(
                f"SELECT {', '.join('m.' + c.strip() for c in SUMMARY_COLUMNS.split(','))} FROM {_FROM_MATCHED}"
                f" WHERE {where} ORDER BY m.seq DESC LIMIT %s OFFSET %s",
                [*params, limit, start],
            )
            rows = await cursor.fetchall()
        count, unread = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        return SearchResult([summary_json(row) for row in rows], count, unread)

    async def matching_ids(
        self, query: str | Sequence[Term], zone: datetime.tzinfo | None = None, limit: int | None = None
    ) -> list[str]:
        """IDs of the messages matching a query, newest first (at most `limit` of them)."""
        where, params = where_of(terms_of(query), zone)
        sql = f"SELECT m.id FROM {_FROM_MATCHED} WHERE {where} ORDER BY m.seq DESC"
        if limit is not None:
            sql, params = sql + " LIMIT %s", [*params, limit]
        async with self._transaction() as conn:
            cursor = await conn.execute(sql, params)
            return [message_id for (message_id,) in await cursor.fetchall()]

    async def resolve_id(self, message_id: str, query: str | None) -> str:
        """A message ID as given, or for `latest` with a query, the newest match's (MessageNotFound if none)."""
        return await resolve_latest(message_id, query, self.matching_ids)

    async def matches(self, message_id: str, query: str) -> bool:
        """Whether this message matches a search (False if there is no such message)."""
        where, params = where_of(terms_of(query))
        async with self._transaction() as conn:
            cursor = await conn.execute(
                f"SELECT 1 FROM {_FROM_MATCHED} WHERE m.id = %s AND {where}", [message_id, *params]
            )
            return await cursor.fetchone() is not None

    async def has_message_id(self, message_id: str) -> bool:
        """Whether a stored message has this Message-ID header (without its angle brackets)."""
        async with self._transaction() as conn:
            cursor = await conn.execute("SELECT 1 FROM messages WHERE message_id = %s LIMIT 1", (_text(message_id),))
            return await cursor.fetchone() is not None


async def _close(listener: Listener | None, pool: AsyncConnectionPool) -> None:
    if listener is not None:
        await listener.stop()
    await pool.close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _insert(conn: AsyncConnection[Any], message: Prepared, fields: tuple[Any, ...]) -> int:
    """Insert a new message's rows (its session's too, if new); returns its seq."""
    marks = ", ".join(["%s"] * len(message.row))
    cursor = await conn.execute(
        f"INSERT INTO messages ({ROW_COLUMNS}) VALUES ({marks}) RETURNING seq", [_text(v) for v in message.row]
    )
    row = await cursor.fetchone()
    assert row is not None
    seq = int(row[0])
    await conn.execute("INSERT INTO message_data (seq, raw) VALUES (%s, %s)", (seq, message.raw))
    values = search_row(message, fields)
    await conn.execute(
        f"INSERT INTO message_search (seq, {SEARCH_COLUMNS}) VALUES (%s{', %s' * len(values)})", (seq, *values)
    )
    if message.tags:
        await conn.execute(
            "INSERT INTO message_tags (seq, tag) SELECT %s, unnest(%s::text[]) ON CONFLICT DO NOTHING",
            (seq, [_text(tag) for tag in message.tags]),
        )
    session = message.tx.session
    await conn.execute(
        "INSERT INTO sessions (id, peer, started) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
        (session.id, _text(session.peer), session.started),
    )
    await conn.execute(
        "INSERT INTO transcript_chunks (session_id, first_line, lines) VALUES (%s, %s, %s)"
        " ON CONFLICT (session_id, first_line) DO UPDATE SET lines = excluded.lines",
        (session.id, message.tx.first_line, message.transcript),
    )
    return seq


async def _delete(conn: AsyncConnection[Any], where: str, params: list[Any]) -> list[dict[str, Any]]:
    """Delete the messages `where` selects (their bytes, search text and tags go with them), and the
    sessions left without a message; returns the deleted messages' `id, read`."""
    cursor = conn.cursor(row_factory=dict_row)
    await cursor.execute(f"DELETE FROM messages WHERE {where} RETURNING id, read, session_id", params)
    rows = await cursor.fetchall()
    sessions = sorted({row["session_id"] for row in rows})
    if sessions:
        await conn.execute(
            "DELETE FROM sessions s WHERE s.id = ANY(%s)"
            " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.session_id = s.id)",
            (sessions,),
        )
    return rows


async def _raw(conn: AsyncConnection[Any], seq: int) -> bytes:
    cursor = await conn.execute("SELECT raw FROM message_data WHERE seq = %s", (seq,))
    row = await cursor.fetchone()
    return bytes(row[0]) if row else b""
