"""Time every search operator on a large mailbox, through the HTTP API of a `mailcatch --database` process.

    python bench/search.py --messages 100000     # fill /tmp/mailcatch-fill-100000.db (kept) and measure
    python bench/search.py --messages 300 --repeat 2     # smoke run

Prints one line per query: matches, and the p50 and max time of GET /api/v1/search (50 per page).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import urllib.parse
import urllib.request
from pathlib import Path

from catcher_process import CatcherProcess
from fill import fill  # bench/fill.py, beside this script

QUERIES = [
    "invoice",
    "welcome team",
    '"password reset"',
    "zq",
    "-invoice",
    "from:ada",
    "-from:ada",
    "to:grace",
    "cc:nobody",
    "bcc:linus",
    "reply-to:support",
    "addressed:turing",
    "subject:weekly",
    "-subject:weekly",
    "message-id:12345.",
    "tag:billing",
    "-tag:billing",
    "is:tagged",
    "is:read",
    "is:unread",
    "has:attachment",
    "larger:20k",
    "smaller:2k",
    "after:2020-01-01",
    "before:2020-01-01",
    "from:ada subject:report has:attachment",
    "document-99.pdf",
    "is:unread to:example.com invoice",
]


def _get(url: str) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as response:
        body = json.loads(response.read())
    return (time.perf_counter() - started) * 1000, body


def measure(path: str, repeat: int) -> None:
    with CatcherProcess("--max", "0", "--database", path) as catcher:
        url = catcher.url
        total = _get(f"{url}/api/v1/messages?limit=1")[1]["total"]
        print(f"{total} messages")
        for query in QUERIES:
            search = f"{url}/api/v1/search?" + urllib.parse.urlencode({"query": query, "limit": 50})
            times, matches = [], 0
            for _ in range(repeat):
                elapsed, body = _get(search)
                times.append(elapsed)
                matches = int(body["messages_count"])  # type: ignore[call-overload]
            print(
                f"{query:42} {matches:>7} matches   p50 {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database", help="file to fill (default /tmp/mailcatch-fill-N.db); kept if it exists")
    parser.add_argument("--repeat", type=int, default=5, help="requests per query")
    args = parser.parse_args()
    path = args.database or f"/tmp/mailcatch-fill-{args.messages}.db"
    if not Path(path).exists():
        asyncio.run(fill(path, args.messages, 1))
    measure(path, args.repeat)


if __name__ == "__main__":
    main()
