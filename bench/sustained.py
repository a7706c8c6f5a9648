"""Sustained load on a database file: does throughput hold, and do the log, the disk writes and memory stay bounded?

    python bench/sustained.py --seconds 600                  # ten minutes, --max 0 (keep everything)
    python bench/sustained.py --seconds 600 --max 5000       # pruning as it goes
    python bench/sustained.py --seconds 20 --window 5        # the short version CI runs

A catcher process stores into a new database file while --connections clients send --size
byte messages as fast as it answers, MAIL, RCPT and DATA one at a time (as smtplib does;
--pipelining sends them together). Every --window seconds it prints the window's messages
per second, the largest logs seen (the database's write-ahead log, the search index's journal), bytes
the catcher wrote to disk per byte of mail, its memory, and where the CPU went: the catcher's
milliseconds per message (its main thread, and its other threads: the writer and the search index),
the load's, and the machine's idle and stolen shares (a slow window with the catcher's cost per
message unchanged and the machine busy was slowed by something else). After the load it waits for the
logs to shrink, then stops the catcher and times the shutdown. With --max N, the run first
stores N messages, untimed, so that every window prunes as it goes (the first window would
otherwise hold the messages stored before pruning begins, and be faster than the rest).

The last line is one JSON object with the figures and a verdict: no window below 85% of the
first, each log at most 64 MB and small again within 10 s of the load stopping, at most 8 bytes
written per byte of mail, shutdown within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from catcher_process import CatcherProcess
from smtp_load import Stats, make_message, sender

WAL_LIMIT = 64 * 1024 * 1024
SMALL_WAL = 4 * 1024 * 1024
"""A log this size or less counts as small again after the load."""
SETTLE_SECONDS = 10.0
MIN_WINDOW_RATIO = 0.85
MAX_WRITTEN_PER_BYTE = 8.0
MAX_SHUTDOWN_SECONDS = 2.0
SAMPLE_SECONDS = 0.2
FILL_SECONDS = 300.0
"""At most this long to store --max messages before the run."""
WATCH_SECONDS = 0.002
"""How often the logs' sizes are looked at: the index's journal lives only while a commit is open."""
LOGS = {"wal": ("wal",), "index": ("search-journal", "search-wal")}
"""The logs watched, by the name reported: the store's write-ahead log, and the search index's
journal (or write-ahead log, in an index made by an earlier version), beside the database file."""


def wal_sizes(database: Path) -> dict[str, int]:
    """Bytes of each log beside `database` (the store's and the search index's)."""
    sizes = {}
    for name, suffixes in LOGS.items():
        sizes[name] = 0
        for suffix in suffixes:
            with contextlib.suppress(FileNotFoundError):
                sizes[name] += (database.parent / f"{database.name}-{suffix}").stat().st_size
    return sizes


class LogWatcher(threading.Thread):
    """Keeps the largest size each log reached, looking every WATCH_SECONDS."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.largest = dict.fromkeys(LOGS, 0)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(WATCH_SECONDS):
            for name, size in wal_sizes(self.database).items():
                self.largest[name] = max(self.largest[name], size)


def written_bytes(pid: int) -> int:
    """Bytes the process has had written to disk (write_bytes less what truncation cancelled)."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(fields["write_bytes"]) - int(fields["cancelled_write_bytes"])


def memory(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of the process, in bytes."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds (user and system) of the process's main thread and of its other threads together."""
    tick = os.sysconf("SC_CLK_TCK")
    main = others = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = task.joinpath("stat").read_text().rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12])) / tick
            if task.name == str(pid):
                main += seconds
            else:
                others += seconds
    return main, others


def machine_ticks() -> dict[str, int]:
    """The machine's CPU time so far, in ticks: busy, idle (with I/O wait) and stolen by the host."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return {"busy": user + nice + system + irq + softirq, "idle": idle + iowait, "steal": steal}


class CpuWindow:
    """Where the CPU went in a window: the catcher's threads, this process (the load), the machine."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.catcher, self.load, self.ticks = cpu_seconds(pid), os.times(), machine_ticks()

    def next(self, messages: int) -> dict[str, float]:
        """The window just ended (the catcher's and the load's CPU ms per message, the machine's idle and
        stolen percentages), and a start of the next."""
        catcher, load, ticks = cpu_seconds(self.pid), os.times(), machine_ticks()
        spent = {name: ticks[name] - self.ticks[name] for name in ticks}
        total = max(1, sum(spent.values()))
        per = 1000 / max(1, messages)
        window = {
            "main": (catcher[0] - self.catcher[0]) * per,
            "threads": (catcher[1] - self.catcher[1]) * per,
            "load": ((load.user + load.system) - (self.load.user + self.load.system)) * per,
            "idle": 100 * spent["idle"] / total,
            "steal": 100 * spent["steal"] / total,
        }
        self.catcher, self.load, self.ticks = catcher, load, ticks
        return window


def mb(value: float) -> float:
    return round(value / 1024 / 1024, 1)


async def fill_to(catcher: CatcherProcess, count: int, args: argparse.Namespace) -> float:
    """Store `count` messages, as the load sends them; the seconds it took."""
    started = time.monotonic()
    stats = Stats()
    await asyncio.gather(
        *(
            sender(
                "127.0.0.1", catcher.smtp_port, args.size, started + FILL_SECONDS, count, stats, False, args.pipelining
            )
            for _ in range(args.connections)
        )
    )
    if stats.sent < count:
        raise RuntimeError(f"stored only {stats.sent} of {count} messages in {FILL_SECONDS} s before the run")
    return time.monotonic() - started


async def load_and_watch(catcher: CatcherProcess, database: Path, args: argparse.Namespace) -> dict[str, object]:
    filled = int(args.max)
    fill_seconds = await fill_to(catcher, filled, args) if filled > 0 else 0.0
    stats = Stats()
    deadline = time.monotonic() + args.seconds
    mail_bytes = len(make_message(args.size, 0))
    senders = asyncio.gather(
        *(
            sender("127.0.0.1", catcher.smtp_port, args.size, deadline, None, stats, False, args.pipelining)
            for _ in range(args.connections)
        )
    )
    windows: list[float] = []
    watcher = LogWatcher(database)
    watcher.start()
    largest = watcher.largest
    written_before = written_bytes(catcher.pid)
    window_start, window_sent = time.monotonic(), 0
    cpu = CpuWindow(catcher.pid)
    catcher_cpu: list[float] = []
    idle: list[int] = []
    while not senders.done():
        await asyncio.sleep(SAMPLE_SECONDS)
        now = time.monotonic()
        if now - window_start >= args.window or senders.done():
            elapsed = now - window_start
            if elapsed >= args.window / 2:  # a last scrap of a window says nothing
                rate = (stats.sent - window_sent) / elapsed
                windows.append(rate)
                rss, _ = memory(catcher.pid)
                used = cpu.next(stats.sent - window_sent)
                catcher_cpu.append(round(used["main"] + used["threads"], 3))
                idle.append(round(used["idle"]))
                written = written_bytes(catcher.pid) - written_before
                print(
                    f"{len(windows) * args.window:5.0f} s  {rate:7.0f} msg/s  "
                    f"wal {mb(largest['wal']):6.1f} MB  index journal {mb(largest['index']):6.1f} MB  "
                    f"written/mail {written / max(1, stats.sent * mail_bytes):5.2f}  rss {mb(rss):6.1f} MB  "
                    f"cpu ms/msg: catcher {used['main']:.3f} + {used['threads']:.3f} threads, load {used['load']:.3f}  "
                    f"machine idle {used['idle']:3.0f}% steal {used['steal']:3.0f}%",
                    flush=True,
                )
            window_start, window_sent = now, stats.sent
    await senders
    written = written_bytes(catcher.pid) - written_before
    settled = time.monotonic()
    while any(size > SMALL_WAL for size in wal_sizes(database).values()):
        if time.monotonic() - settled > SETTLE_SECONDS:
            break
        await asyncio.sleep(SAMPLE_SECONDS)
    settle_seconds = time.monotonic() - settled
    watcher.stopping.set()
    _, peak = memory(catcher.pid)
    return {
        "filled_first": {"messages": filled, "seconds": round(fill_seconds, 1)},
        "sent": stats.sent,
        "errors": stats.errors,
        "mail_mb": mb(stats.sent * mail_bytes),
        "windows_per_second": [round(rate) for rate in windows],
        "windows_catcher_cpu_ms_per_message": catcher_cpu,
        "windows_machine_idle_percent": idle,
        "lowest_window_ratio": round(min(windows) / windows[0], 3) if windows and windows[0] else 0.0,
        "largest_wal_mb": mb(largest["wal"]),
        "largest_index_log_mb": mb(largest["index"]),
        "wal_small_again_seconds": round(settle_seconds, 2),
        "wal_after_mb": {name: mb(size) for name, size in wal_sizes(database).items()},
        "written_per_mail_byte": round(written / max(1, stats.sent * mail_bytes), 2),
        "peak_rss_mb": mb(peak),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--window", type=float, default=10, help="seconds per reported window")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--size", type=int, default=2048, help="message size in bytes")
    parser.add_argument("--max", default="0", help="the catcher's --max (0 keeps every message)")
    parser.add_argument("--pipelining", action="store_true", help="send MAIL, RCPT and DATA together")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailcatch-sustained-") as folder:
        database = Path(folder) / "mail.db"
        catcher = CatcherProcess("--database", str(database), "--max", args.max).start()
        try:
            result = asyncio.run(load_and_watch(catcher, database, args))
        finally:
            stopping = time.monotonic()
            catcher.stop()
            shutdown = time.monotonic() - stopping
        result["shutdown_seconds"] = round(shutdown, 2)
        result["database_mb"] = mb(database.stat().st_size)
        result["search_index_mb"] = mb((database.parent / f"{database.name}-search").stat().st_size)
    result["ok"] = bool(
        not result["errors"]
        and float(result["lowest_window_ratio"]) >= MIN_WINDOW_RATIO  # type: ignore[arg-type]
        and float(result["largest_wal_mb"]) <= mb(WAL_LIMIT)  # type: ignore[arg-type]
        and float(result["largest_index_log_mb"]) <= mb(WAL_LIMIT)  # type: ignore[arg-type]
        and float(result["wal_small_again_seconds"]) < SETTLE_SECONDS  # type: ignore[arg-type]
        and float(result["written_per_mail_byte"]) <= MAX_WRITTEN_PER_BYTE  # type: ignore[arg-type]
        and shutdown <= MAX_SHUTDOWN_SECONDS
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
