"""SMTP load generator: N reused connections send messages and time each DATA reply.

    python bench/smtp_load.py --port 1025 --connections 10 --size 2048 --seconds 5 [--no-pipelining]

By default MAIL, RCPT and DATA go out together (PIPELINING); with --no-pipelining each waits
for the reply to the one before, as smtplib, Django, Flask-Mail and most application clients send.

Prints one JSON line: messages sent, errors, messages per second, p50/p99 latency of the
DATA reply (ms) and the queued-as IDs it was given (with --ids) for checking afterwards.
Every reply code is checked; a connection that gets an unexpected reply counts an error
and starts again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import BinaryIO

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None


def make_message(size: int, number: int) -> bytes:
    """A plausible message of about `size` bytes, dot-stuffing already applied (no line starts with a dot)."""
    head = (
        f"From: Load Test <load@example.com>\r\nTo: user{number % 100}@example.com\r\n"
        f"Subject: load message {number}\r\nMessage-ID: <{number}.{time.time_ns()}@bench.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    line = b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


async def read_reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readuntil(b"\r\n")
        if line[3:4] != b"-":
            return line


def read_reply_from(replies: BinaryIO) -> bytes:
    """`read_reply` for a blocking socket's file: the last line of one (possibly multi-line) reply."""
    while (line := replies.readline())[3:4] == b"-":
        pass
    return line


class Stats:
    def __init__(self) -> None:
        self.sent = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.ids: list[str] = []


ENVELOPE = (b"MAIL FROM:<load@example.com>\r\n", b"RCPT TO:<user@example.com>\r\n", b"DATA\r\n")
ENVELOPE_REPLIES = (b"250", b"250", b"354")


async def send_envelope(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pipelined: bool) -> None:
    """MAIL, RCPT and DATA: written together when pipelined, else each after the reply to the one before."""
    if pipelined:
        writer.write(b"".join(ENVELOPE))
    for index, expected in enumerate(ENVELOPE_REPLIES):
        if not pipelined:
            writer.write(ENVELOPE[index])
        if not (await read_reply(reader)).startswith(expected):
            raise ConnectionError(f"expected {expected!r}")


async def sender(
    host: str,
    port: int,
    size: int,
    deadline: float,
    limit: int | None,
    stats: Stats,
    keep_ids: bool,
    pipelined: bool = True,
) -> None:
    bodies = [make_message(size, n) for n in range(8)]
    while time.monotonic() < deadline and (limit is None or stats.sent < limit):
        try:
            reader, writer = await asyncio.open_connection(host, port)
            if not (await read_reply(reader)).startswith(b"220"):
                raise ConnectionError("no greeting")
            writer.write(b"EHLO bench.example\r\n")
            if not (await read_reply(reader)).startswith(b"250"):
                raise ConnectionError("EHLO refused")
            number = 0
            while time.monotonic() < deadline and (limit is None or stats.sent < limit):
                body = bodies[number % len(bodies)]
                number += 1
                started = time.perf_counter()
                await send_envelope(reader, writer, pipelined)
                writer.write(body + b".\r\n")
                reply = await read_reply(reader)
                if not reply.startswith(b"250"):
                    raise ConnectionError(f"DATA answered {reply!r}")
                stats.latencies.append(time.perf_counter() - started)
                stats.sent += 1
                if keep_ids:
                    stats.ids.append(reply.decode().split()[-1])
            writer.write(b"QUIT\r\n")
            await read_reply(reader)
            writer.close()
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as error:
            stats.errors += 1
            if stats.errors > 1000:
                raise RuntimeError(f"too many errors, last: {error}") from error
            await asyncio.sleep(0.01)


async def run(
    host: str,
    port: int,
    connections: int,
    size: int,
    seconds: float,
    count: int | None,
    keep_ids: bool,
    pipelined: bool = True,
) -> dict[str, object]:
    stats = Stats()
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(sender(host, port, size, deadline, count, stats, keep_ids, pipelined) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(stats.latencies) or [0.0]
    return {
        "sent": stats.sent,
        "errors": stats.errors,
        "seconds": round(elapsed, 3),
        "per_second": round(stats.sent / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1 if len(latencies) > 1 else 0] * 1000, 2),
        "ids": stats.ids,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--size", type=int, default=2048, help="message size in bytes")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--count", type=int, help="stop after this many messages")
    parser.add_argument("--ids", action="store_true", help="report the IDs the server gave")
    parser.add_argument("--no-pipelining", action="store_true", help="send MAIL, RCPT and DATA one at a time")
    args = parser.parse_args()
    if uvloop is not None:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    result = asyncio.run(
        run(
            args.host,
            args.port,
            args.connections,
            args.size,
            args.seconds,
            args.count,
            args.ids,
            not args.no_pipelining,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
