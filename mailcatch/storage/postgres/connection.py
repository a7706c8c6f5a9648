"""Connecting to PostgreSQL: the driver (psycopg 3), the connection pool, and start-up errors that say why.

Every error here names the database by its URL without the password (url.without_password).
"""

from __future__ import annotations

import logging
from typing import Any

from mailcatch.errors import StoreError
from mailcatch.storage.postgres.url import without_password

try:
    import psycopg
    import psycopg_pool
except ImportError:  # the `postgres` extra is not installed: PostgresStore refuses to open, saying so
    psycopg = None  # type: ignore[assignment]
    psycopg_pool = None  # type: ignore[assignment]

__all__ = [
    "CONNECT_TIMEOUT",
    "MISSING_DRIVER",
    "POOL_CONNECT_TIMEOUT",
    "POOL_SIZE",
    "POOL_WAIT",
    "connect",
    "connect_async",
    "lost_touch",
    "make_pool",
    "require_driver",
    "why_unreachable",
]

MISSING_DRIVER = "PostgreSQL needs psycopg: pip install 'mailcatch[postgres]'"
CONNECT_TIMEOUT = 10
"""Seconds a connection may take to be made, unless the URL says (connect_timeout=)."""
POOL_SIZE = 8
"""Connections to PostgreSQL at most, shared by SMTP's writes and the API's reads."""
POOL_WAIT = 5.0
"""Seconds a request waits for a connection of the pool before it fails (SMTP 451, HTTP 503): never a hang."""
POOL_CONNECT_TIMEOUT = 3
"""Seconds a connection made while serving may take (unless the URL says): a server gone from the network
fails a request in seconds, not in the minutes TCP would take."""
POOL_RETRY = 2.0
"""Seconds the pool goes on trying to make a connection that fails; the next request tries again at once,
so that the pool never waits out a long pause once PostgreSQL is back."""
POOL_NAME = "mailcatch"
TCP_USER_TIMEOUT_MS = 10_000
"""A query whose bytes the server has not acknowledged in this many milliseconds fails (the network gone)."""
_QUIET_POOL_LINES = frozenset(
    {
        "error connecting in %r: %s",
        "reconnection attempt in pool %r failed after %s sec",
        "discarding broken connection: %s",
        "discarding closed connection: %s",
    }
)
"""The pool's own warnings of connections that fail: the store says once that PostgreSQL can't be
reached, and once that it can again (PostgresStore), rather than these at every attempt."""


def require_driver() -> None:
    """Raise StoreError naming the extra when psycopg (or its pool) is not installed."""
    if psycopg is None or psycopg_pool is None:
        raise StoreError(MISSING_DRIVER)


def _options(url: str) -> dict[str, Any]:
    return {} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT}


def _serving_options(url: str) -> dict[str, Any]:
    """The options of the connections made while serving: short timeouts, so that an outage fails fast."""
    options: dict[str, Any] = {} if "connect_timeout=" in url else {"connect_timeout": POOL_CONNECT_TIMEOUT}
    if "tcp_user_timeout=" not in url:
        options["tcp_user_timeout"] = TCP_USER_TIMEOUT_MS
    if "keepalives" not in url:
        options.update(keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3)
    return options


async def connect_async(url: str, **options: Any) -> psycopg.AsyncConnection[Any]:
    """An async connection made as the pool makes them (short timeouts); psycopg's error if it can't be made."""
    require_driver()
    return await psycopg.AsyncConnection.connect(url, autocommit=True, **{**_serving_options(url), **options})


def lost_touch(error: BaseException) -> bool:
    """Whether an error says that the connection to PostgreSQL failed or was lost (not that a statement did)."""
    if psycopg_pool is not None and isinstance(error, psycopg_pool.PoolTimeout):
        return True
    if psycopg is None or not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    # No SQLSTATE: libpq's own (refused, closed, timed out); class 08: connection exceptions;
    # 57P01-57P03: the server shutting down, crashed, or not accepting connections yet.
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


class _QuietPool(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno == logging.WARNING and isinstance(record.msg, str) and record.msg in _QUIET_POOL_LINES
        )


def connect(url: str) -> psycopg.Connection[Any]:
    """A blocking connection (for start-up: migrations and counts); StoreError saying why it can't be made."""
    require_driver()
    try:
        return psycopg.connect(url, autocommit=True, **_options(url))
    except psycopg.Error as error:
        raise StoreError(why_not_connected(url, error)) from None


def make_pool(url: str) -> psycopg_pool.AsyncConnectionPool:
    """The store's pool of async connections, not opened yet (it opens on the event loop, at first use)."""
    require_driver()
    # Each connection is checked as it is taken (an empty query): one that the server closed
    # meanwhile (a restart, a fail-over, an idle timeout) is replaced, not handed to a request.
    pool_log = logging.getLogger("psycopg.pool")
    if not any(isinstance(existing, _QuietPool) for existing in pool_log.filters):
        pool_log.addFilter(_QuietPool())
    # A request waits POOL_WAIT for a connection at most, and a connection that can't be made is
    # tried again for POOL_RETRY only (then at the next request): see PostgresStore for outages.
    return psycopg_pool.AsyncConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        open=False,
        name=POOL_NAME,
        timeout=POOL_WAIT,
        reconnect_timeout=POOL_RETRY,
        kwargs={"autocommit": True, **_serving_options(url)},
        check=psycopg_pool.AsyncConnectionPool.check_connection,
    )


def why_not_connected(url: str, error: Exception) -> str:
    """What to say when connecting failed: the server unreachable, the login refused, the database missing."""
    named = without_password(url)
    text = str(error).strip()
    # libpq says "connection failed: connection to server at ..., port N failed: FATAL:  why": keep the why.
    first = text.splitlines()[0] if text else type(error).__name__
    reason = first.rsplit("failed:", 1)[-1].strip().removeprefix("FATAL:").strip() or first
    if reason.startswith('database "') and reason.endswith("does not exist"):
        return f"the PostgreSQL database of {named} does not exist ({reason}): create it, or name another in --database"
    if reason.startswith('role "') or any(
        words in reason for words in ("authentication failed", "no pg_hba.conf entry", "password")
    ):
        return f"PostgreSQL refused the login to {named} ({reason}): check the user and password in --database"
    return f"can't reach the PostgreSQL server of {named} ({reason}): is it running, and is the host and port right?"


def why_unreachable(url: str, error: BaseException) -> str:
    """What to say while serving when PostgreSQL can't be reached: the database by its URL, and libpq's reason."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    reason = first.rsplit("failed:", 1)[-1].strip().removeprefix("FATAL:").strip() or first
    return f"the PostgreSQL database {without_password(url)} can't be reached ({reason})"
