"""SMTP AUTH under a flood of wrong passwords against a bcrypt file: is the event loop still answering?

    python bench/auth_flood.py                      # cost-12 bcrypt, 2 flooding connections, 10 s
    python bench/auth_flood.py --cost 10 --seconds 2    # smoke run

A catcher process runs with --smtp-auth-file holding one user with a bcrypt hash of the given
cost. Three phases:

1. quiet: /livez latency with nothing else going on;
2. flood: `--connections` threads send wrong `AUTH PLAIN` as fast as they are answered, each
   from a loopback address of its own (127.0.0.2 and up); when an address is blocked (its AUTH
   answered 421 at once) the thread moves to the next address, so the catcher keeps hashing for
   the whole phase, as under a flood from many machines. Meanwhile /livez is asked every 10 ms;
3. cut-off, from one fresh address: how many wrong guesses one connection pipelining 1,000 of
   them gets answered before it is closed, how many the address gets over new connections
   before it is blocked, and how long an unknown user and a known user with a wrong password
   each take to be refused (from addresses of their own, so that no delay is added).

Prints one JSON line: /livez p50/p99/max in ms for the quiet and flood phases, the guesses
hashed during the flood, the 421s, and the cut-off figures.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import bcrypt
import httpx
from catcher_process import CatcherProcess

PASSWORD = "correct horse battery staple"


def plain(user: str, password: str) -> bytes:
    return b"AUTH PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()) + b"\r\n"


class Client:
    """One SMTP connection from a chosen loopback address."""

    def __init__(self, port: int, source: str) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0))
        self.reader = self.socket.makefile("rb")
        self.reply()
        self.socket.sendall(b"EHLO bench.test\r\n")
        self.reply()

    def reply(self) -> bytes:
        while (line := self.reader.readline()) and line[3:4] == b"-":
            pass
        return line

    def close(self) -> None:
        self.reader.close()
        self.socket.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def sample_livez(url: str, until: float) -> list[float]:
    """/livez round trips every 10 ms, until time.monotonic() reaches `until`."""
    samples = []
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/livez")  # the connection is open before timing
        while time.monotonic() < until:
            started = time.perf_counter()
            assert client.get("/livez").status_code == 200
            samples.append(time.perf_counter() - started)
            time.sleep(0.01)
    return samples


class Addresses:
    """Loopback source addresses, handed out once each."""

    def __init__(self, first: int = 2) -> None:
        self._next = first
        self._lock = threading.Lock()
        self.taken = 0

    def take(self) -> str:
        with self._lock:
            number, self._next = self._next, self._next + 1
            self.taken += 1
        return f"127.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"


def flood(port: int, addresses: Addresses, stop: threading.Event, counts: dict[str, int], lock: threading.Lock) -> None:
    """Wrong guesses until `stop`, a new connection after each 421; a new address once the first guess
    of a connection is answered 421 (the address is blocked)."""
    source = addresses.take()
    guess = 0
    while not stop.is_set():
        client = Client(port, source)
        try:
            for attempt in range(1_000_000):
                if stop.is_set():
                    break
                guess += 1
                client.socket.sendall(plain("alice", f"guess {guess}"))
                code = client.reply()[:3].decode() or "closed"
                with lock:
                    counts[code] = counts.get(code, 0) + 1
                if code != "535":
                    if attempt == 0:
                        source = addresses.take()
                    break
        finally:
            client.close()


def cut_off(port: int, addresses: Addresses) -> dict[str, object]:
    source = addresses.take()
    client = Client(port, source)
    try:
        client.socket.sendall(b"".join(plain("alice", f"pipelined {n}") for n in range(1000)))
        replies = client.reader.read().splitlines()
    finally:
        client.close()
    per_connection = sum(1 for line in replies if line.startswith(b"535"))
    last = replies[-1][:3].decode() if replies else "none"
    answered = per_connection + (1 if last == "421" else 0)
    connections = 1
    blocked_at = 0.0
    started = time.monotonic()
    while True:  # new connections from the same address until one is refused before its password is checked
        client = Client(port, source)
        connections += 1
        try:
            client.socket.sendall(plain("alice", f"again {connections}"))
            sent = time.perf_counter()
            code = client.reply()[:3]
            quick = time.perf_counter() - sent < 0.05
        finally:
            client.close()
        if code == b"421" and quick:
            blocked_at = time.monotonic() - started
            break
        answered += 1
    timing: dict[str, float] = {}
    for user in ("alice", "nobody"):
        spent = []
        for _ in range(3):
            client = Client(port, addresses.take())
            try:
                client.socket.sendall(plain(user, "wrong password"))
                sent = time.perf_counter()
                assert client.reply().startswith(b"535")
                spent.append(time.perf_counter() - sent)
            finally:
                client.close()
        timing["known" if user == "alice" else "unknown"] = round(statistics.median(spent) * 1000, 1)
    return {
        "pipelined_1000_answered_535": per_connection,
        "pipelined_last_reply": last,
        "guesses_from_one_address_before_blocked": answered,
        "connections_from_one_address": connections,
        "seconds_until_blocked": round(blocked_at, 1),
        "refused_known_user_ms": timing["known"],
        "refused_unknown_user_ms": timing["unknown"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cost", type=int, default=12, help="bcrypt cost of the user's hash (default 12)")
    parser.add_argument("--connections", type=int, default=2, help="flooding connections (default 2)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the flood (default 10)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        users = Path(scratch) / "smtp-users"
        stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=options.cost)).decode()
        users.write_text(f"alice:{stored}\n")
        with CatcherProcess("--smtp-auth-file", str(users)) as catcher:
            quiet = sample_livez(catcher.url, time.monotonic() + min(options.seconds, 3.0))
            stop = threading.Event()
            counts: dict[str, int] = {}
            lock = threading.Lock()
            addresses = Addresses()
            threads = [
                threading.Thread(target=flood, args=(catcher.smtp_port, addresses, stop, counts, lock), daemon=True)
                for _ in range(options.connections)
            ]
            for thread in threads:
                thread.start()
            during = sample_livez(catcher.url, time.monotonic() + options.seconds)
            stop.set()
            for thread in threads:
                thread.join(60)
            flooded = addresses.taken
            refused = cut_off(catcher.smtp_port, addresses)
    report = {
        "bcrypt_cost": options.cost,
        "flooding_connections": options.connections,
        "flood_seconds": options.seconds,
        "livez_quiet": percentiles(quiet),
        "livez_during_flood": percentiles(during),
        "flood_replies": dict(sorted(counts.items())),
        "flood_addresses": flooded,
        **refused,
    }
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
