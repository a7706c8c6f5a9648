"""Connecting to PostgreSQL: the driver (psycopg 3), the connection pool, and start-up errors that say why.

Every error here names the database by its URL without the password (url.without_password).
"""

from __future__ import annotations

from typing import Any

from mailcatch.errors import StoreError
from mailcatch.storage.postgres.url import without_password

try:
    import psycopg
    import psycopg_pool
except ImportError:  # the `postgres` extra is not installed: PostgresStore refuses to open, saying so
    psycopg = None  # type: ignore[assignment]
    psycopg_pool = None  # type: ignore[assignment]

__all__ = ["CONNECT_TIMEOUT", "MISSING_DRIVER", "POOL_SIZE", "connect", "make_pool", "require_driver"]

MISSING_DRIVER = "PostgreSQL needs psycopg: pip install 'mailcatch[postgres]'"
CONNECT_TIMEOUT = 10
"""Seconds a connection may take to be made, unless the URL says (connect_timeout=)."""
POOL_SIZE = 8
"""Connections to PostgreSQL at most, shared by SMTP's writes and the API's reads."""


def require_driver() -> None:
    """Raise StoreError naming the extra when psycopg (or its pool) is not installed."""
    if psycopg is None or psycopg_pool is None:
        raise StoreError(MISSING_DRIVER)


def _options(url: str) -> dict[str, Any]:
    return {} if "connect_timeout=" in url else {"connect_timeout": CONNECT_TIMEOUT}


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
    return psycopg_pool.AsyncConnectionPool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        open=False,
        kwargs={"autocommit": True, **_options(url)},
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
