"""Replicas on PostgreSQL beside SQLite: SMTP throughput and DATA-reply latency, one command at a time.

    python bench/replicas.py [--seconds 10] [--connections 10] [--size 2048] [--rounds 1]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]

Three setups, each on a fresh store: one catcher on a SQLite file; one catcher on a new
PostgreSQL database; two catchers (replicas) on one new PostgreSQL database, the load's
connections split over both. The load is bench/smtp_load.py's sender without pipelining (MAIL,
RCPT and DATA each after the reply to the one before, as application clients send), in this
process. Prints a table and then one JSON line; each figure is the median over the rounds.
The stores keep everything (--max 0), so pruning is not measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
from catcher_process import CatcherProcess
from smtp_load import Stats, sender

SETUPS = ("sqlite file", "postgres, 1 replica", "postgres, 2 replicas")


@contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    """A new PostgreSQL database on the server `admin` names; its URL; dropped after."""
    name = f"mailcatch_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def load(ports: list[int], connections: int, size: int, seconds: float) -> dict[str, float]:
    """`connections` non-pipelining senders for `seconds`, spread over the ports in turn."""
    stats = Stats()
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(
            sender("127.0.0.1", ports[n % len(ports)], size, deadline, None, stats, False, False)
            for n in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    latencies = sorted(stats.latencies) or [0.0]
    return {
        "sent": stats.sent,
        "errors": stats.errors,
        "per_second": stats.sent / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
    }


def count_stored(setup: str, where: str) -> int:
    if setup.startswith("postgres"):
        with psycopg.connect(where) as conn:
            row = conn.execute("SELECT count(*) FROM messages").fetchone()
            return int(row[0]) if row else 0
    import sqlite3

    with sqlite3.connect(where) as conn:
        return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])


def one_round(setup: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    with ExitStack() as stack:
        if setup == "sqlite file":
            where = str(folder / f"{uuid.uuid4().hex}.db")
        else:
            where = stack.enter_context(fresh_database(args.postgres))
        replicas = 2 if setup.endswith("2 replicas") else 1
        catchers = [stack.enter_context(CatcherProcess("--database", where, "--max", "0")) for _ in range(replicas)]
        result = asyncio.run(load([c.smtp_port for c in catchers], args.connections, args.size, args.seconds))
        for catcher in catchers:
            catcher.stop()  # before counting: every message answered 250 is stored
        result["stored"] = count_stored(setup, where)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {setup: [] for setup in SETUPS}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for setup in SETUPS:  # alternating, so that the machine's swings fall on each alike
                results[setup].append(one_round(setup, args, Path(folder)))
    summary = {
        setup: {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}
        for setup, runs in results.items()
    }
    print(f"{'setup':24} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'sent':>8} {'stored':>8} {'errors':>7}")
    for setup, row in summary.items():
        print(
            f"{setup:24} {row['per_second']:8.1f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}"
            f" {row['sent']:8.0f} {row['stored']:8.0f} {row['errors']:7.0f}"
        )
    print(json.dumps({"connections": args.connections, "size": args.size, "seconds": args.seconds, **summary}))


if __name__ == "__main__":
    main()
