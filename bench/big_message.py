"""Does a huge message stall other sessions? Times small messages on one connection while another sends a big one.

    python bench/big_message.py                  # three 25 MB messages, 2 KB ones every 20 ms beside them
    python bench/big_message.py --megabytes 2    # smoke run

Prints one JSON line: how long each big message took to be acknowledged, and the DATA
reply latency of the small messages sent meanwhile (p50, p99, max, in ms).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import statistics
import threading
import time

from catcher_process import CatcherProcess
from smtp_load import read_reply, read_reply_from


async def _session(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await read_reply(reader)
    writer.write(b"EHLO big.bench\r\n")
    await read_reply(reader)
    return reader, writer


async def _send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> bytes:
    writer.write(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
    for _ in range(3):
        await read_reply(reader)
    writer.write(data + b".\r\n")
    return await read_reply(reader)


def _send_big(port: int, big: bytes, rounds: int, results: list[tuple[float, bytes]]) -> None:
    """Send the big message `rounds` times over one connection, from a thread of its own with a
    blocking socket, so that pushing its bytes never delays the small messages' event loop."""
    with socket.create_connection(("127.0.0.1", port)) as sock, sock.makefile("rb") as replies:
        read_reply_from(replies)
        sock.sendall(b"EHLO big.bench\r\n")
        read_reply_from(replies)
        for _ in range(rounds):
            sock.sendall(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            for _ in range(3):
                read_reply_from(replies)
            started = time.perf_counter()
            sock.sendall(big + b".\r\n")
            answer = read_reply_from(replies)
            results.append(((time.perf_counter() - started) * 1000, answer))


async def run(port: int, megabytes: float, rounds: int) -> dict[str, object]:
    blob = base64.encodebytes(os.urandom(int(megabytes * 1024 * 1024 * 3 / 4))).replace(b"\n", b"\r\n")
    big = (
        b"Subject: big\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
        b"see attachment\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;"
        b" filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--b--\r\n"
    )
    small = b"Subject: small\r\n\r\n" + b"a line of a small message, fifty bytes or so....\r\n" * 40
    small_session = await _session(port)
    await _send(*small_session, small)  # warm up
    bigs: list[tuple[float, bytes]] = []
    sender = threading.Thread(target=_send_big, args=(port, big, rounds, bigs))
    sender.start()
    latencies: list[float] = []
    while sender.is_alive():
        started = time.perf_counter()
        reply = await _send(*small_session, small)
        assert reply.startswith(b"250"), reply
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.02)
    sender.join()
    small_session[1].close()
    latencies.sort()
    return {
        "big_bytes": len(big),
        "big_replies": sorted({r.decode().strip()[:3] for _, r in bigs}),
        "big_ms": [round(ms, 1) for ms, _ in bigs],
        "small_messages": len(latencies),
        "small_p50_ms": round(statistics.median(latencies), 2),
        "small_p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
        "small_max_ms": round(latencies[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=25)
    parser.add_argument("--rounds", type=int, default=3, help="big messages to send, one after another")
    parser.add_argument("--database", help="a file, to measure file mode (default: in memory)")
    args = parser.parse_args()
    with CatcherProcess(*(["--database", args.database] if args.database else [])) as catcher:
        result = asyncio.run(run(catcher.smtp_port, args.megabytes, args.rounds))
    print(json.dumps(result))
    return 0 if result["big_replies"] == ["250"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
