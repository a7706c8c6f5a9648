"""Soak test: a catcher under steady mixed traffic for a long time; does its memory stay flat?

    python bench/soak.py --seconds 600                   # ten minutes, the full soak
    python bench/soak.py --seconds 5 --connections 4     # the short version CI runs

Traffic: messages from 300 bytes to 200 KB, broken MIME, binary junk, NUL bytes and bare
LFs, junk commands, and clients that hang up halfway through DATA. The catcher keeps
its newest --max messages, so a flat memory line is the expectation. Prints one JSON line:
messages acknowledged, other outcomes, errors, memory at start, middle and end, and a verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import urllib.request
from pathlib import Path

from catcher_process import CatcherProcess
from smtp_load import read_reply


def message(rng: random.Random, number: int) -> bytes:
    kind = rng.random()
    if kind < 0.6:
        size = rng.choice((300, 2000, 8000, 30000, 200_000))
        body = b"".join(b"line %d of a realistic body with some words in it\r\n" % i for i in range(size // 50))
        return b"Subject: soak %d\r\nFrom: soak@example.com\r\nTo: you@example.com\r\n\r\n%s" % (number, body)
    if kind < 0.75:
        return (
            b'Subject: broken %d\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!not base64!!\r\n"
            b'--b\r\nContent-Type: application/octet-stream; name="x.bin"\r\n\r\n'
            % number
            + rng.randbytes(rng.randint(10, 5000)).replace(b"\r\n.", b"\r\n..")
            + b"\r\n"
        )
    if kind < 0.9:
        junk = rng.randbytes(rng.randint(1, 20000)).replace(b"\r\n", b"\n")
        return b"X-Junk: \xff\xfe\x00\r\n\r\n" + junk.replace(b"\n.", b"\n..") + b"\r\n"
    return b"Subject: lf only %d\nX-Nul: a\x00b\n\nbare LF body\nmore\n" % number


async def client(port: int, rng: random.Random, deadline: float, counts: dict[str, int]) -> None:
    number = 0
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            counts["errors"] += 1
            await asyncio.sleep(0.05)
            continue

        try:
            await read_reply(reader)
            writer.write(b"EHLO soak.test\r\n")
            await read_reply(reader)
            for _ in range(rng.randint(1, 20)):
                number += 1
                roll = rng.random()
                if roll < 0.03:
                    writer.write(rng.randbytes(40).replace(b"\n", b" ") + b"\r\n")
                    await read_reply(reader)
                    counts["junk_commands"] += 1
                    continue
                writer.write(b"MAIL FROM:<soak@example.com>\r\nRCPT TO:<you@example.com>\r\nDATA\r\n")
                codes = [(await read_reply(reader))[:3] for _ in range(3)]
                if codes != [b"250", b"250", b"354"]:
                    counts["errors"] += 1
                    break
                data = message(rng, number)
                if roll < 0.05:
                    writer.write(data[: len(data) // 2])  # hang up halfway through DATA
                    counts["abandoned"] += 1
                    break
                writer.write(data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n")
                if (await read_reply(reader)).startswith(b"250"):
                    counts["acknowledged"] += 1
                else:
                    counts["errors"] += 1
            else:
                writer.write(b"QUIT\r\n")
        except (OSError, asyncio.IncompleteReadError):
            counts["errors"] += 1
        finally:
            writer.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def soak(port: int, pid: int, seconds: float, connections: int, seed: int) -> dict[str, object]:
    counts = {"acknowledged": 0, "abandoned": 0, "junk_commands": 0, "errors": 0}
    deadline = time.monotonic() + seconds
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    senders = [
        asyncio.ensure_future(client(port, random.Random(seed + n), deadline, counts)) for n in range(connections)
    ]
    while not all(s.done() for s in senders):
        samples.append((round(time.monotonic() - started, 1), rss_mb(pid)))
        await asyncio.sleep(min(5.0, max(seconds / 20, 0.25)))
    await asyncio.gather(*senders)
    samples.append((round(time.monotonic() - started, 1), rss_mb(pid)))
    settled = samples[len(samples) // 4 :]  # after warm-up: caches and the --max window filling
    growth = settled[-1][1] - settled[0][1]
    return {
        **counts,
        "seconds": round(time.monotonic() - started, 1),
        "per_second": round(counts["acknowledged"] / (time.monotonic() - started), 1),
        "rss_start_mb": samples[0][1],
        "rss_after_warmup_mb": settled[0][1],
        "rss_end_mb": samples[-1][1],
        "rss_peak_mb": max(m for _, m in samples),
        "growth_after_warmup_mb": round(growth, 1),
        "memory_flat": growth < max(20.0, settled[0][1] * 0.15),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--max", type=int, default=2000, help="the catcher's --max")
    parser.add_argument("--memory", action="store_true", help="keep messages in memory instead of a file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailcatch-soak-") as folder:
        options = ["--max", str(args.max)] + ([] if args.memory else ["--database", str(Path(folder) / "soak.db")])
        with CatcherProcess(*options) as catcher:
            result = asyncio.run(soak(catcher.smtp_port, catcher.pid, args.seconds, args.connections, args.seed))
            with urllib.request.urlopen(f"{catcher.url}/api/v1/messages?limit=1", timeout=30) as response:
                result["stored"] = json.load(response)["total"]
            assert catcher.process is not None
            result["alive"] = catcher.process.poll() is None
    print(json.dumps(result))
    ok = result["alive"] and result["errors"] == 0 and result["stored"] == min(int(result["acknowledged"]), args.max)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
