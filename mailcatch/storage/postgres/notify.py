"""Replicas on one PostgreSQL database: each announces its changes with NOTIFY and republishes the others'.

Every change a `PostgresStore` makes (a new message, deletes, delete-all, read state, tags,
pruning) is announced on the CHANNEL with `pg_notify`, inside the transaction that makes it,
so PostgreSQL delivers the notice when (and only if) it commits. A notice is small JSON: the
announcing replica's own id (so it ignores its own), a kind, and the message IDs concerned;
one that would pass PostgreSQL's 8000-byte limit is split into several, and a single item too
big to fit is replaced by a `resync` notice.

Each replica LISTENs on a connection of its own (`Listener`) and, for the others' notices,
publishes on its local EventBus the events its own change would have published (`new` with
the summary read back from the database, `delete`, `truncate`, `update`, `prune`), so its
websocket clients see every replica's mail. The store's `total` and `unread` follow the
notices, and are counted again from the database whenever the listener (re)connects and once
changes have settled for a moment, so they end up exact whichever replica made the change.
A dropped listening connection is made again (with a growing pause, RETRY), then counts are
resynced and a `prune` event tells clients to reload what they show. The listener is how a
replica without traffic notices that PostgreSQL went away and came back: a connection it can't
make begins the store's outage (PostgresStore.unreachable, logged once), one it makes ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import AsyncConnection

from mailcatch.errors import DatabaseUnreachable
from mailcatch.models import Event
from mailcatch.storage.postgres.connection import connect_async, lost_touch
from mailcatch.storage.rows import SUMMARY_COLUMNS, summary_json

if TYPE_CHECKING:
    from mailcatch.storage.postgres.store import PostgresStore

__all__ = ["CHANNEL", "MAX_PAYLOAD", "Listener", "announce", "payloads"]

log = logging.getLogger("mailcatch.postgres")

CHANNEL = "mailcatch_changes"
"""The NOTIFY channel replicas announce their changes on (channels are per database)."""
MAX_PAYLOAD = 7900
"""Bytes a notice may take: under PostgreSQL's limit of 8000, with room to spare."""
SETTLE = 1.0
"""Seconds after the last change before the counts are read again from the database."""
RETRY = (0.2, 2.0)
"""The first and the longest pause before the listening connection is made again (after an outage,
the store finds PostgreSQL back within the longest pause even when no request comes)."""
APPLICATION_NAME = "mailcatch listener"
"""The listening connection's application_name (in pg_stat_activity)."""


def payloads(replica: str, kind: str, items: Sequence[Any] | None = None, **extra: Any) -> list[str]:
    """The notices announcing a change: one, or several when its items don't fit in one; `resync` if one item can't."""
    base = {"r": replica, "k": kind, **extra}
    if items is None:
        return [_dumps(base)]
    found: list[str] = []
    chunk: list[Any] = []
    for item in items:
        candidate = _dumps({**base, "i": [*chunk, item]})
        if len(candidate.encode()) <= MAX_PAYLOAD:
            chunk.append(item)
            continue
        if not chunk:  # one item alone is too big: tell the others to read everything again
            return [_dumps({"r": replica, "k": "resync"})]
        found.append(_dumps({**base, "i": chunk}))
        chunk = [item]
        if len(_dumps({**base, "i": chunk}).encode()) > MAX_PAYLOAD:
            return [_dumps({"r": replica, "k": "resync"})]
    if chunk or not found:
        found.append(_dumps({**base, "i": chunk}))
    return found


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def announce(conn: AsyncConnection[Any], notices: list[str]) -> None:
    """Send the notices in the connection's transaction: delivered to the other replicas when it commits."""
    for notice in notices:
        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, notice))


class Listener:
    """Listens for the other replicas' notices on a connection of its own and republishes them on the store's bus."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.replica = uuid.uuid4().hex[:16]
        """This replica's id, in each of its notices so that it ignores its own."""
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None
        self._settle: asyncio.TimerHandle | None = None
        self._recount: asyncio.Task[None] | None = None

    # Life cycle -------------------------------------------------------
    def start(self) -> None:
        """Start listening, on the running loop (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def started(self) -> bool:
        return self._task is not None

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._settle is not None:
            self._settle.cancel()
            self._settle = None
        for task in (self._task, self._recount):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._recount = None

    async def _run(self) -> None:
        pause = RETRY[0]
        first = True
        while True:
            try:
                conn = await connect_async(self.store.url, application_name=APPLICATION_NAME)
            except psycopg.Error as error:
                if lost_touch(error):
                    self.store.unreachable(error)  # the outage, said once by the store
                else:
                    log.warning("can't listen for other replicas' changes (%s); trying again in %.1f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY[1])
                continue
            try:
                await conn.execute(f"LISTEN {CHANNEL}")
                back = self.store.reachable()  # an outage ends, said once by the store
                if not first:
                    self.reconnects += 1
                    log.log(logging.INFO if back else logging.WARNING, "listening for other replicas' changes again")
                await self._count()  # after LISTEN: nothing committed since is missed
                if not first:
                    self.store.bus.publish(Event("prune", None))  # clients reload what they show
                first = False
                pause = RETRY[0]
                self.connected.set()
                async for notice in conn.notifies():
                    await self._receive(notice.payload)
            except psycopg.Error as error:
                # Lost with the server (a restart, an outage: the next connection tells, and the store says
                # so once) or alone (the next connection is made at once, and that is said).
                level = logging.INFO if lost_touch(error) else logging.WARNING
                log.log(level, "lost the connection listening for other replicas' changes (%s); reconnecting", error)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await conn.close()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY[1])

    # Counts -----------------------------------------------------------
    def changed(self) -> None:
        """A change was made (here or elsewhere): count again once changes settle."""
        if self._settle is not None:
            self._settle.cancel()
        self._settle = asyncio.get_running_loop().call_later(SETTLE, self._count_later)

    def _count_later(self) -> None:
        self._settle = None
        if self._recount is not None and not self._recount.done():
            self.changed()  # a count is under way, perhaps older than the last change: count again after it
            return
        self._recount = asyncio.ensure_future(self._count())

    async def _count(self) -> None:
        """Read `total` and `unread` from the database."""
        try:
            async with self.store._transaction() as conn:
                cursor = await conn.execute("SELECT count(*), count(*) FILTER (WHERE NOT read) FROM messages")
                row = await cursor.fetchone()
        except DatabaseUnreachable:
            return  # said once by the store; counted again when the listener connects again
        except Exception as error:
            log.warning("can't count the messages in PostgreSQL: %s", error)
            return
        if row is not None:
            self.store.total, self.store.unread = int(row[0]), int(row[1])

    # Receiving --------------------------------------------------------
    async def _receive(self, payload: str) -> None:
        try:
            notice = json.loads(payload)
            if not isinstance(notice, dict) or notice.get("r") == self.replica:
                return
            await self._apply(notice)
        except Exception:
            log.exception("a change announced by another replica could not be applied: %.200s", payload)
            await self._count()
            self.store.bus.publish(Event("prune", None))
        self.changed()

    async def _apply(self, notice: dict[str, Any]) -> None:
        """Adjust the counts and publish the events the announcing replica published."""
        store, bus = self.store, self.store.bus
        kind, items = notice.get("k"), notice.get("i")
        if kind == "new":
            ids = [str(message_id) for message_id in items or []]
            store.total += len(ids)
            store.unread += len(ids)
            for summary in await self._summaries(ids):
                bus.publish(Event("new", summary))
        elif kind in ("delete", "prune"):
            if items is None:
                store.total = max(0, store.total - int(notice.get("n", 0)))
                store.unread = max(0, store.unread - int(notice.get("u", 0)))
                bus.publish(Event("prune", None))
                return
            store.total = max(0, store.total - len(items))
            store.unread = max(0, store.unread - sum(1 for _, read in items if not read))
            if kind == "prune":
                bus.publish(Event("prune", None))
                return
            for message_id, _ in items:
                bus.publish(Event("delete", {"ID": message_id}))
        elif kind == "truncate":
            store.total = store.unread = 0
            bus.publish(Event("truncate", None))
        elif kind == "read":
            read = bool(notice.get("read"))
            changed = len(items) if items is not None else int(notice.get("n", 0))
            store.unread = max(0, store.unread - changed if read else store.unread + changed)
            if items is None:
                bus.publish(Event("update", {"ID": "*"}))
                return
            for message_id in items:
                bus.publish(Event("update", {"ID": message_id, "Read": read}))
        elif kind == "tags":
            if items is None:
                bus.publish(Event("update", {"ID": "*"}))
                return
            for message_id, tags in items:
                bus.publish(Event("update", {"ID": message_id, "Tags": tags}))
        else:  # resync, or a kind a newer replica announces
            await self._count()
            bus.publish(Event("prune", None))

    async def _summaries(self, ids: list[str]) -> list[Any]:
        """The summaries of these messages that are still there, in the order they arrived."""
        if not ids:
            return []
        async with self.store._transaction() as conn:
            cursor = conn.cursor(row_factory=psycopg.rows.dict_row)
            await cursor.execute(f"SELECT {SUMMARY_COLUMNS} FROM messages WHERE id = ANY(%s) ORDER BY seq", (ids,))
            return [summary_json(row) for row in await cursor.fetchall()]
