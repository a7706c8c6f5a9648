"""Delete-all racing big messages: a message answered 250 is kept whole or deleted whole, never damaged.

Messages over a megabyte are stored in pieces, each in a commit of its own, before their row;
a `DELETE /api/v1/messages` landing meanwhile must not take the pieces of the message still
being stored (issue 15).
"""

from __future__ import annotations

import random
import smtplib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mailcatch.server import ServerThread
from mailcatch.storage.store import PIECE_SIZE

pytestmark = pytest.mark.both_backends  # each test runs on in-memory SQLite and on PostgreSQL

ROUNDS = 30
SIZE = 6 * PIECE_SIZE + 12345
"""Several pieces, and a last one that is not full."""


def big_message(number: int) -> bytes:
    """A message of about SIZE bytes, as smtplib sends it (CRLF line ends, no line starting with a dot)."""
    head = (
        f"From: sender@example.com\r\nTo: rcpt@example.com\r\nSubject: big {number}\r\n"
        f"Message-ID: <big-{number}@example.com>\r\n\r\n"
    ).encode()
    line = (f"{number:06d}" + "B" * 70 + "\r\n").encode()
    return head + line * ((SIZE - len(head)) // len(line))


def send(catcher: ServerThread, raw: bytes, started: threading.Event, reply: list[tuple[int, bytes]]) -> None:
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail("sender@example.com")
        smtp.rcpt("rcpt@example.com")
        started.set()
        reply.append(smtp.data(raw))


def race(catcher: ServerThread, rounds: int, seed: int) -> tuple[int, int]:
    """Send big messages while deleting all at varying delays; returns how many were (kept, deleted)."""
    chance = random.Random(seed)
    kept = deleted = 0
    damaged: list[str] = []
    with httpx.Client(base_url=catcher.url, timeout=30) as api:
        for number in range(rounds):
            raw = big_message(number)
            started = threading.Event()
            reply: list[tuple[int, bytes]] = []
            sender = threading.Thread(target=send, args=(catcher, raw, started, reply))
            sender.start()
            assert started.wait(10)
            # From right after DATA to well after the final dot, so that some deletes land
            # before the first piece, some among the pieces and some after the message's row.
            time.sleep(0.25 * number / rounds * chance.uniform(0.5, 1.5))
            for _ in range(chance.randint(1, 3)):
                assert api.delete("/api/v1/messages").status_code == 200
                time.sleep(chance.uniform(0, 0.02))
            sender.join(30)
            assert not sender.is_alive()
            code, text = reply[0]
            assert code == 250, (code, text)
            message_id = text.decode().rsplit(" ", 1)[-1]
            got = api.get(f"/api/v1/message/{message_id}/raw")
            if got.status_code == 404:
                deleted += 1
                continue
            assert got.status_code == 200
            headers = api.get(f"/api/v1/message/{message_id}/headers").json()
            if got.content != raw or not headers:
                damaged.append(
                    f"round {number}: {len(got.content):,} bytes of {len(raw):,}, starting {got.content[:30]!r},"
                    f" headers {headers!r}"
                )
            else:
                kept += 1
    assert not damaged, "\n".join(damaged)
    return kept, deleted


@pytest.mark.parametrize("mode", ["memory", "file"])
def test_delete_all_never_damages_a_big_message_being_stored(
    start_catcher: Callable[..., ServerThread], tmp_path: Path, mode: str
) -> None:
    database = str(tmp_path / "mail.db") if mode == "file" else None
    catcher = start_catcher(database=database, max_messages=0)
    kept, deleted = race(catcher, ROUNDS, seed=15)
    # Both outcomes happened, or the race didn't test what it should.
    assert kept and deleted, (kept, deleted)
