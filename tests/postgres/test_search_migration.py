"""Migration 0002 fills the search columns of messages stored before it with what the store gives new ones."""

from __future__ import annotations

from importlib import resources

import httpx
import psycopg

from mailcatch.server import ServerThread
from tests.helpers import make_settings, wait_for_count
from tests.messages import send
from tests.postgres.test_search_parity import _corpus

_ADDRESSES = "mail_from, to_list, cc_list, bcc_list, reply_to_list"
_FOLDED = "folded_subject, folded_sender, folded_recipients, folded_body, folded_files"


def _backfill() -> str:
    """The UPDATE of migration 0002 that fills the columns of the messages already stored."""
    sql = resources.files("mailcatch.storage.postgres.migrations").joinpath("0002_search.sql").read_text("utf-8")
    start = sql.index("UPDATE message_search")
    return sql[start : sql.index(";", sql.index("WHERE m.seq = s.seq", start)) + 1]


def _rows(conn: psycopg.Connection[tuple[object, ...]], columns: str) -> list[tuple[object, ...]]:
    return conn.execute(
        f"SELECT m.subject, {columns} FROM message_search s JOIN messages m ON m.seq = s.seq ORDER BY s.seq"
    ).fetchall()


def test_messages_stored_before_0002_are_found_alike(postgres_database: str) -> None:
    first, later = _corpus()
    with ServerThread(make_settings(database=postgres_database)) as catcher:
        for message, rcpt in first:
            send(catcher, message, rcpt=rcpt, mail_from="Bounces@Mailer.test" if rcpt else None)
        send(catcher, *later)
        with httpx.Client(base_url=catcher.url, timeout=10) as api:
            wait_for_count(api, 12)
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        addresses, folded = _rows(conn, _ADDRESSES), _rows(conn, _FOLDED)
        conn.execute(  # as a message stored before migration 0002 is
            "UPDATE message_search SET folded_subject = '', folded_sender = '', folded_recipients = '',"
            " folded_body = '', folded_files = '', mail_from = NULL,"
            " to_list = '{}', cc_list = '{}', bcc_list = '{}', reply_to_list = '{}'"
        )
        assert _rows(conn, _ADDRESSES) != addresses
        conn.execute(_backfill())
        assert _rows(conn, _ADDRESSES) == addresses  # exactly: A-Z lowered in SQL as in Python
        # lower() is the tokenizer's folding but for rare characters (µ, the long s, İ: the Greek message has them)
        assert [row for row in _rows(conn, _FOLDED) if "ΣΊΣΥΦΟΣ" not in str(row[0])] == [
            row for row in folded if "ΣΊΣΥΦΟΣ" not in str(row[0])
        ]
        assert sum(1 for row in folded if "ΣΊΣΥΦΟΣ" in str(row[0])) == 1
