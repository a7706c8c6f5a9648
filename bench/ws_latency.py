"""Websocket delivery: time from the SMTP 250 reply to the `new` frame at each of N clients, at a steady rate.

    python bench/ws_latency.py                       # 20 clients, 500 messages a second, 10 s
    python bench/ws_latency.py --seconds 1 --rate 50 --clients 3    # smoke run

Prints one JSON line: messages sent, frames expected and received, delivery p50/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import websockets

from catcher_process import CatcherProcess
from smtp_load import read_reply



async def listen(url: str, arrivals: dict[str, list[float]], ready: asyncio.Event, done: asyncio.Event,
                 connected: list[int]) -> None:
    async with websockets.connect(url, max_size=None) as socket:
        connected.append(1)
        ready.set()
        while not done.is_set():
            try:
                frame = await asyncio.wait_for(socket.recv(), 0.5)
            except asyncio.TimeoutError:
                continue
            now = time.perf_counter()
            event = json.loads(frame)
            if event["Type"] == "new":
                arrivals.setdefault(event["Data"]["ID"], []).append(now)


async def send(port: int, rate: float, seconds: float, acknowledged: dict[str, float], senders: int) -> None:
    interval = senders / rate
    deadline = time.monotonic() + seconds

    async def one_connection(offset: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await read_reply(reader)
        writer.write(b"EHLO ws.bench\r\n")
        await read_reply(reader)
        next_at = time.monotonic() + offset
        number = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            number += 1
            writer.write(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            for _ in range(3):
                await read_reply(reader)
            writer.write(b"Subject: ws %d\r\n\r\n" % number + b"body line\r\n" * 100 + b".\r\n")
            final = await read_reply(reader)
            acknowledged[final.decode().split()[-1]] = time.perf_counter()
        writer.write(b"QUIT\r\n")
        writer.close()

    await asyncio.gather(*(one_connection(i * interval / senders) for i in range(senders)))


async def run(args: argparse.Namespace, port: int, http: str) -> dict[str, object]:
    arrivals: dict[str, list[float]] = {}
    acknowledged: dict[str, float] = {}
    done = asyncio.Event()
    connected: list[int] = []
    ready = [asyncio.Event() for _ in range(args.clients)]
    listeners = [asyncio.ensure_future(listen(f"ws://{http}/api/events", arrivals, r, done, connected))
                 for r in ready]
    await asyncio.gather(*(r.wait() for r in ready))
    await send(port, args.rate, args.seconds, acknowledged, args.senders)
    await asyncio.sleep(1.0)  # let the last frames arrive
    done.set()
    await asyncio.gather(*listeners)
    delays = sorted((at - acknowledged[message_id]) * 1000 for message_id, times in arrivals.items()
                    if message_id in acknowledged for at in times)
    received = sum(len(times) for message_id, times in arrivals.items() if message_id in acknowledged)
    return {
        "messages": len(acknowledged), "clients": len(connected), "frames_expected": len(acknowledged) * args.clients,
        "frames_received": received, "rate": round(len(acknowledged) / args.seconds, 1),
        "p50_ms": round(statistics.median(delays), 2) if delays else None,
        "p99_ms": round(delays[int(len(delays) * 0.99) - 1], 2) if len(delays) > 1 else None,
        "max_ms": round(delays[-1], 2) if delays else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=float, default=500, help="messages per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--senders", type=int, default=10, help="SMTP connections sharing the rate")
    args = parser.parse_args()
    with CatcherProcess("--max", "0") as catcher:
        result = asyncio.run(run(args, catcher.smtp_port, catcher.url.removeprefix("http://")))
    print(json.dumps(result))
    return 0 if result["frames_received"] == result["frames_expected"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
