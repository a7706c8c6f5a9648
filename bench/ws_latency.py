"""Websocket delivery: time from the SMTP 250 reply to the `new` frame at each of N clients, at a steady rate.

    python bench/ws_latency.py                       # 20 clients, 500 messages a second, 10 s, in memory
    python bench/ws_latency.py --file                # the same with --database on a temporary file
    python bench/ws_latency.py --seconds 1 --rate 50 --clients 3    # smoke run

Three processes share the machine: the catcher, this one (the SMTP sender) and a child
running every websocket client. The sender paces messages on a fixed schedule (message k
is due at start + k/rate) over several reused connections, MAIL/RCPT/DATA in one write.
A connection that falls behind sends its next message at once, so the rate is held
whenever the catcher can keep up; the rate actually achieved is reported, and a warning
goes to stderr when it fell short of the one asked for.

The clients are plain websocket connections on the event loop's protocol callbacks, with
just enough of RFC 6455 for a server's unmasked frames, so that receiving 10,000 frames a
second costs the shared CPU as little as it can. A frame's arrival is stamped when its bytes
are handed to the process; the 250 reply is stamped when it is read. Both use
time.monotonic(), which is CLOCK_MONOTONIC on Linux and the same clock in every process.

Prints one JSON line: messages acknowledged, requested and achieved rate, frames expected
and received, delivery p50/p99/max in ms, and how late the sender ran behind its schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catcher_process import CatcherProcess
from smtp_load import make_message, read_reply

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
NEW_PREFIX = b'{"Type":"new",'
ID_KEY = b'"ID":"'


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list."""
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * fraction + 0.999999) - 1))]


# Websocket clients (run in a child process) --------------------------------------------------


class FrameClient(asyncio.Protocol):
    """One websocket connection that stamps each `new` frame with its arrival time."""

    def __init__(self, host: str, path: str, connected: asyncio.Future[None]) -> None:
        self.host = host
        self.path = path
        self.connected = connected
        self.transport: asyncio.Transport | None = None
        self.key = base64.b64encode(os.urandom(16))
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.ids: list[bytes] = []  # two flat lists rather than tuples: nothing for the garbage collector to track
        self.times: list[float] = []
        self.other_frames = 0
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not asyncio.Transport
        transport.write(
            b"GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (self.path.encode(), self.host.encode(), self.key)
        )

    def connection_lost(self, error: Exception | None) -> None:
        self.closed = True
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(f"websocket closed during the handshake: {error}"))

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).split(b"\r\n")
            del self.buffer[: end + 4]
            accept = base64.b64encode(hashlib.sha1(self.key + WEBSOCKET_GUID).digest())
            headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(b":") for h in head[1:])}
            if head[0].split()[1:2] != [b"101"] or headers.get(b"sec-websocket-accept") != accept:
                self.connected.set_exception(ConnectionError(f"handshake refused: {head[0]!r}"))
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            self.connected.set_result(None)
        self._frames(now)

    def _frames(self, now: float) -> None:
        buffer = self.buffer
        size = len(buffer)
        at = 0
        while size - at >= 2:
            first, second = buffer[at], buffer[at + 1]
            if second & 0x80:
                raise ConnectionError("a server frame was masked")
            length = second & 0x7F
            start = at + 2
            if length == 126:
                if size - at < 4:
                    break
                length = int.from_bytes(buffer[at + 2 : at + 4], "big")
                start = at + 4
            elif length == 127:
                if size - at < 10:
                    break
                length = int.from_bytes(buffer[at + 2 : at + 10], "big")
                start = at + 10
            if size - start < length:
                break
            payload = bytes(buffer[start : start + length])
            at = start + length
            opcode = first & 0x0F
            if opcode in (0, 1, 2):
                self.fragments.append(payload)
                if first & 0x80:
                    message = b"".join(self.fragments) if len(self.fragments) > 1 else payload
                    self.fragments = []
                    self._message(message, now)
            elif opcode == 9:
                self._send(0xA, payload)  # pong
            elif opcode == 8:
                self._send(0x8, payload[:2])
                self.closed = True
        del buffer[:at]

    def _send(self, opcode: int, payload: bytes) -> None:
        """A client frame (always masked); only control frames are ever sent, so the length fits in 7 bits."""
        assert self.transport is not None and len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.transport.write(bytes((0x80 | opcode, 0x80 | len(payload))) + mask + masked)

    def _message(self, message: bytes, now: float) -> None:
        if message.startswith(NEW_PREFIX):
            start = message.find(ID_KEY, len(NEW_PREFIX)) + len(ID_KEY)
            self.ids.append(message[start : message.index(b'"', start)])
            self.times.append(now)
        elif message.startswith(b'{"Type":"'):
            self.other_frames += 1
        else:  # not the compact encoding the fast path expects: decode it properly
            event = json.loads(message)
            if event["Type"] == "new":
                self.ids.append(event["Data"]["ID"].encode())
                self.times.append(now)
            else:
                self.other_frames += 1

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self._send(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()


async def run_clients(url: str, count: int) -> dict[str, object]:
    """Connect `count` clients, say "ready", receive until told how many messages to expect, report arrivals."""
    loop = asyncio.get_running_loop()
    host_port, _, path = url.removeprefix("ws://").partition("/")
    host, _, port = host_port.rpartition(":")
    clients = []
    for _ in range(count):
        connected: asyncio.Future[None] = loop.create_future()
        _, client = await loop.create_connection(
            lambda c=connected: FrameClient(host_port, "/" + path, c), host, int(port)
        )
        await asyncio.wait_for(connected, 10)
        clients.append(client)
    print("ready", flush=True)
    line = await loop.run_in_executor(None, sys.stdin.readline)
    if not line:
        raise SystemExit("ws_latency: the sender went away")
    expected = int(line)
    # Wait for every client to have every frame, or for the frames to stop coming.
    last_total, quiet_since = -1, time.monotonic()
    while True:
        total = sum(len(client.ids) for client in clients)
        if total >= expected * count or time.monotonic() - quiet_since > 3.0:
            break
        if total != last_total:
            last_total, quiet_since = total, time.monotonic()
        await asyncio.sleep(0.05)
    for client in clients:
        client.close()
    return {
        "arrivals": [
            [(message_id.decode(), at) for message_id, at in zip(client.ids, client.times, strict=True)]
            for client in clients
        ],
        "other_frames": sum(client.other_frames for client in clients),
        "closed_early": sum(client.closed for client in clients),
    }


# SMTP sender --------------------------------------------------------------------------------


async def send_on_schedule(port: int, rate: float, total: int, connections: int, size: int) -> dict[str, object]:
    """Send `total` messages, message k due at start + k/rate, over `connections` reused connections."""
    bodies = [make_message(size, n) + b".\r\n" for n in range(16)]
    acknowledged: dict[str, float] = {}
    lateness: list[float] = []
    streams = []
    for _ in range(connections):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if not (await read_reply(reader)).startswith(b"220"):
            raise ConnectionError("no greeting")
        writer.write(b"EHLO ws.bench\r\n")
        if not (await read_reply(reader)).startswith(b"250"):
            raise ConnectionError("EHLO refused")
        streams.append((reader, writer))
    started = time.monotonic() + 0.05

    async def one_connection(number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for k in range(number, total, connections):
            due = started + k / rate
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            else:
                lateness.append(-wait)
            writer.write(b"MAIL FROM:<sender@example.com>\r\nRCPT TO:<reader@example.com>\r\nDATA\r\n")
            for expected in (b"250", b"250", b"354"):
                reply = await read_reply(reader)
                if not reply.startswith(expected):
                    raise ConnectionError(f"expected {expected!r}, got {reply!r}")
            writer.write(bodies[k % len(bodies)])
            reply = await read_reply(reader)
            now = time.monotonic()
            if not reply.startswith(b"250"):
                raise ConnectionError(f"DATA answered {reply!r}")
            acknowledged[reply.decode().split()[-1]] = now
        writer.write(b"QUIT\r\n")
        await read_reply(reader)
        writer.close()

    await asyncio.gather(*(one_connection(n, r, w) for n, (r, w) in enumerate(streams)))
    finished = max(acknowledged.values())
    lateness.sort()
    return {
        "acknowledged": acknowledged,
        "achieved_rate": round(len(acknowledged) / (finished - started), 1),
        "late_sends": len(lateness),
        "late_max_ms": round(lateness[-1] * 1000, 2) if lateness else 0.0,
    }


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far (Linux), or None where /proc can't tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace, catcher: CatcherProcess) -> dict[str, object]:
    load_before = os.getloadavg()  # other work on the machine skews every figure here
    url = catcher.url.replace("http://", "ws://") + "/api/events"
    listeners = subprocess.Popen(
        [sys.executable, __file__, "--serve-clients", url, "--clients", str(args.clients)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert listeners.stdin is not None and listeners.stdout is not None
    try:
        if listeners.stdout.readline().strip() != "ready":
            raise RuntimeError("the websocket clients did not connect")
        total = round(args.rate * args.seconds)
        cpu_before = (
            [*(cpu_seconds(pid) for pid in (catcher.pid, listeners.pid)), time.process_time()],
            time.monotonic(),
        )
        with asyncio.Runner(loop_factory=new_loop) as runner:
            sent = runner.run(send_on_schedule(catcher.smtp_port, args.rate, total, args.senders, args.size))
        acknowledged: dict[str, float] = sent.pop("acknowledged")  # type: ignore[assignment]
        cpu_after = [*(cpu_seconds(pid) for pid in (catcher.pid, listeners.pid)), time.process_time()], time.monotonic()
        listeners.stdin.write(f"{len(acknowledged)}\n")
        listeners.stdin.flush()
        received = json.loads(listeners.stdout.read())
    finally:
        listeners.stdin.close()
        listeners.wait(30)
    timeline = [
        (acknowledged[message_id], (at - acknowledged[message_id]) * 1000)
        for frames in received["arrivals"]
        for message_id, at in frames
        if message_id in acknowledged
    ]
    if args.timeline:
        start = min(acknowledged.values())
        with open(args.timeline, "w") as out:
            out.writelines(f"{acked - start:.4f} {delay:.3f}\n" for acked, delay in sorted(timeline))
    delays = sorted(delay for _, delay in timeline)
    achieved = sent["achieved_rate"]
    elapsed = cpu_after[1] - cpu_before[1]
    busy = [
        None if before is None or after is None else round((after - before) / elapsed * 100)
        for before, after in zip(cpu_before[0], cpu_after[0], strict=True)
    ]
    assert isinstance(achieved, float)
    return {
        "mode": "file" if args.file else "memory",
        "messages": len(acknowledged),
        "clients": args.clients,
        "senders": args.senders,
        "requested_rate": args.rate,
        "achieved_rate": achieved,
        "rate_held": achieved >= args.rate * 0.98,
        **sent,
        "frames_expected": len(acknowledged) * args.clients,
        "frames_received": len(delays),
        "other_frames": received["other_frames"],
        "p50_ms": round(statistics.median(delays), 2) if delays else None,
        "p99_ms": round(percentile(delays, 0.99), 2) if delays else None,
        "max_ms": round(delays[-1], 2) if delays else None,
        "load_average_before": [round(x, 2) for x in load_before],
        "cpu_percent": {"catcher": busy[0], "clients": busy[1], "sender": busy[2]},
        "catcher_cpu_ms_per_message": (
            None
            if cpu_before[0][0] is None or cpu_after[0][0] is None
            else round((cpu_after[0][0] - cpu_before[0][0]) * 1000 / len(acknowledged), 3)
        ),
    }


def new_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop() if uvloop is not None else asyncio.new_event_loop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rate", type=float, default=500, help="messages per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--senders", type=int, default=50, help="SMTP connections sharing the rate")
    parser.add_argument("--size", type=int, default=2048, help="message size in bytes")
    parser.add_argument("--file", action="store_true", help="run the catcher with --database on a temporary file")
    parser.add_argument(
        "--timeline",
        metavar="FILE",
        help="write each frame's 250 time (s from the first) and delivery delay (ms) to FILE",
    )
    parser.add_argument("--serve-clients", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    gc.disable()  # a collection pausing the clients or the sender would be counted as delivery time
    if args.serve_clients:
        with asyncio.Runner(loop_factory=new_loop) as runner:
            result = runner.run(run_clients(args.serve_clients, args.clients))
        sys.stdout.write(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory() as directory:
        database = ["--database", str(Path(directory) / "ws.db")] if args.file else []
        with CatcherProcess("--max", "0", *database) as catcher:
            result = run(args, catcher)
    print(json.dumps(result))
    if not result["rate_held"]:
        print(
            f"ws_latency: the sender fell short: {result['achieved_rate']} messages/s of {args.rate} asked for; "
            "the delivery figures are not for the requested rate",
            file=sys.stderr,
        )
    return 0 if result["frames_received"] == result["frames_expected"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
