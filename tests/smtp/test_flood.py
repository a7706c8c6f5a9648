"""Many senders at once on loopback: every message answered 250 is stored, even when the process dies."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path

import httpx

from tests.cli.test_cli import Process
from tests.helpers import run_async


async def _send(
    port: int, messages: int, acknowledged: list[str], failures: list[str], stop_at: float | None = None
) -> None:
    """One sender: a connection that sends `messages` messages (or until `stop_at`), pipelining the envelope."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as error:
        failures.append(f"connect: {error}")
        return

    async def reply() -> bytes:
        while True:
            line = await reader.readuntil(b"\r\n")
            if line[3:4] != b"-":
                return line

    try:
        await reply()
        writer.write(b"EHLO flood.test\r\n")
        await reply()
        sent = 0
        while sent < messages and (stop_at is None or time.monotonic() < stop_at):
            writer.write(b"MAIL FROM:<flood@example.com>\r\nRCPT TO:<sink@example.com>\r\nDATA\r\n")
            codes = [(await reply())[:3] for _ in range(3)]
            if codes != [b"250", b"250", b"354"]:
                failures.append(f"envelope answered {codes}")
                return
            writer.write(f"Subject: flood {sent}\r\n\r\n".encode() + b"flood body line\r\n" * 40 + b".\r\n")
            final = (await reply()).decode()
            if not final.startswith("250"):
                failures.append(f"DATA answered {final!r}")
                return
            acknowledged.append(final.split()[-1])
            sent += 1
        writer.write(b"QUIT\r\n")
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError) as error:
        if stop_at is None:
            failures.append(f"connection: {error!r}")
    finally:
        writer.close()


def test_hundreds_of_concurrent_senders_lose_nothing(start_catcher, tmp_path: Path) -> None:
    catcher = start_catcher(database=str(tmp_path / "flood.db"), max_messages=0)
    acknowledged: list[str] = []
    failures: list[str] = []

    async def flood() -> None:
        await asyncio.wait_for(
            asyncio.gather(*(_send(catcher.smtp_port, 4, acknowledged, failures) for _ in range(300))), timeout=120
        )

    run_async(flood())
    assert failures == []
    assert len(acknowledged) == 1200 and len(set(acknowledged)) == 1200
    with httpx.Client(verify=False, base_url=catcher.url, timeout=30) as api:
        assert api.get("/api/v1/messages").json()["total"] == 1200
        for message_id in acknowledged[::97]:
            assert api.get(f"/api/v1/message/{message_id}").json()["Subject"].startswith("flood ")


def test_sigkill_during_a_flood_loses_no_acknowledged_message(tmp_path: Path) -> None:
    database = tmp_path / "killed.db"
    process = Process(
        "--smtp", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--max", "0", "--quiet", "--database", str(database)
    )
    acknowledged: list[str] = []
    failures: list[str] = []
    try:
        process.started()

        async def flood_then_kill() -> None:
            stop_at = time.monotonic() + 10
            senders = [
                asyncio.ensure_future(_send(process.smtp_port, 10_000, acknowledged, failures, stop_at))
                for _ in range(20)
            ]
            while len(acknowledged) < 300:
                await asyncio.sleep(0.01)
            process.proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(asyncio.gather(*senders), timeout=30)

        run_async(flood_then_kill())
    finally:
        process.kill()
    assert failures == []
    with sqlite3.connect(database) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM messages")}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged messages lost"
