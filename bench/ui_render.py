"""The web UI's first render with a big mailbox: navigation start to the newest rows and the count on screen.

    python bench/ui_render.py                        # 100,000 messages in /tmp/mailcatch-fill-100000.db, 5 loads
    python bench/ui_render.py --messages 1000000 --database big.db --loads 3
    python bench/ui_render.py --quick                # smoke run: 200 messages, 1 load

The database is filled with bench/fill.py's messages (kept, and reused when it already holds
that many), served by a `mailcatch --database FILE --max 0` process, and opened in Debian's
chromium (headless, driven by Playwright) several times, each in a fresh browser context (no
cache, no storage). For each load the page itself records, from navigation start
(performance.now()):

- first_render: the end of the first frame in which the row of the newest message (filled,
  not a placeholder) and the message count are both in the DOM: a MutationObserver notices
  them, and a message posted from it runs once that frame has been painted;
- load: the `load` event;
- each API request the UI made (Resource Timing), and the JS heap afterwards (CDP).

Before the loads it waits for the catcher to go idle: after a fill, a start catches up the
search index in the background, which would otherwise be measured too. The same start-up
requests are also timed from Python, without a browser, to tell the
server's share from the page's. Prints one JSON line on stdout; progress and a short summary
go to stderr. No time is judged here: the figures are for reading.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from catcher_process import CatcherProcess
from fill import fill
from playwright.sync_api import Browser, sync_playwright

# The flags the browser tests launch chromium with (tests/e2e/conftest.py).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}

# Installed before any of the page's own scripts run. It tells Python through console
# messages, so nothing else is evaluated in the page (Playwright's waiting helpers would
# inject their own scripts while the UI starts, and be measured with it).
RECORDER = """
(() => {
  const rendered = () => {
    const row = document.querySelector('#list .row[data-id][data-index="0"] .row-subject');
    const count = document.getElementById("list-count");
    return !!(row && row.textContent && count && count.textContent.trim());
  };
  let record = null;
  let told = false;
  const ready = () => {
    if (told || !record || record.painted === undefined || document.readyState !== "complete"
        || document.documentElement.dataset.ready !== "true") return;
    told = true;
    console.log("mailcatch-bench: ready");
  };
  const observer = new MutationObserver(() => {
    if (!record && rendered()) {
      record = { dom: performance.now(), count: document.getElementById("list-count").textContent,
                 subject: document.querySelector('#list .row[data-index="0"] .row-subject').textContent };
      window.__uiRender = record;
      // The list renders in a requestAnimationFrame callback; a message posted from there is
      // handled after that frame's style, layout and paint.
      const channel = new MessageChannel();
      channel.port1.onmessage = () => { record.painted = performance.now(); ready(); };
      channel.port2.postMessage(null);
    }
    ready();
  });
  observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  window.addEventListener("load", () => setTimeout(ready));
})();
"""

COLLECT = """
() => {
  const navigation = performance.getEntriesByType("navigation")[0];
  const requests = performance.getEntriesByType("resource")
    .filter((entry) => new URL(entry.name).pathname.includes("/api/"))  // fetched, or preloaded by index.html
    .map((entry) => ({ url: entry.name.replace(location.origin, ""), start: entry.startTime,
                       ms: entry.responseEnd - entry.startTime, wait: entry.responseStart - entry.requestStart }));
  return { ...window.__uiRender, load: navigation.loadEventStart, domContentLoaded: navigation.domContentLoadedEventStart,
           rows: document.querySelectorAll("#list .row").length, requests };
}
"""


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=120) as response:
        return json.load(response)


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5):
                return
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _wait_idle(pid: int, limit: float = 900) -> float:
    """Wait until the catcher stops working on its own (a filled database's search-index
    backlog is caught up in the background after a start); returns the seconds waited."""
    started = time.monotonic()
    samples = [(started, _cpu_seconds(pid))]
    told = False
    while time.monotonic() - started < limit:
        time.sleep(0.25)
        samples.append((time.monotonic(), _cpu_seconds(pid)))
        window = [s for s in samples if s[0] >= samples[-1][0] - 1.0]
        if samples[-1][0] - samples[0][0] >= 1.0 and window[-1][1] - window[0][1] < 0.05:
            break
        if not told and time.monotonic() - started > 5:
            log("  waiting for the catcher to finish its background work (search index) ...")
            told = True
    return time.monotonic() - started


def _server_timings(url: str, paths: list[str], repeat: int) -> dict[str, float]:
    """Median milliseconds of each request from Python: the server's share, without a browser."""
    timings = {}
    for path in paths:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            with urllib.request.urlopen(url + path, timeout=120) as response:
                response.read()
            times.append((time.perf_counter() - started) * 1000)
        timings[path] = round(statistics.median(times), 1)
    return timings


def _one_load(browser: Browser, url: str) -> dict[str, Any]:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")  # type: ignore[arg-type]
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.add_init_script(RECORDER)
        # Ready: first render painted, the load event, and the UI's own start-up done.
        with page.expect_console_message(lambda message: message.text == "mailcatch-bench: ready", timeout=120_000):
            page.goto(url + "/", wait_until="commit", timeout=120_000)
        # Let the requests that follow the start-up (the websocket's resync) finish too.
        page.wait_for_timeout(300)
        result: dict[str, Any] = page.evaluate(COLLECT)
        cdp = context.new_cdp_session(page)
        heap = cdp.send("Runtime.getHeapUsage")
        result["heap_mb"] = heap["usedSize"] / 1e6
        result["errors"] = errors
        return result
    finally:
        context.close()


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), 1),
        "max": round(max(values), 1),
        "each": [round(v, 1) for v in values],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, help="messages in the database (default 100000; 200 with --quick)")
    parser.add_argument(
        "--database",
        help="file to fill (default /tmp/mailcatch-fill-N.db, shared with fill.py); "
        "kept, and reused if it holds that many messages",
    )
    parser.add_argument("--loads", type=int, help="fresh page loads to measure (default 5; 1 with --quick)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 messages, 1 load")
    args = parser.parse_args()
    count = args.messages or (200 if args.quick else 100_000)
    loads = args.loads or (1 if args.quick else 5)
    path = args.database or f"/tmp/mailcatch-fill-{count}.db"
    chromium = shutil.which("chromium") or "/usr/bin/chromium"

    if not Path(path).exists():
        log(f"filling {path} with {count} messages")
        with contextlib.redirect_stdout(sys.stderr):
            asyncio.run(fill(path, count, args.seed))

    with CatcherProcess("--max", "0", "--database", path) as catcher:
        url = catcher.url
        _wait_ready(url)
        total = _get(f"{url}/api/v1/messages?limit=0")["total"]
        if total != count:
            sys.exit(f"{path} holds {total} messages, not {count}: delete it or pass another --database")
        settle = _wait_idle(catcher.pid)
        load_average = os.getloadavg()[0]  # other work on the machine shows in every figure

        results = []
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for number in range(loads):
                    result = _one_load(browser, url)
                    results.append(result)
                    log(
                        f"  load {number + 1}: first render {result['painted']:.0f} ms, load event {result['load']:.0f} ms"
                    )
            finally:
                browser.close()

        # The requests the UI made, in start-up order (the first load's), timed again without a browser.
        startup_paths = list(dict.fromkeys(request["url"] for request in results[0]["requests"]))
        server = _server_timings(url, startup_paths, 3 if args.quick else 10)

    # Each request the UI made, in the order it made them; a URL asked for again gets " #2".
    in_browser: dict[str, list[tuple[float, float]]] = {}
    for result in results:
        seen: dict[str, int] = {}
        for request in sorted(result["requests"], key=lambda r: r["start"]):
            seen[request["url"]] = seen.get(request["url"], 0) + 1
            name = request["url"] + (f" #{seen[request['url']]}" if seen[request["url"]] > 1 else "")
            in_browser.setdefault(name, []).append((request["start"], request["ms"]))
    first = [r["painted"] for r in results]
    report = {
        "messages": total,
        "database": path,
        "loads": loads,
        "catcher_settle_s": round(settle, 1),
        "load_average": round(load_average, 2),
        "first_render_ms": _stats(first),
        "first_render_dom_ms": _stats([r["dom"] for r in results]),
        "load_event_ms": _stats([r["load"] for r in results]),
        "dom_content_loaded_ms": _stats([r["domContentLoaded"] for r in results]),
        "heap_mb": round(statistics.median(r["heap_mb"] for r in results), 1),
        "rows_in_dom": results[-1]["rows"],
        "count_text": results[-1]["count"],
        "first_subject": results[-1]["subject"],
        "requests_browser": {
            name: {
                "start_ms": round(statistics.median(t[0] for t in times), 1),
                "ms": round(statistics.median(t[1] for t in times), 1),
            }
            for name, times in in_browser.items()
        },
        "requests_server_ms": server,
        "page_errors": sorted({e for r in results for e in r["errors"]}),
    }
    print(json.dumps(report))
    log(
        f"\n{total} messages, {loads} fresh load{'s' if loads != 1 else ''} in headless chromium "
        f"(machine load average {load_average:.1f} on {os.cpu_count()} CPUs)"
    )
    log(
        f"first render (newest rows and count painted): median {report['first_render_ms']['median']:.0f} ms, "
        f"max {report['first_render_ms']['max']:.0f} ms"
    )
    log(
        f"load event: median {report['load_event_ms']['median']:.0f} ms; JS heap {report['heap_mb']:.1f} MB; "
        f"{report['rows_in_dom']} rows in the DOM; count shown: {report['count_text']!r}"
    )
    log(f"{'API requests the UI made (medians)':44} {'starts at':>9} {'takes':>7} {'from Python':>11}")
    for name, timing in report["requests_browser"].items():
        log(f"  {name:42} {timing['start_ms']:>6.0f} ms {timing['ms']:>4.0f} ms {server[name.split(' #')[0]]:>8.1f} ms")


if __name__ == "__main__":
    main()
