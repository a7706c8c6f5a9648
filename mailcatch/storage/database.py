"""SQLite plumbing: connections, numbered migrations, one group-committing writer thread, reads off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, TypeVar

from mailcatch.errors import DatabaseDamaged, ReadFailed, StoreError
from mailcatch.logs import limit_repeats

try:
    import fcntl
except ImportError:  # Windows: no flock; one catcher per file is then up to the user
    fcntl = None  # type: ignore[assignment]

log = limit_repeats(logging.getLogger("mailcatch.database"))
"""Its warnings and errors repeat while a failure lasts (a checkpoint that fails, every write refused
on a full disk): the same line at most once a minute."""

T = TypeVar("T")
WriteFn = Callable[..., Any]
"""`fn(conn)`, or `fn(conn, [item, ...])` for a write done `together` with others."""
MIGRATIONS_TABLE = "mailcatch_migrations"
CHECKPOINT_INTERVAL = 0.1
"""Seconds between checkpoints of the write-ahead log in file mode."""
QUIET_SECONDS = 0.5
"""Seconds without a write after which the write-ahead log is emptied and its disk space given back."""
BUSY_TIMEOUT_MS = 10000
"""How long a statement waits for a lock held by another connection (the checkpointer, a second process)."""
WRITER_CACHE_KB = 8 * 1024
"""The writer connection's page cache, in KB."""
LOG_RESET_BYTES = 8 * 1024 * 1024
"""Once the write-ahead log holds this much, the writer has the next commits write it from its start again."""
LOG_KEPT_BYTES = 64 * 1024 * 1024
"""The write-ahead log's file is cut to this size when it starts again (its pages are reused)."""
LOG_EMPTY_WAIT_MS = 500
"""How long emptying the log waits for reads that still use it..."""
LOG_EMPTY_RETRY = 1.0
"""...and the seconds before it tries again when they outlast that (a long search, a big message's bytes)."""
MAX_BATCH = 256
"""Write jobs committed together at most; more wait for the next commit."""
QUICK_CHECK_MAX_BYTES = 256 * 1024 * 1024
"""Database files up to this size are checked whole at start (PRAGMA quick_check); bigger ones
would delay the start by seconds, and meet their damage at the first read instead."""
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CORRUPT, SQLITE_NOTADB = 5, 6, 11, 26
"""SQLite's primary result codes met here (the sqlite3 module names them from Python 3.11 only)."""


def _migrations() -> list[tuple[int, str, str]]:
    """(number, name, SQL) of every file in mailcatch/migrations, in order."""
    found = []
    for entry in resources.files("mailcatch.storage.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class _Job:
    __slots__ = ("fn", "future", "item", "together")

    def __init__(self, fn: WriteFn, future: asyncio.Future[Any], item: Any, together: bool) -> None:
        self.fn = fn
        self.future = future
        self.item = item
        self.together = together


class Database:
    """One SQLite database, in a file (WAL, durable commits) or in memory (shared between threads).

    Writes go through `write()`: a single thread drains the queue of waiting jobs and
    commits them in one transaction (group commit), each job in its own savepoint so that
    one failing job fails alone. Reads go through `read()` on a small pool of threads with
    their own read-only connections. The event loop never waits on SQLite.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._uri = file_uri(path) if path else f"file:/mailcatch-{uuid.uuid4().hex}?vfs=memdb"
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._write_conn: sqlite3.Connection | None = None
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._read_lock = threading.Lock()
        self._readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mailcatch-read")
        self.after_commit: Callable[[list[Any]], None] | None = None
        """Called on the writer thread after each successful commit, with what its jobs `note`d."""
        self._notes: list[Any] = []
        self.resync: Callable[[sqlite3.Connection], None] | None = None
        """Called on the writer thread after a batch in which a job or the commit failed, to bring
        what the jobs keep in memory in line with the database."""
        self.attached: dict[str, str] = {}
        """Other databases (name: URI) that reading connections attach, set before the first read."""
        self._lock_fd: int | None = None
        """In file mode: the open lock file beside the database (`PATH-lock`), locked while this is open."""
        self._damage_logged = False
        """Whether damage to the database was logged: once is enough, every read would find it."""
        self._log_full = threading.Event()
        """Set by the checkpointer when the write-ahead log has grown to LOG_RESET_BYTES."""

    # Connections ------------------------------------------------------
    def _connect(self, readonly: bool = False) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self._uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise StoreError(f"can't open database {self.path or 'in memory'}: {error}") from None
        try:
            _configure(conn, readonly)
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def connect_readonly(self) -> sqlite3.Connection:
        """A new read-only connection, for a thread of its own (the caller closes it)."""
        return self._connect(readonly=True)

    def _lock(self) -> None:
        """Take the lock that makes this process the only catcher on this database file.

        An exclusive flock on `PATH-lock`, which holds the owner's PID for the message a second
        catcher prints. The kernel releases it when the process ends, however it ends (SIGKILL
        too), so a lock file left behind by a killed catcher never blocks the next one. (A lock
        file of its own rather than the database: SQLite's own locks on the database are POSIX
        record locks, which flock would meet where the system emulates one with the other.)
        """
        if fcntl is None or not self.path or self._lock_fd is not None:
            return
        lock_path = f"{self.path}-lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            if error.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise StoreError(f"can't create the lock file {lock_path}: {error.strerror or error}") from None
            try:  # left by an earlier run: a read-only descriptor locks as well
                fd = os.open(lock_path, os.O_RDONLY)
            except OSError:
                raise StoreError(self._read_only_message(self._unwritable(), error)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(f"can't lock {lock_path}: {error.strerror or error}") from None
            raise StoreError(
                f"{self.path} is in use by another mailcatch ({_lock_owner(lock_path)}); stop that one, "
                "or give this one a --database file of its own"
            ) from None
        with contextlib.suppress(OSError):  # the PID is only for the message above; a read-only file keeps none
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _unlock(self) -> None:
        # The file stays: removing it could let a third catcher lock a new file while a second
        # one holds the removed one's lock.
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _unwritable(self) -> str | None:
        """What refuses writes to the database file (its file system, the file, or its folder); None if nothing."""
        if not self.path:
            return None
        folder = os.path.dirname(os.path.abspath(self.path)) or "."
        if _read_only_file_system(folder):
            return f"the file system holding {self.path} is mounted read-only"
        if os.path.exists(self.path) and not _writable(self.path):
            return f"the database file {self.path} is read-only"
        if not _writable(folder):
            return f"the folder {folder} is read-only (SQLite writes its log files beside the database)"
        return None

    def _read_only_message(self, where: str | None, error: OSError | sqlite3.Error | None = None) -> str:
        """What to say when the database can't be written: `where` says what refuses (see _unwritable)."""
        if error is None:
            detail = ""
        elif isinstance(error, OSError):
            detail = f" ({error.strerror or error})"
        else:
            detail = f" ({error})"
        where = where or f"{self.path} can't be written"
        return f"{where}{detail}; mailcatch needs to write to it: make it writable, or use another --database file"

    def open(self, init: WriteFn | None = None) -> None:
        """Open the database, check it is ours, apply migrations, run `init`, start the writer."""
        # Said before SQLite meets it, which reports a read-only file or folder as an unusable
        # database, or as a search index it can't open.
        if (refused := self._unwritable()) is not None:
            raise StoreError(self._read_only_message(refused))
        self._lock()
        try:
            self._open(init)
        except BaseException:
            self._unlock()
            raise

    def _open(self, init: WriteFn | None) -> None:
        try:
            conn = self._connect()
        except sqlite3.DatabaseError as error:  # its first statement reads the file's header
            raise self._unusable(error) from None
        try:
            # Small pages: a commit writes every page it changed whole (to the log, or to the
            # rollback journal in memory), and a small message changes about a dozen pages.
            # 4 KB pages make small messages a third cheaper to store than 64 KB pages did;
            # a 25 MB body costs more pages but about the same time. (Only a new database.)
            conn.execute("PRAGMA page_size = 4096")
            if self.path:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    log.warning("database %s: WAL mode unavailable, using %s", self.path, mode)
                # Checkpoints (copying the log into the database file) run on their own thread,
                # so a commit never waits for one; the writer empties the log (see _empty_log).
                conn.execute("PRAGMA wal_autocheckpoint = 0")
                conn.execute(f"PRAGMA journal_size_limit = {LOG_KEPT_BYTES}")
            # A statement that inserts many rows keeps what it changed in a statement journal,
            # to undo it alone if it fails: in a temporary file by default, one made and
            # deleted per group commit.
            conn.execute("PRAGMA temp_store = MEMORY")
            # The writer's page cache holds the indexes' pages it changes most (SQLite's default
            # is 2 MB); each page it misses is read back from the system's cache.
            conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KB}")
            conn.execute("PRAGMA foreign_keys = ON")
            if self.path and os.path.getsize(self.path) <= QUICK_CHECK_MAX_BYTES:
                self._quick_check(conn)
            self._migrate(conn)
            if init is not None:
                init(conn)
        except sqlite3.DatabaseError as error:
            conn.close()
            raise self._unusable(error) from None
        except StoreError:
            conn.close()
            raise
        self._write_conn = conn
        self._writer = threading.Thread(target=self._write_loop, name="mailcatch-writer", daemon=True)
        self._writer.start()
        if self.path:
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="mailcatch-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _unusable(self, error: sqlite3.DatabaseError) -> StoreError:
        """What to say when opening the database failed: read-only, damaged, or not SQLite's."""
        if (refused := self._unwritable()) is not None:
            return StoreError(self._read_only_message(refused, error))
        if _primary_code(error) == SQLITE_CORRUPT:
            return self._damaged(error)
        return StoreError(f"{self.path} is not a usable SQLite database: {error}")

    def _checkpoint_loop(self) -> None:
        """Copy the log into the database file as it grows, without blocking the writer or readers.

        A passive checkpoint copies only what no read still needs, and never empties the log:
        under steady load some read or write always uses it. So once the log holds
        LOG_RESET_BYTES, this asks the writer to empty it (see _empty_log).
        """
        conn = self._connect()
        try:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
            while not self._stopping.wait(CHECKPOINT_INTERVAL):
                try:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as error:
                    log.warning("database checkpoint failed: %s", error)
                    continue
                if frames * page_size >= LOG_RESET_BYTES:
                    self._log_full.set()
        finally:
            conn.close()

    def _empty_log(self, conn: sqlite3.Connection, mode: str) -> bool:
        """On the writer thread, between commits: copy the rest of the log into the database file,
        so that the next commit writes the log from its start again (RESTART, under load: the
        log's pages are rewritten where they are) or to an empty file (TRUNCATE, when quiet).

        It waits up to LOG_EMPTY_WAIT_MS for reads that still use the log; True if it is empty.
        Writes wait meanwhile (they are committed together right after), but only for copying
        what the checkpointer has not copied yet.
        """
        self._log_full.clear()
        conn.execute(f"PRAGMA busy_timeout = {LOG_EMPTY_WAIT_MS}")
        try:
            busy, _, _ = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error as error:
            log.warning("database checkpoint failed: %s", self._cause(error))
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return not busy

    def _migrate(self, conn: sqlite3.Connection) -> None:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and MIGRATIONS_TABLE not in tables:
            raise StoreError(
                f"{self.path} is a SQLite database of something else, not of mailcatch; point --database at a new file"
            )
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied REAL NOT NULL)"
        )
        applied = {row[0] for row in conn.execute(f"SELECT version FROM {MIGRATIONS_TABLE}")}
        known = _migrations()
        newest = max((number for number, _, _ in known), default=0)
        if applied and max(applied) > newest:
            raise StoreError(
                f"{self.path} was written by a newer mailcatch (schema {max(applied)}, "
                f"this one knows {newest}); upgrade mailcatch"
            )
        for number, name, sql in known:
            if number in applied:
                continue
            if self.path:
                log.info("database %s: applying migration %s", self.path, name)
            record = f"INSERT INTO {MIGRATIONS_TABLE} VALUES ({number}, '{name}', julianday('now'))"
            try:
                conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\n;{record};\nCOMMIT;")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Finish every queued write, then close all connections."""
        self._stopping.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None
        self._readers.shutdown(wait=True)
        with self._read_lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()
        if self._write_conn is not None:
            if self.path:
                try:
                    self._write_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error as error:
                    log.warning("database checkpoint at close failed: %s", error)
            self._write_conn.close()
            self._write_conn = None
        self._unlock()

    # Writes -----------------------------------------------------------
    def write(self, fn: WriteFn) -> asyncio.Future[Any]:
        """Run `fn(conn)` in the next group commit; the future resolves once it is committed."""
        return self._put(_Job(fn, asyncio.get_running_loop().create_future(), None, False))

    def write_together(self, fn: WriteFn, item: Any) -> asyncio.Future[Any]:
        """Have `fn` write `item` in the next group commit, in one call with the other items
        given to the same `fn` that meet in that commit: `fn(conn, [item, ...])` returns a
        result per item. For writes that are cheaper as one statement with many rows."""
        return self._put(_Job(fn, asyncio.get_running_loop().create_future(), item, True))

    def _put(self, job: _Job) -> asyncio.Future[Any]:
        if self._writer is None:
            raise StoreError("the database is closed")
        self._queue.put(job)
        return job.future

    def _write_loop(self) -> None:
        conn = self._write_conn
        assert conn is not None
        stopping = False
        log_used = False
        """Whether commits went into the log since it was last emptied (file mode only)."""
        retry_at = 0.0
        """When emptying the log under load may be tried again."""
        while not stopping:
            try:
                first = self._queue.get(timeout=QUIET_SECONDS if log_used else None)
            except queue.Empty:  # quiet for a moment: empty the log, so it is small while idle
                log_used = not self._empty_log(conn, "TRUNCATE")
                continue
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            self._run_batch(conn, batch)
            if self.path:
                log_used = True
                wanted = self._log_full.is_set() and time.monotonic() >= retry_at
                if wanted and not self._empty_log(conn, "RESTART"):
                    retry_at = time.monotonic() + LOG_EMPTY_RETRY

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        try:
            try:
                outcomes = self._run_jobs(conn, batch, alone=False)
            except _JobFailed:
                # Undo the batch and run it again with each job in a savepoint of its own, so
                # that the failing job fails alone. What the jobs keep in memory is resynced
                # with the database before (the batch was undone) and after (a job failed).
                conn.execute("ROLLBACK")
                self._notes = []
                if self.resync is not None:
                    self.resync(conn)
                outcomes = self._run_jobs(conn, batch, alone=True)
                if self.resync is not None:
                    self.resync(conn)
            notes, self._notes = self._notes, []
            if self.after_commit is not None and notes:
                self.after_commit(notes)
        except sqlite3.Error as error:
            self._notes = []
            cause = self._cause(error)
            log.error("database write failed, %d change(s) not saved: %s", len(batch), cause)
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # the rollback is only tidying up after the failure
                    conn.execute("ROLLBACK")
            if self.resync is not None:
                self.resync(conn)
            failure = self._write_failure(error, cause)
            outcomes = [(False, failure) for _ in batch]
        loop = batch[0].future.get_loop()
        settled = [(job.future, ok, value) for job, (ok, value) in zip(batch, outcomes, strict=True)]
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting for these any more
            loop.call_soon_threadsafe(_settle_all, settled)

    def _run_jobs(self, conn: sqlite3.Connection, batch: list[_Job], alone: bool) -> list[tuple[bool, Any]]:
        """Run a batch's jobs in one transaction and commit; (succeeded, result or error) per job.

        Without `alone`, the first failing job raises _JobFailed (the usual case costs no
        savepoints); with it, each job runs in a savepoint and a failing one is undone alone.
        """
        outcomes: list[tuple[bool, Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        index = 0
        while index < len(batch):
            job = batch[index]
            index += 1
            if not alone:
                group = [job]
                while job.together and index < len(batch) and batch[index].together and batch[index].fn == job.fn:
                    group.append(batch[index])
                    index += 1
                try:
                    results = _call(conn, group)
                except Exception as error:
                    raise _JobFailed from error
                outcomes.extend((True, result) for result in results)
                continue
            conn.execute("SAVEPOINT job")
            noted = len(self._notes)
            try:
                result = _call(conn, [job])[0]
            except Exception as error:
                del self._notes[noted:]
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                if isinstance(error, sqlite3.Error):
                    cause = self._cause(error)
                    log.error("database write failed: %s", cause)
                    error = self._write_failure(error, cause)
                outcomes.append((False, error))
            else:
                conn.execute("RELEASE job")
                outcomes.append((True, result))
        conn.execute("COMMIT")
        return outcomes

    def _write_failure(self, error: sqlite3.Error, cause: str) -> StoreError:
        if is_damage(error):
            return self._damaged(error)
        return StoreError(f"the change could not be saved: {cause}")

    def note(self, item: Any) -> None:
        """From a write job: pass `item` to `after_commit` once (and only if) the job is committed."""
        self._notes.append(item)

    def _cause(self, error: sqlite3.Error) -> str:
        """SQLite's message, plus why when the database's directory can't be written (SQLite says "disk I/O error")."""
        if not self.path:
            return str(error)
        probed = _write_probe(os.path.dirname(os.path.abspath(self.path)))
        if probed is not None and probed.errno == errno.EROFS:
            return f"{error} (the file system holding {self.path} is read-only)"
        if probed is not None and probed.errno in (errno.EACCES, errno.EPERM):
            return f"{error} (no permission to write beside {self.path})"
        return str(error)

    # Reads ------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            for name, uri in self.attached.items():
                conn.execute("ATTACH DATABASE ? AS ?", (uri, name))
            conn.execute("PRAGMA query_only = 1")
            self._local.conn = conn
            with self._read_lock:
                self._read_conns.append(conn)
        return conn

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` with a read-only connection on a reader thread, in one read transaction:
        its statements all see the database as it was when the first began (a message's row and
        its pieces alike, whatever commits meanwhile)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._readers, self._read_in_snapshot, fn)
        except sqlite3.Error as error:
            raise self._read_failure(error) from None

    def _read_in_snapshot(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    def _read_failure(self, error: sqlite3.Error) -> StoreError:
        """The StoreError a failed read raises: busy (503, it may pass), damaged, or another failure (500)."""
        if is_damage(error):
            return self._damaged(error)
        if _primary_code(error) in (SQLITE_BUSY, SQLITE_LOCKED):
            return StoreError(f"the database could not be read: {error}")
        return ReadFailed(f"the database could not be read: {self._cause(error)}")

    def _quick_check(self, conn: sqlite3.Connection) -> None:
        """Refuse a damaged database at start (see `damage_found`)."""
        if (found := damage_found(conn)) is not None:
            raise self._damaged(sqlite3.DatabaseError(found))

    def _damaged(self, error: sqlite3.Error) -> DatabaseDamaged:
        """The error for a damaged database, logged the first time it is met while running (at
        start the caller says it)."""
        if self.path and self._writer is not None and self.attached:
            # Met by a read, which may have read the search index (checked at start up to
            # QUICK_CHECK_MAX_BYTES, and rebuilt when damaged): either file can be the one.
            message = (
                f"the database file {self.path} or its search index {self.path}-search is damaged ({error}): "
                f"stop mailcatch and delete {self.path}-search, which is rebuilt from the messages at the next "
                "start; if that is not enough, restore the database file from a copy, or start with a new "
                "--database file (the mail in the damaged one can be read back in part with `sqlite3 FILE .recover`)"
            )
        elif self.path:
            message = (
                f"the database file {self.path} is damaged ({error}): stop mailcatch, then restore the file "
                "from a copy, or start with a new --database file (the mail in the damaged one can be read "
                "back in part with `sqlite3 FILE .recover`)"
            )
        else:
            message = f"the in-memory database is damaged ({error}): restart mailcatch"
        if self._writer is not None and not self._damage_logged:
            self._damage_logged = True
            log.error("%s", message)
        return DatabaseDamaged(message)


def damage_found(conn: sqlite3.Connection) -> str | None:
    """What `PRAGMA quick_check` finds wrong with a database's pages and b-trees; None if nothing.

    Run at start on files of at most QUICK_CHECK_MAX_BYTES: the check reads the whole file
    (about 0.2 s for 200 MB from the page cache, some seconds from a cold disk); bigger files
    meet their damage at the first read that touches it, which answers it as DatabaseDamaged.
    """
    # Only what it says of pages and b-trees counts: its NOT NULL and CHECK findings are not
    # damage, and SQLite 3.40 reports false "NULL value in" lines for WITHOUT ROWID tables.
    found = [
        line.strip()
        for (text,) in conn.execute("PRAGMA quick_check(20)")
        for line in str(text).splitlines()
        if line.strip() not in ("ok", "*** in database main ***")
        and not line.startswith(("NULL value in", "CHECK constraint failed"))
    ]
    return found[0] if found else None


def _configure(conn: sqlite3.Connection, readonly: bool) -> None:
    """The settings of every connection."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # In WAL mode a commit is in the log file once COMMIT returns, so a message answered
    # 250 survives a crash of the process. No fsync at all (a setting of each connection,
    # as any connection may checkpoint): each would send every page of the log to the
    # disk, some 15 times the mail's own bytes, where without them the log's pages are
    # rewritten in the page cache and the system writes each to disk once in a while.
    # Only an operating-system crash or a power cut needs them: it can lose the last
    # seconds of mail, or damage the file (found at the next start, see _quick_check).
    conn.execute("PRAGMA synchronous = OFF")
    # Freed pages are left as they are rather than overwritten with zeros, which some builds of
    # SQLite (Debian's) do by default: deleting a 40 MB message wrote 40 MB more to the log.
    # Deleted content is still wiped where a page is written anyway (see docs/architecture.md).
    conn.execute("PRAGMA secure_delete = FAST")
    if readonly:
        conn.execute("PRAGMA query_only = 1")


def _call(conn: sqlite3.Connection, group: list[_Job]) -> list[Any]:
    """Run a job, or a group of `together` jobs of the same `fn` in one call; a result each."""
    first = group[0]
    if first.together:
        return list(first.fn(conn, [job.item for job in group]))
    return [first.fn(conn)]


class _JobFailed(Exception):
    """A job of a batch run without savepoints failed."""


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _primary_code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code of an error (Python 3.11+; None before)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_damage(error: sqlite3.Error) -> bool:
    """Whether SQLite found the database damaged (SQLITE_CORRUPT, or SQLITE_NOTADB met past the header)."""
    code = _primary_code(error)
    if code is not None:
        return code in (SQLITE_CORRUPT, SQLITE_NOTADB)
    return "malformed" in str(error) or "not a database" in str(error)


def _lock_owner(lock_path: str) -> str:
    """`process PID` from the lock file, when it says; who holds the lock otherwise."""
    try:
        with open(lock_path, encoding="ascii") as file:
            pid = file.read().strip()
    except (OSError, ValueError):
        pid = ""
    return f"process {pid}" if pid.isdigit() else f"which holds the lock on {lock_path}"


def _read_only_file_system(folder: str) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _writable(path: str) -> bool:
    """Whether `path` can be written: asked of the kernel by trying where `os.access` would answer
    yes for root (read-only mounts and immutable files refuse root too)."""
    if os.path.isdir(path):
        return _write_probe(path) is None
    try:
        os.close(os.open(path, os.O_WRONLY))
    except OSError:
        return False
    return True


def _write_probe(folder: str) -> OSError | None:
    """The error met making (and removing) a file in `folder`; None when it can be written."""
    probe = os.path.join(folder, f".mailcatch-probe-{uuid.uuid4().hex}")
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.unlink(probe)
    except OSError as error:
        return error
    return None


def file_uri(path: str) -> str:
    """A SQLite URI for this file path."""
    return "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of a database's pages in use (not counting free pages, which new rows reuse)."""
    pages, free, size = (
        conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("page_count", "freelist_count", "page_size")
    )
    return int((pages - free) * size)


def in_chunks(values: Sequence[T], size: int = 500) -> Iterator[tuple[str, Sequence[T]]]:
    """`values` in slices small enough for one statement, each with its `?,?,...` placeholders."""
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield ",".join("?" * len(chunk)), chunk
