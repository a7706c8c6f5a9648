"""Peak resident memory of a catcher process under two loads: many ordinary messages, and many huge ones at once.

    python bench/memory.py                        # both loads, with --database FILE (60 s of 100 KB messages)
    python bench/memory.py --in-memory            # the same without --database
    python bench/memory.py --only steady --seconds 10
    python bench/memory.py --only big --big-count 4 --big-megabytes 5    # smoke run
    python bench/memory.py -- --max-in-flight 200                         # extra catcher flags after --

steady: `--connections` connections send `--size`-byte messages as fast as they are answered,
for `--seconds`. big: `--big-count` connections each send one `--big-megabytes` MB message at
the same moment (a base64 attachment, as big mail is), and those answered 452 (the catcher's
--max-in-flight budget) send it again until it is accepted.

Each load runs against a fresh catcher (bench/catcher_process.py); the figure is the
process's VmHWM (peak resident set) from /proc/PID/status, with its VmRSS sampled every
0.25 s while the load runs. Prints one JSON line per load. Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from catcher_process import CatcherProcess
from smtp_load import read_reply_from
from smtp_load import run as run_load

MB = 1024 * 1024


def status_kb(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status (VmHWM, VmRSS), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Sampler:
    """Samples a process's VmRSS on a thread until stopped; keeps the highest and the last."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append(status_kb(self.pid, "VmRSS"))
            except (OSError, KeyError):
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def big_message(megabytes: float) -> bytes:
    blob = base64.encodebytes(os.urandom(int(megabytes * MB * 3 / 4))).replace(b"\n", b"\r\n")
    return (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
        b"see attachment\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;"
        b" filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--b--\r\n"
    )


def _send_until_accepted(port: int, data: bytes, start: threading.Barrier, result: dict[str, int]) -> None:
    """One connection: send `data` (no SIZE= declared) until it is answered 250; counts the 452s."""
    with socket.create_connection(("127.0.0.1", port)) as sock, sock.makefile("rb") as replies:
        read_reply_from(replies)
        sock.sendall(b"EHLO memory.bench\r\n")
        read_reply_from(replies)
        start.wait()
        while True:
            sock.sendall(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            answers = [read_reply_from(replies) for _ in range(3)]
            if not answers[2].startswith(b"354"):
                raise RuntimeError(f"DATA answered {answers}")
            sock.sendall(data + b".\r\n")
            answer = read_reply_from(replies)
            if answer.startswith(b"250"):
                result["accepted"] += 1
                return
            if not answer.startswith(b"452"):
                raise RuntimeError(f"message answered {answer!r}")
            result["refused"] += 1
            time.sleep(0.05)


def big_load(port: int, count: int, megabytes: float) -> dict[str, object]:
    data = big_message(megabytes)
    result = {"accepted": 0, "refused": 0}
    start = threading.Barrier(count)
    started = time.perf_counter()
    threads = [threading.Thread(target=_send_until_accepted, args=(port, data, start, result)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {**result, "seconds": round(time.perf_counter() - started, 1)}


def measure(name: str, flags: list[str], load: dict[str, object], args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        database = [] if args.in_memory else ["--database", str(Path(folder) / "memory.db")]
        with CatcherProcess(*database, *flags) as catcher:
            idle = status_kb(catcher.pid, "VmRSS")
            with Sampler(catcher.pid) as sampler:
                if name == "steady":
                    outcome = asyncio.run(
                        run_load("127.0.0.1", catcher.smtp_port, args.connections, args.size, args.seconds, None, False)
                    )
                    outcome.pop("ids", None)
                else:
                    outcome = big_load(catcher.smtp_port, args.big_count, args.big_megabytes)
            peak = status_kb(catcher.pid, "VmHWM")
            samples = sampler.samples or [idle]
        return {
            "load": name,
            "mode": "memory" if args.in_memory else "file",
            **load,
            "flags": flags,
            "peak_rss_mb": round(peak / 1024, 1),
            "idle_rss_mb": round(idle / 1024, 1),
            "sampled_max_mb": round(max(samples) / 1024, 1),
            "sampled_last_mb": round(samples[-1] / 1024, 1),
            "rss_mb_every_5s": [round(kb / 1024) for kb in samples[::20]],
            **outcome,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-memory", action="store_true", help="run the catcher without --database")
    parser.add_argument("--only", choices=["steady", "big"], help="run one load only")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--size", type=int, default=100 * 1024, help="bytes per message of the steady load")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--big-count", type=int, default=20)
    parser.add_argument("--big-megabytes", type=float, default=40)
    parser.add_argument("flags", nargs="*", help="more catcher flags (after --)")
    args = parser.parse_args()
    if not Path("/proc/self/status").exists():
        sys.exit("bench/memory.py reads /proc/PID/status: Linux only")
    if args.only != "big":
        steady = {"connections": args.connections, "size": args.size, "for_seconds": args.seconds}
        print(json.dumps(measure("steady", args.flags, steady, args)), flush=True)
    if args.only != "steady":
        big = {"messages": args.big_count, "megabytes": args.big_megabytes}
        flags = args.flags
        needed = int(args.big_megabytes * 1.05) + 1  # base64 lines end in CRLF
        if needed > 50 and not any(flag.startswith("--max-message-size") for flag in flags):
            flags = [*flags, "--max-message-size", str(needed)]
        print(json.dumps(measure("big", flags, big, args)), flush=True)


if __name__ == "__main__":
    main()
