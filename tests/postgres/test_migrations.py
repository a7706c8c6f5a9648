"""Schema migrations on PostgreSQL: applied once, by whichever replica takes the advisory lock first,
however many start at once; a database migrated by a newer mailcatch is refused."""

from __future__ import annotations

import threading

import psycopg
import pytest

from mailcatch.errors import StoreError
from mailcatch.events import EventBus
from mailcatch.storage.postgres.migrate import migrate, migrations
from mailcatch.storage.postgres.store import PostgresStore

REPLICAS = 6


def test_replicas_starting_at_once_apply_each_migration_once(postgres_database: str) -> None:
    stores = [PostgresStore(postgres_database, EventBus()) for _ in range(REPLICAS)]
    ready = threading.Barrier(REPLICAS)
    failures: list[BaseException] = []

    def start(store: PostgresStore) -> None:
        ready.wait()
        try:
            store.open()
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    with psycopg.connect(postgres_database) as conn:
        applied = conn.execute("SELECT number, name FROM mailcatch_migrations ORDER BY number").fetchall()
        assert applied == [(number, name) for number, name, _ in migrations()]
        assert conn.execute("SELECT count(*) FROM messages").fetchone() == (0,)
        # The lock was let go: the next start takes it at once.
        held = "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        held += " WHERE l.locktype = 'advisory' AND d.datname = current_database()"  # not other tests' databases
        assert conn.execute(held).fetchone() == (0,)
    for store in stores:
        store.close()


def test_an_up_to_date_database_gets_nothing_more(postgres_database: str) -> None:
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        assert migrate(conn) == [name for _, name, _ in migrations()]
        assert migrate(conn) == []


def test_a_database_migrated_by_a_newer_mailcatch_is_refused(postgres_database: str) -> None:
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        migrate(conn)
        conn.execute("INSERT INTO mailcatch_migrations (number, name) VALUES (9999, '9999_future.sql')")
        with pytest.raises(StoreError, match="newer than this mailcatch knows"):
            migrate(conn)
