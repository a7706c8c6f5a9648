"""Numbered schema migrations of the PostgreSQL store, applied by the first replica that starts.

The files are mailcatch/storage/postgres/migrations/NNNN_name.sql, numbered like the SQLite
store's. Each is applied in a transaction of its own and recorded in `mailcatch_migrations`;
all of it runs under a session advisory lock (MIGRATION_LOCK), so that replicas starting at
once wait for the first one and then find nothing left to apply.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import psycopg

from mailcatch.errors import StoreError

__all__ = ["LOCK_SPACE", "MIGRATION_LOCK", "PRUNE_LOCK", "migrate", "migrations"]

LOCK_SPACE = 0x6D61696C
"""The first key of mailcatch's advisory locks ("mail"); the second says which lock."""
MIGRATION_LOCK = (LOCK_SPACE, 1)
"""Held while migrations are checked and applied."""
PRUNE_LOCK = (LOCK_SPACE, 2)
"""Held (for a transaction) while the oldest messages past --max are deleted: one replica at a time."""


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, SQL) of every file in the postgres/migrations folder, in order."""
    found = []
    for entry in resources.files("mailcatch.storage.postgres.migrations").iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply the migrations this database lacks (on an autocommit connection); returns their names."""
    conn.execute("SELECT pg_advisory_lock(%s, %s)", MIGRATION_LOCK)
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS mailcatch_migrations ("
            " number integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())"
        )
        done = {number for (number,) in conn.execute("SELECT number FROM mailcatch_migrations")}
        known = migrations()
        newer = sorted(done - {number for number, _, _ in known})
        if newer:
            raise StoreError(
                f"the database has migration {newer[-1]}, newer than this mailcatch knows: use a newer mailcatch"
            )
        applied = []
        for number, name, sql in known:
            if number in done:
                continue
            with conn.transaction():
                conn.execute(sql.encode())
                conn.execute("INSERT INTO mailcatch_migrations (number, name) VALUES (%s, %s)", (number, name))
            applied.append(name)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", MIGRATION_LOCK)
