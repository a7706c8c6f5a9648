"""Capture throughput, side by side: aiosmtpd's do-nothing Sink against mailcatch in memory and in a file.

    python bench/compare.py                 # full run: 3 alternating rounds of 5 s per cell
    python bench/compare.py --quick         # a smoke run of a few seconds in all

Each cell is measured with a client that sends MAIL, RCPT and DATA one at a time, waiting for
each reply (as smtplib, Django, Flask-Mail and most application clients do: the headline), and
with one that pipelines them (`--client` picks one).

Each cell of the table is measured in rounds, the targets taking turns within a round, so
that a noisy machine treats them alike; the table shows medians. After each measurement the
target is left to finish its work (mailcatch indexes for search after a burst) before the
next one starts, and that work counts in its CPU time per message. Besides messages per second
and the latency of the DATA reply it shows the server's CPU time per message (less noisy than
throughput) and its peak memory, and afterwards it checks that mailcatch stored every message
it acknowledged (in memory, counting those it logged dropping to stay under SQLite's 1 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from catcher_process import CatcherProcess

HERE = Path(__file__).resolve().parent
LOAD = HERE / "smtp_load.py"
CLIENTS = ("one-at-a-time", "pipelined")
"""The load clients, by whether they pipeline (False, True)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Target:
    name: str
    catcher: CatcherProcess | None = None
    sink_port: int = 0
    sink: subprocess.Popen[bytes] | None = None
    acknowledged: int = 0
    results: dict[tuple[int, int], list[dict[str, float]]] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.catcher.smtp_port if self.catcher else self.sink_port

    @property
    def pid(self) -> int:
        if self.catcher:
            return self.catcher.pid
        assert self.sink is not None
        return self.sink.pid

    def start(self) -> None:
        if self.catcher:
            self.catcher.start()
            return
        self.sink = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Sink",
                "-l",
                f"127.0.0.1:{self.sink_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.sink_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the Sink did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.catcher:
            self.catcher.stop()
        elif self.sink is not None:
            self.sink.terminate()
            self.sink.wait(30)


def settle(target: Target, timeout: float = 60) -> None:
    """Wait until the target is idle again: mailcatch indexes for search once a burst of mail
    is over, and that work must neither slip into the next target's turn nor go uncounted."""
    if target.catcher:  # a search answers once everything stored is indexed
        try:
            with urllib.request.urlopen(f"{target.catcher.url}/api/v1/search?query=settled&limit=1", timeout=timeout):
                pass
        except OSError:
            print(
                f"{target.name}: the settling search failed; the catcher's log ends:\n" + "".join(target.catcher.log),
                file=sys.stderr,
            )
            raise
    deadline = time.monotonic() + timeout
    before = target.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = target.cpu_seconds()
        if now - before < 0.01:
            return
        before = now


def measure(target: Target, connections: int, size: int, seconds: float, pipelined: bool) -> dict[str, float]:
    cpu_before = target.cpu_seconds()
    output = subprocess.run(
        [
            sys.executable,
            str(LOAD),
            "--port",
            str(target.port),
            "--connections",
            str(connections),
            "--size",
            str(size),
            "--seconds",
            str(seconds),
            *([] if pipelined else ["--no-pipelining"]),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output)
    settle(target)
    cpu = target.cpu_seconds() - cpu_before
    if result["errors"]:
        raise RuntimeError(f"{target.name}: {result['errors']} errors")
    target.acknowledged += int(result["sent"])
    return {
        "per_second": result["per_second"],
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "cpu_ms": cpu * 1000 / max(result["sent"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--connections", default="10")
    parser.add_argument("--sizes", default="2048,102400")
    parser.add_argument(
        "--client",
        choices=[*CLIENTS, "both"],
        default="both",
        help="one-at-a-time: MAIL, RCPT and DATA each after the reply to the one before, as smtplib sends;"
        " pipelined: together",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 0.5, 1
    clients = list(CLIENTS) if args.client == "both" else [args.client]
    cells = [
        (int(c), int(s), client == "pipelined")
        for client in clients
        for c in args.connections.split(",")
        for s in args.sizes.split(",")
    ]
    workdir = Path(tempfile.mkdtemp(prefix="mailcatch-bench-"))
    sink_port = free_port()
    targets = [
        Target("sink", sink_port=sink_port),
        Target("memory", CatcherProcess("--max", "0")),
        Target("file", CatcherProcess("--max", "0", "--database", str(workdir / "bench.db"))),
    ]
    try:
        for target in targets:
            target.start()
        for cell in cells:
            for round_number in range(args.rounds):
                order = targets[round_number % len(targets) :] + targets[: round_number % len(targets)]
                for target in order:
                    target.results.setdefault(cell, []).append(measure(target, cell[0], cell[1], args.seconds, cell[2]))
        ok = True
        for target in targets[1:]:
            assert target.catcher is not None
            with urllib.request.urlopen(f"{target.catcher.url}/api/v1/info", timeout=30) as response:
                info = json.load(response)
            # Nothing is deleted here but, in memory, the oldest, to stay under SQLite's 1 GB.
            stored, dropped = info["Messages"], info["RuntimeStats"]["MessagesDeleted"]
            if stored + dropped != target.acknowledged:
                print(
                    f"LOST: {target.name} acknowledged {target.acknowledged} messages but stored {stored}"
                    + (f" (and dropped {dropped} to make room)" if dropped else "")
                )
                ok = False
            else:
                print(
                    f"{target.name}: all {target.acknowledged} acknowledged messages stored"
                    + (f" ({dropped} of the oldest later dropped to make room in memory)" if dropped else "")
                )
        peaks = {t.name: t.peak_rss_mb() for t in targets}
    finally:
        for target in targets:
            target.stop()
    print()
    print(
        f"{'client':13} {'target':8} {'conns':>5} {'size':>7} {'msg/s':>8} {'x sink':>7} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'cpu ms/msg':>10} {'peak MB':>8}"
    )
    for cell in cells:
        sink = statistics.median(r["per_second"] for r in targets[0].results[cell])
        for target in targets:
            rows = target.results[cell]
            rate = statistics.median(r["per_second"] for r in rows)
            print(
                f"{CLIENTS[cell[2]]:13} {target.name:8} {cell[0]:>5} {cell[1] // 1024:>5}KB {rate:>8.0f} {rate / sink:>7.2f}"
                f" {statistics.median(r['p50_ms'] for r in rows):>7.2f}"
                f" {statistics.median(r['p99_ms'] for r in rows):>7.2f}"
                f" {statistics.median(r['cpu_ms'] for r in rows):>10.3f} {peaks[target.name]:>8.0f}"
            )
    print(f"\n{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.rounds} round(s) of {args.seconds:g} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
