"""The search index: trigram full text in a database of its own, kept up to date by a thread of its own.

Indexing a message's text costs more than storing the message, so it runs beside the
writer rather than on the path of the SMTP reply: after each commit the writer hands the
new messages' text (and any deletions) to this thread, which indexes them in the same
order. While messages keep arriving, the thread waits for a quiet moment (or for enough
text to have piled up) so that indexing doesn't slow down storing a burst of mail; a
search first waits until everything committed so far is indexed.

Beside the trigram index, which finds any substring, a word index lists the words of each
message and a vocabulary lists every word seen: a common word's matches are counted from
the word index, tens of times faster than checking trigram positions (see mailcatch.storage.search).

The index can always be rebuilt from the stored messages. When too much text waits, the
writer hands over only the fact that messages were added and this thread reads them back
from the store; the same catching up runs at start-up after a crash, and rebuilds the
index when its file is missing or belongs to another database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mailcatch.logs import limit_repeats
from mailcatch.storage.database import QUICK_CHECK_MAX_BYTES, damage_found, is_damage
from mailcatch.storage.search.shards import COLUMNS as _COLUMNS
from mailcatch.storage.search.shards import SCHEMA as _SHARDS_SCHEMA
from mailcatch.storage.search.shards import VIEW, Shard, Shards

log = limit_repeats(logging.getLogger("mailcatch.search"))
"""Warnings of a failure that lasts (a full disk) are said once a minute, not at every retry."""

Fields = tuple[str, ...]
"""What a message is found by, one string per column of `messages_fts`."""
Loader = Callable[[sqlite3.Connection, int, int, int], list[tuple[int, Fields]]]
"""`load(store_conn, after, before, max_bytes)`: search fields of stored messages with after < seq < before,
in order, as many as fit in max_bytes of raw message (at least one; none when there are no more)."""

_WORD_INDEX = f"fts5 ({_COLUMNS}, tokenize = 'unicode61 remove_diacritics 0', detail = none, content = '')"
"""How the words of messages are indexed: the table that counts a batch's words must split them alike."""


def _vocabulary(table: str, column: str) -> str:
    """A table of values with the number of indexed messages that have each, and their trigram index."""
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY, {column} TEXT NOT NULL UNIQUE, messages INTEGER NOT NULL DEFAULT 0
);
CREATE VIRTUAL TABLE IF NOT EXISTS {table}_fts USING fts5 (
    {column}, content = '{table}', content_rowid = 'id', tokenize = 'trigram'
);"""


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- The trigrams of each message, in shards (see shards.py).
{_SHARDS_SCHEMA}
-- The words of each message (case folded like the trigrams, accents kept), without positions,
-- and without a copy of the text: a row is deleted by giving its text again, from its shard.
CREATE VIRTUAL TABLE IF NOT EXISTS messages_words USING {_WORD_INDEX};
-- Every word seen, found by any part of it.
{_vocabulary("search_words", "word")}
-- Every sender (the text from: searches: "Name <address>"); a message has one, so the counts
-- of the senders a from: term is part of add up.
{_vocabulary("search_senders", "sender")}
-- The messages from each sender (its id in search_senders): a from: search for senders of few
-- messages lists them from here, where the trigrams would step through a million to find them.
CREATE TABLE IF NOT EXISTS sender_messages (
    sender INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (sender, seq)
) WITHOUT ROWID;
"""
_BATCH_WORDS = f"""
CREATE VIRTUAL TABLE temp.batch_words USING {_WORD_INDEX};
CREATE VIRTUAL TABLE temp.batch_vocabulary USING fts5vocab (temp, batch_words, row);
"""
LAYOUT = "trigram shards"
"""The search_meta value of `layout` of an index laid out as this version lays it out (an index
without it, or with another, is made anew)."""
UNINDEX_CHUNK = 500
"""Deleted messages taken out of the word index at a time."""
MAX_WAITING = 4 * 1024 * 1024
"""Bytes of new messages whose text may wait in memory; beyond, the text is read back from the store.
At 64 MB, 10 connections sending 100 KB messages kept a catcher at 250 MB resident; at 4 MB, with
INSERT_CHARS and CATCH_UP_BYTES as small, about 95 MB, with no loss of capture rate (bench/memory.py)."""
PATIENCE = 2.0
"""Seconds a search waits for the index to catch up before searching what is indexed so far."""
QUIET_SECONDS = 0.05
"""The index thread indexes once the store has committed nothing for this long (or a search waits)."""
DEFER_BYTES = 2 * 1024 * 1024
"""...or once this many bytes of new messages wait to be indexed (half of MAX_WAITING, so that
text keeps arriving while the index thread works without going past it)."""
INSERT_ROWS = 256
"""Messages indexed by one INSERT statement..."""
INSERT_CHARS = 1024 * 1024
"""...or fewer, when their text is longer than this (FTS5 holds what one statement adds in memory:
at 4 MB, the process's memory leapt by 40-90 MB at times)."""
COMMIT_SECONDS = 0.2
"""A transaction of the index is committed once it has been open this long: a long catch-up
keeps its progress, and searches waiting for the index see it."""
MERGE_PAGES = 256
"""Pages of full-text index merged per step (each step its own commit)..."""
MERGE_STEPS = 8
"""...and steps at most after each batch, per full-text index."""
CATCH_UP_BYTES = 2 * 1024 * 1024
"""Bytes of messages read back from the store per step (each step its own commit): what one step holds in memory."""
GIVE_BACK_AFTER = 0.5
"""Seconds of quiet after indexing before the write-ahead log's disk space is given back."""
JOURNAL_LIMIT = 16 * 1024 * 1024
"""Bytes of write-ahead log the index keeps on disk once it is checkpointed (SQLite keeps the
log's largest size otherwise: a big catch-up would hold that much disk for good)."""
BUSY_TIMEOUT_MS = 10000
"""How long the index's connection waits for a lock."""
GIVE_BACK_PATIENCE_MS = 1000
"""...and for readers to finish, to truncate the write-ahead log (else tried again later)."""
RETRY_FIRST = 0.5
"""Seconds the index thread waits after a failed write (a full disk) before it tries again..."""
RETRY_MOST = 16.0
"""...twice as long after each failure in a row, up to this."""


@dataclass(slots=True)
class Added:
    """A committed message to index: its seq, its size and how to compute its search fields."""

    seq: int
    size: int
    fields: Callable[[], Fields]


@dataclass(slots=True)
class Deleted:
    seqs: list[int]


class Cleared:
    """Every message was deleted."""


Change = Added | Deleted | Cleared


class SearchIndex:
    """The search index in its own database, written only by its own thread."""

    def __init__(self, path: str, uri: str, connect_store: Callable[[], sqlite3.Connection], load: Loader) -> None:
        self.path = path
        """The index's file; `uri` opens it."""
        self.uri = uri
        self._connect_store = connect_store
        self._load = load
        self._lock = threading.Condition()
        self._changes: list[Change] = []
        self._waiting = 0
        self._submitted = self._applied = 0
        self._newest = 0
        """The newest seq committed to the store (as far as this index was told)."""
        self.upto = 0
        """Every message with a seq up to this one is indexed (and committed)."""
        self._working = 0
        """`upto` within the index thread's open transaction."""
        self._began = 0.0
        """When the index thread's open transaction began."""
        self._broken = False
        """A write failed, and none has succeeded since: searches don't wait for the index."""
        self._failure: str | None = None
        """While broken, why (SQLite's message)."""
        self._retry_after = RETRY_FIRST
        self._unclean = False
        """A failure marked the index unclean (deletions wait to be applied again): a whole update marks it clean."""
        self._truncate = False
        """After a failure: once caught up, give the write-ahead log's disk space back."""
        self._log_used = False
        """Commits went into the write-ahead log since its disk space was last given back."""
        self._deferring = False
        self._last_submit = 0.0
        self._told_partial = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._stopping = False
        self._thread: threading.Thread | None = None

    def open(self, identity: str, newest: int) -> None:
        """Open (or rebuild) the index of the store named `identity`, whose newest seq is `newest`; start the thread.

        A damaged index file (checked whole up to QUICK_CHECK_MAX_BYTES) is removed and rebuilt
        from the stored messages: it holds nothing else."""
        try:
            conn = self._open(identity, check=True)
        except sqlite3.DatabaseError as error:
            if not is_damage(error):
                raise
            log.warning("the search index %s is damaged (%s): rebuilding it from the messages", self.path, error)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(self.path + suffix)
            conn = self._open(identity, check=False)
        self._start(conn, newest)

    def _open(self, identity: str, check: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(self.uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")  # the index can be rebuilt: never an fsync
            # Pages freed by merges and dropped shards are not overwritten with zeros (Debian's
            # SQLite does by default): dropping a shard would write all its pages to the log.
            conn.execute("PRAGMA secure_delete = FAST")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_LIMIT}")
            checked = check and os.path.exists(self.path) and os.path.getsize(self.path) <= QUICK_CHECK_MAX_BYTES
            if checked and (found := damage_found(conn)) is not None:
                raise sqlite3.DatabaseError(f"database disk image is malformed: {found}")
            conn.executescript(SCHEMA + _BATCH_WORDS)
            meta = dict(conn.execute("SELECT key, value FROM search_meta").fetchall())
            conn.execute("BEGIN")
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VIEW,)).fetchone():
                conn.execute(f"DROP TABLE {VIEW}")  # the trigrams of an earlier version, in one table
            self._shards = Shards(conn)
            if meta.get("identity") != identity or meta.get("clean") != "1" or meta.get("layout") != LAYOUT:
                if meta:
                    log.warning(
                        "rebuilding the search index: %s",
                        "it belongs to another database or was left unfinished"
                        if meta.get("layout") == LAYOUT
                        else "an earlier version made it",
                    )
                self._clear(conn)
                conn.execute("DELETE FROM search_meta")
                conn.executemany(
                    "INSERT INTO search_meta VALUES (?, ?)",
                    [("identity", identity), ("upto", "0"), ("clean", "1"), ("layout", LAYOUT)],
                )
                meta = {"upto": "0"}
            conn.execute("COMMIT")
        except sqlite3.Error:
            conn.close()
            raise
        self.upto = int(meta["upto"])
        return conn

    def _clear(self, conn: sqlite3.Connection) -> None:
        """Empty the index (in the caller's transaction)."""
        self._shards.clear()
        _clear_vocabulary(conn)

    def _start(self, conn: sqlite3.Connection, newest: int) -> None:
        self._newest = newest
        if newest > self.upto:
            log.info("indexing messages %d to %d for search in the background", self.upto + 1, newest)
        self._thread = threading.Thread(target=self._run, args=(conn,), name="mailcatch-index", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Index what was handed over, then stop (catching up with the store resumes at the next start)."""
        if self._thread is None:
            return
        with self._lock:
            self._stopping = True
            self._lock.notify()
        self._thread.join()
        self._thread = None

    @property
    def newest(self) -> int:
        """The newest seq committed to the store, as far as this index was told."""
        return self._newest

    @property
    def failure(self) -> str | None:
        """Why the index is not being updated (None: it is, or is catching up)."""
        if self._thread is not None and not self._thread.is_alive() and not self._stopping:
            return "its thread stopped"
        return self._failure

    # Called by the store's writer thread after each commit ----------------
    def submit(self, changes: Sequence[Change]) -> None:
        """Hand over what one commit changed, in commit order."""
        with self._lock:
            for change in changes:
                if isinstance(change, Added):
                    self._newest = max(self._newest, change.seq)
                    if self._waiting + change.size > MAX_WAITING:
                        self._waiting = MAX_WAITING  # the rest is read back from the store: index now
                        continue
                    self._waiting += change.size
                self._changes.append(change)
                self._submitted += 1
            self._last_submit = time.monotonic()
            if not self._deferring:
                self._lock.notify()

    # Called on the event loop -----------------------------------------
    async def flush(self) -> bool:
        """Wait until every change submitted so far is in the index; False if it is not (the index
        could not be updated, or is still catching up after PATIENCE seconds)."""
        with self._lock:
            target = (self._submitted, self._newest)
            if self._broken:
                return False
            if self._applied >= target[0] and self.upto >= target[1]:
                return True
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append((*target, future))
            self._lock.notify()  # end the index thread's wait for a quiet moment
        try:
            await asyncio.wait_for(asyncio.shield(future), PATIENCE)
        except asyncio.TimeoutError:
            # The index is far behind: it is rebuilt (minutes for a big one), or catches up
            # after a burst of big messages. Search what it holds so far.
            if not self._told_partial:
                self._told_partial = True
                log.warning("searching while the search index catches up: results are partial until then")
            return False
        return not self._broken  # else woken because the index failed

    def _wake_waiters(self) -> None:
        """Resolve the futures of flushes that are now satisfied (caller holds the lock)."""
        still = []
        for submitted, newest, future in self._waiters:
            if self._broken or (self._applied >= submitted and self.upto >= newest):
                with contextlib.suppress(RuntimeError):  # the loop has closed
                    future.get_loop().call_soon_threadsafe(_resolve, future)
            else:
                still.append((submitted, newest, future))
        self._waiters = still

    # The index thread ---------------------------------------------------
    def _run(self, conn: sqlite3.Connection) -> None:
        store = self._connect_store()
        retry: list[Change] = []
        """The deletions of a failed attempt, applied again first (added messages are read back from the store)."""
        try:
            while True:
                with self._lock:
                    idle = not self._changes and not retry and self.upto >= self._newest
                    if idle and self._log_used and not self._stopping:
                        # Quiet for a moment after indexing: give the log's disk space back.
                        self._lock.wait(GIVE_BACK_AFTER)
                        idle = not self._changes and self.upto >= self._newest
                        self._truncate = self._truncate or idle
                if idle and self._truncate and not self._stopping:
                    self._give_back(conn)
                with self._lock:
                    while not self._changes and not retry and self.upto >= self._newest and not self._stopping:
                        self._lock.wait()
                    # Storing messages comes first: while they keep arriving, their text waits
                    # (up to DEFER_BYTES of it) for a quiet moment, unless a search waits.
                    while (
                        not self._stopping
                        and not self._waiters
                        and self._waiting < DEFER_BYTES
                        and time.monotonic() - self._last_submit < QUIET_SECONDS
                    ):
                        self._deferring = True
                        self._lock.wait(QUIET_SECONDS)
                        self._deferring = False
                    if self._stopping and (not self._changes or self._broken):
                        break  # what is left is caught up at the next start (rebuilt, if deletions were lost)
                    taken = len(self._changes)
                    changes, self._changes, self._waiting = retry + self._changes, [], 0
                    newest = self._newest
                try:
                    self._apply(conn, store, changes, newest)
                    retry = []
                except sqlite3.Error as error:
                    retry = _to_retry(changes)
                    self._failed(conn, error, lost=bool(retry))
                with self._lock:
                    self._applied += taken  # applied, or kept to retry, or to be read back from the store
                    self._wake_waiters()
                    if retry or self._broken:
                        # Don't retry a failing disk in a tight loop: wait, longer after each failure.
                        deadline = time.monotonic() + self._retry_after
                        self._retry_after = min(self._retry_after * 2, RETRY_MOST)
                        while not self._stopping and (left := deadline - time.monotonic()) > 0:
                            self._lock.wait(left)
                if not retry and not self._broken:
                    _merge_segments(conn, self._shards.newest)
        finally:
            store.close()
            conn.close()

    def _apply(self, conn: sqlite3.Connection, store: sqlite3.Connection, changes: list[Change], newest: int) -> None:
        self._working = self.upto
        self._begin(conn)
        rows: list[tuple[int, Fields]] = []  # handed-over messages, inserted together
        for change in changes:
            if isinstance(change, Added):
                if change.seq <= self._working:  # read back from the store already
                    continue
                if self._working < change.seq - 1:  # messages before it were not handed over
                    self._insert(conn, rows)
                    rows = []
                    if not self._catch_up(conn, store, change.seq):
                        continue
                rows.append((change.seq, change.fields()))
                self._working = change.seq
                continue
            self._insert(conn, rows)
            rows = []
            if isinstance(change, Deleted):
                held = self._shards.holding(change.seqs)
                for shard, seqs in held.items():
                    _unindex_words(conn, shard, seqs)
                    conn.executemany(f"DELETE FROM {shard.table} WHERE rowid = ?", [(seq,) for seq in seqs])
                self._shards.drop_empty(list(held))
            else:
                self._clear(conn)
        self._insert(conn, rows)
        self._catch_up(conn, store, newest + 1)
        self._commit(conn, clean=True)

    def _catch_up(self, conn: sqlite3.Connection, store: sqlite3.Connection, before: int) -> bool:
        """Index, from the store, the messages after the indexed ones and before `before`; False if stopped first."""
        while self._working < before - 1:
            if self._stopping:
                return False  # the rest is caught up at the next start
            rows = self._load(store, self._working, before, CATCH_UP_BYTES)
            if not rows:
                self._working = before - 1
                break
            self._insert(conn, rows)
            self._working = rows[-1][0]
            self._commit(conn)  # a long catch-up keeps its progress, and searches waiting on it see it
            self._begin(conn)
        return True

    def _begin(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        self._began = time.monotonic()

    def _insert(self, conn: sqlite3.Connection, rows: list[tuple[int, Fields]]) -> None:
        """Index these messages (in order), committing along the way when the transaction has been open long."""
        start = 0
        while start < len(rows):
            stop, chars = start, 0
            while stop < len(rows) and stop - start < INSERT_ROWS and chars < INSERT_CHARS:
                chars += sum(map(len, rows[stop][1]))
                stop += 1
            chunk = rows[start:stop]
            shard = self._shards.for_new(chunk[0][0], chars)
            conn.execute(
                f"INSERT INTO {shard.table} (rowid, {_COLUMNS}) VALUES " + ",".join(["(?,?,?,?,?,?)"] * len(chunk)),
                [value for seq, fields in chunk for value in (seq, *fields)],
            )
            _index_words(conn, shard, chunk[0][0], chunk[-1][0])
            start = stop
            if start < len(rows) and time.monotonic() - self._began > COMMIT_SECONDS:
                self._commit(conn, chunk[-1][0])
                self._begin(conn)

    def _commit(self, conn: sqlite3.Connection, upto: int | None = None, clean: bool = False) -> None:
        """Commit, with every message up to `upto` (by default `_working`) indexed.

        `clean`: nothing handed over is left to apply (after a failure, the index is whole again).
        """
        upto = self._working if upto is None else upto
        conn.execute("UPDATE search_meta SET value = ? WHERE key = 'upto'", (str(upto),))
        if clean and self._unclean:
            conn.execute("UPDATE search_meta SET value = '1' WHERE key = 'clean'")
        conn.execute("COMMIT")
        self._log_used = True
        if clean:
            self._unclean = False
        with self._lock:
            self.upto = upto
            failure, self._failure = self._failure, None
            self._broken = False
            self._retry_after = RETRY_FIRST
            self._wake_waiters()
        if failure is not None:
            log.info("the search index is updated again (it could not be: %s)", failure)

    def _failed(self, conn: sqlite3.Connection, error: sqlite3.Error, lost: bool = False) -> None:
        """After a failed write: undo it, give back the log's disk space, and say so (once a minute at most).

        The thread tries again, waiting longer after each failure; meanwhile searches don't wait
        for the index (they would wait for good on a full disk) and say their results may be
        incomplete. `lost`: deletions wait to be applied again, which a stop would lose: until
        they are, the index is marked unclean, to be rebuilt at the next start. (Added messages
        are never lost: the next start reads back those after the indexed ones.)
        """
        with self._lock:
            self._broken = True
            self._failure = str(error)
            self._truncate = True
            self._wake_waiters()
        log.warning(
            "search index not updated (%s): searches say their results may be incomplete until it is; trying again",
            error,
        )
        with contextlib.suppress(sqlite3.Error):
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        if lost and not self._unclean:
            with contextlib.suppress(sqlite3.Error):  # on a full disk, the log's space left by the rollback
                conn.execute("UPDATE search_meta SET value = '0' WHERE key = 'clean'")
                self._unclean = True
        self._give_back(conn)

    def _give_back(self, conn: sqlite3.Connection) -> None:
        """Checkpoint the write-ahead log and truncate it to nothing (after a failure on a full disk,
        its file holds the space the failed transaction took, and a catch-up's)."""
        try:
            conn.execute(f"PRAGMA busy_timeout = {GIVE_BACK_PATIENCE_MS}")  # readers would hold up indexing
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error:
            return  # tried again once caught up
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not busy and not self._broken:
            self._truncate = self._log_used = False


def _merge_segments(conn: sqlite3.Connection, shard: Shard) -> None:
    """Merge the newest shard's and the word index's segments a step at a time, each step a commit of its own.

    FTS5 writes a segment per commit and merges segments as they pile up: a little with each
    write, and all of a level's at once when 16 pile up there. Steps of MERGE_PAGES between
    batches keep the piles below that, so that the log of each commit stays small enough to be
    checkpointed and reused. (A step still rewrites a whole term's list: see shards.py.)
    """
    for table in (shard.table, "messages_words"):
        for _ in range(MERGE_STEPS):
            before = conn.total_changes
            try:
                conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('merge', {MERGE_PAGES})")
            except sqlite3.Error:
                return  # a write failing now fails the next batch too, which says why
            if conn.total_changes - before < 2:  # FTS5's sign that nothing was left to merge
                break


def _to_retry(changes: list[Change]) -> list[Change]:
    """What of a failed attempt's changes is applied again: the deletions, from the last Cleared on
    (added messages are read back from the store, as those not handed over)."""
    kept: list[Change] = []
    for change in changes:
        if isinstance(change, Cleared):
            kept = [change]
        elif isinstance(change, Deleted):
            kept.append(change)
    return kept


def _index_words(conn: sqlite3.Connection, shard: Shard, low: int, high: int) -> None:
    """Add the messages of this shard with low <= rowid <= high to the word index and vocabulary."""
    conn.execute("INSERT INTO batch_words (batch_words) VALUES ('delete-all')")
    for table in ("batch_words", "messages_words"):
        conn.execute(
            f"INSERT INTO {table} (rowid, {_COLUMNS}) SELECT rowid, {_COLUMNS} FROM {shard.table}"
            " WHERE rowid BETWEEN ? AND ?",
            (low, high),
        )
    _count_in(conn, "search_words", "word", "SELECT term, doc FROM batch_vocabulary WHERE true")
    _count_in(
        conn,
        "search_senders",
        "sender",
        f"SELECT sender, count(*) FROM {shard.table} WHERE rowid BETWEEN ? AND ? GROUP BY sender",
        (low, high),
    )
    conn.execute(
        f"INSERT INTO sender_messages (sender, seq) SELECT s.id, f.rowid {_senders_of(shard)}"
        " WHERE f.rowid BETWEEN ? AND ?",
        (low, high),
    )


def _unindex_words(conn: sqlite3.Connection, shard: Shard, seqs: list[int]) -> None:
    """Take these messages (still in this shard) out of the word index and the vocabulary's counts."""
    for start in range(0, len(seqs), UNINDEX_CHUNK):  # the words of a chunk are gathered in memory
        chunk = seqs[start : start + UNINDEX_CHUNK]
        marks = ",".join("?" * len(chunk))
        conn.execute("INSERT INTO batch_words (batch_words) VALUES ('delete-all')")
        for table, command in (("batch_words", ""), ("messages_words", "'delete', ")):
            conn.execute(
                f"INSERT INTO {table} ({table + ', ' if command else ''}rowid, {_COLUMNS})"
                f" SELECT {command}rowid, {_COLUMNS} FROM {shard.table} WHERE rowid IN ({marks})",
                chunk,
            )
        _count_out(conn, "search_words", "word", "SELECT term, doc FROM batch_vocabulary")
        _count_out(
            conn,
            "search_senders",
            "sender",
            f"SELECT sender, count(*) FROM {shard.table} WHERE rowid IN ({marks}) GROUP BY sender",
            chunk,
        )
        conn.execute(
            f"DELETE FROM sender_messages WHERE (sender, seq) IN (SELECT s.id, f.rowid {_senders_of(shard)}"
            f" WHERE f.rowid IN ({marks}))",
            chunk,
        )


def _senders_of(shard: Shard) -> str:
    """The messages of a shard with the ids of their senders (select from it, and add a WHERE)."""
    return f"FROM {shard.table} f JOIN search_senders s ON s.sender = f.sender"


def _count_in(conn: sqlite3.Connection, table: str, column: str, counts: str, params: Sequence[Any] = ()) -> None:
    """Add the (value, messages) rows of the query `counts` to a vocabulary, and new values to its trigrams."""
    known = conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
    conn.execute(
        f"INSERT INTO {table} ({column}, messages) {counts}"
        f" ON CONFLICT ({column}) DO UPDATE SET messages = messages + excluded.messages",
        params,
    )
    conn.execute(f"INSERT INTO {table}_fts (rowid, {column}) SELECT id, {column} FROM {table} WHERE id > ?", (known,))


def _count_out(conn: sqlite3.Connection, table: str, column: str, counts: str, params: Sequence[Any] = ()) -> None:
    """Take the (value, messages) rows of the query `counts` off a vocabulary's counts."""
    conn.executemany(
        f"UPDATE {table} SET messages = messages - ? WHERE {column} = ?",
        [(messages, value) for value, messages in conn.execute(counts, params).fetchall()],
    )


def _clear_vocabulary(conn: sqlite3.Connection) -> None:
    """Empty the word index, the vocabularies of words and senders, and the messages of senders."""
    conn.execute("INSERT INTO messages_words (messages_words) VALUES ('delete-all')")
    conn.execute("DELETE FROM sender_messages")
    for table in ("search_words", "search_senders"):
        conn.execute(f"DELETE FROM {table}")
        conn.execute(f"INSERT INTO {table}_fts ({table}_fts) VALUES ('delete-all')")


def _resolve(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_result(None)
