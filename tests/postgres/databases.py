"""Fresh PostgreSQL databases for tests: one made per test on the server at 127.0.0.1:5432, dropped after it.

The server is the one every machine of the project runs (.ci/run starts it); a test that can't
reach it fails, saying so: it is never skipped. MAILCATCH_TEST_POSTGRES names another server's
database to connect to (to make the others).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

ADMIN_URL = os.environ.get("MAILCATCH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
"""A database on the test server to connect to when making and dropping the tests' own."""


def url_of(name: str) -> str:
    """The URL of another database on the same server as ADMIN_URL."""
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise AssertionError(
            f"the tests need PostgreSQL at {ADMIN_URL} (.ci/run starts it: "
            f"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): {error}"
        ) from None


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database (uniquely named, so that tests running at once never share one); its URL."""
    name = f"mailcatch_test_{uuid.uuid4().hex[:16]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url_of(name)
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
