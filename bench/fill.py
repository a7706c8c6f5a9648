"""Fill a database with realistic messages, then measure the API, start-up and memory at that size.

    python bench/fill.py --messages 100000            # fill /tmp/mailcatch-fill-100000.db and measure
    python bench/fill.py --messages 1000000 --database big.db
    python bench/fill.py --messages 200 --quick       # smoke run

Messages are stored through mailcatch's own store (parsed, indexed, with envelope and
transcript, as if they came over SMTP), which is much faster than sending them.
Measured against a `mailcatch --database` process: the first page of
GET /api/v1/messages, plain-word searches (each word's first search, and one word searched
again, when its counts are kept), searches for a part of several words, for rare terms and
from: searches, GET /api/v1/message/{ID},
the time from start to a ready API, and the process's resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import statistics
import time
import urllib.parse
import urllib.request
from pathlib import Path

from catcher_process import CatcherProcess

from mailcatch.events import EventBus
from mailcatch.models import ReceivedEnvelope, SessionInfo, SessionLine, Transaction
from mailcatch.storage.store import Store

WORDS = [
    "account",
    "invoice",
    "order",
    "shipped",
    "password",
    "reset",
    "welcome",
    "team",
    "report",
    "weekly",
    "summary",
    "payment",
    "receipt",
    "project",
    "update",
    "meeting",
    "schedule",
    "review",
    "approved",
    "declined",
    "reminder",
    "subscription",
    "renewal",
    "trial",
    "download",
    "export",
    "ready",
    "verify",
    "email",
    "address",
    "confirm",
    "security",
    "alert",
    "login",
    "device",
    "new",
    "comment",
    "reply",
    "mention",
    "task",
    "assigned",
    "completed",
    "overdue",
    "backup",
    "failed",
    "succeeded",
    "deploy",
    "release",
    "notes",
    "customer",
    "support",
    "ticket",
    "opened",
    "closed",
    "feedback",
    "survey",
    "newsletter",
    "offer",
    "discount",
    "coupon",
    "cart",
    "abandoned",
]
NAMES = (
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Ken Thompson",
    "Barbara Liskov",
    "Linus Torvalds",
    "Margaret Hamilton",
    "Dennis Ritchie",
    "Radia Perlman",
    "Guido van Rossum",
    "Frances Allen",
)
DOMAINS = ("example.com", "shop.example", "mail.example.org", "corp.example.net", "app.example.io")


def _address(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(NAMES)
    return name, f"{name.split()[0].lower()}.{rng.randint(1, 500)}@{rng.choice(DOMAINS)}"


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def make_message(rng: random.Random, number: int) -> tuple[bytes, str, list[str]]:
    """A message the shape apps send: plain, text+HTML, sometimes an attachment and tags."""
    from_name, from_address = _address(rng)
    recipients = [_address(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
    head = [
        f"From: {from_name} <{from_address}>",
        "To: " + ", ".join(f"{n} <{a}>" for n, a in recipients),
        f"Subject: {_sentence(rng, rng.randint(3, 8))[:-1]} #{number}",
        f"Message-ID: <{number}.{rng.getrandbits(48):x}@{rng.choice(DOMAINS)}>",
        "Date: Sat, 28 Nov 2026 10:00:00 +0000",
        "MIME-Version: 1.0",
    ]
    if rng.random() < 0.1:
        head.append("X-Tags: " + rng.choice(("billing", "signup", "alerts", "billing, urgent")))
    paragraphs = [_sentence(rng, rng.randint(8, 40)) for _ in range(rng.randint(2, 12))]
    text = "Content-Type: text/plain; charset=utf-8\r\n\r\n" + "\r\n\r\n".join(paragraphs)
    body = text
    if rng.random() < 0.6:
        html = "Content-Type: text/html; charset=utf-8\r\n\r\n" + "".join(f"<p>{p}</p>\r\n" for p in paragraphs)
        body = (
            f'Content-Type: multipart/alternative; boundary="alt{number}"\r\n\r\n'
            f"--alt{number}\r\n{text}\r\n--alt{number}\r\n{html}\r\n--alt{number}--"
        )
    if rng.random() < 0.1:
        blob = base64.encodebytes(rng.randbytes(rng.randint(200, 4000))).decode().replace("\n", "\r\n")
        attachment = (
            f"Content-Type: application/pdf\r\nContent-Disposition: attachment; "
            f'filename="document-{number}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n{blob}'
        )
        body = (
            f'Content-Type: multipart/mixed; boundary="mix{number}"\r\n\r\n'
            f"--mix{number}\r\n{body}\r\n--mix{number}\r\n{attachment}\r\n--mix{number}--"
        )
    raw = "\r\n".join(head) + "\r\n" + body + "\r\n"
    return raw.encode(), from_address, [a for _, a in recipients]


async def fill(path: str, count: int, seed: int) -> None:
    store = Store(path, EventBus(), max_messages=0)
    store.open()
    rng = random.Random(seed)
    started = time.perf_counter()
    batch: list[asyncio.Future[object]] = []
    for number in range(count):
        raw, sender, recipients = make_message(rng, number)
        now = time.time()
        session = SessionInfo(f"fill{number}", "127.0.0.1:40000", now, "app.example", False, "")
        lines = [
            SessionLine(now, "S", "220 mailcatch"),
            SessionLine(now, "C", "EHLO app.example"),
            SessionLine(now, "C", f"MAIL FROM:<{sender}>"),
            SessionLine(now, "S", "250 OK"),
            SessionLine(now, "C", f"<{len(raw)} bytes of message data>"),
        ]
        envelope = ReceivedEnvelope(sender, [], recipients, session.peer, "app.example", "", False, now)
        batch.append(asyncio.ensure_future(store.add(raw, envelope, Transaction(session, 2, 6, lines, 0))))
        if len(batch) >= 500:
            await asyncio.gather(*batch)
            batch.clear()
            done = number + 1
            if done % 20000 == 0:
                print(f"  {done} messages, {done / (time.perf_counter() - started):.0f}/s", flush=True)
    await asyncio.gather(*batch)
    await store.flush_index()
    store.close()
    print(f"filled {count} messages in {time.perf_counter() - started:.1f} s")


def _timed(url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _rare_numbers(total: int, count: int) -> list[int]:
    """Message numbers from all over the mailbox, with as many digits as the biggest (so a few matches each)."""
    low = 10 ** (len(str(max(total - 1, 1))) - 1)
    return random.Random(7).sample(range(low, max(total, low + count)), count)


def _shared_parts() -> list[str]:
    """Three-letter pieces of WORDS that are in more than one of them."""
    words: dict[str, set[str]] = {}
    for word in WORDS:
        for start in range(len(word) - 2):
            words.setdefault(word[start : start + 3], set()).add(word)
    return sorted(part for part, holders in words.items() if len(holders) > 1)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(path: str, repeat: int) -> None:
    started = time.perf_counter()
    with CatcherProcess("--max", "0", "--database", path) as catcher:
        url = catcher.url
        while True:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=5):
                    break
            except OSError:
                time.sleep(0.005)
        startup = (time.perf_counter() - started) * 1000
        with urllib.request.urlopen(f"{url}/api/v1/messages?limit=50", timeout=60) as response:
            listing = json.load(response)
        some_id = listing["messages"][len(listing["messages"]) // 2]["ID"]
        senders = list(dict.fromkeys(m["From"]["Address"] for m in listing["messages"]))
        rows = [
            ("start-up to a ready API", [startup]),
            ("GET /api/v1/messages (first page)", _timed(f"{url}/api/v1/messages?limit=50", repeat)),
            # Each word and sender searched once: the search's first time, before its counts are kept.
            (
                "search: plain word, first time",
                [_timed(f"{url}/api/v1/search?query={word}&limit=50", 1)[0] for word in WORDS[:repeat]],
            ),
            # Part of several words (`com`: comment, completed...): counted through the word index,
            # not from the vocabulary's count of one word.
            (
                "search: part of several words, first",
                [_timed(f"{url}/api/v1/search?query={part}&limit=50", 1)[0] for part in _shared_parts()[:repeat]],
            ),
            ("search: the same word again", _timed(f"{url}/api/v1/search?query={WORDS[0]}&limit=50", repeat)),
            # A rare term: a message's own number from its subject (#N also matches #N0-#N9 and so on).
            (
                "search: a rare term (#N), first time",
                [
                    _timed(f"{url}/api/v1/search?" + urllib.parse.urlencode({"query": f"#{number}", "limit": 50}), 1)[0]
                    for number in _rare_numbers(listing["total"], repeat)
                ],
            ),
            (
                "search: from:, first time",
                [
                    _timed(
                        f"{url}/api/v1/search?" + urllib.parse.urlencode({"query": f"from:{address}", "limit": 50}), 1
                    )[0]
                    for address in senders[:repeat]
                ],
            ),
            ("GET /api/v1/message/{ID}", _timed(f"{url}/api/v1/message/{some_id}", repeat)),
        ]
        print(f"\n{listing['total']} messages in {path} ({Path(path).stat().st_size / 1e6:.0f} MB)")
        print(f"{'what':40} {'p50 ms':>8} {'p95 ms':>8}")
        for name, times in rows:
            times.sort()
            print(
                f"{name:40} {statistics.median(times):>8.2f} {times[int(len(times) * 0.95) - 1 if len(times) > 1 else 0]:>8.2f}"
            )
        print(f"{'resident memory (RSS)':40} {_rss_mb(catcher.pid):>8.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database", help="file to fill (default /tmp/mailcatch-fill-N.db); kept if it exists")
    parser.add_argument("--repeat", type=int, default=50, help="requests per measurement")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="few requests, for a smoke run")
    args = parser.parse_args()
    path = args.database or f"/tmp/mailcatch-fill-{args.messages}.db"
    if not Path(path).exists():
        asyncio.run(fill(path, args.messages, args.seed))
    measure(path, 3 if args.quick else args.repeat)


if __name__ == "__main__":
    main()
