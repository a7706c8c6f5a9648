"""Browser tests: a real catcher on free ports, Debian's chromium driven by Playwright.

The browser is the system `chromium` (apt-get install chromium), passed to Playwright as
`executable_path`; `playwright install` is never needed. Screenshots of the main views go to
tests/screenshots/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, expect, sync_playwright

from mailcatch.server import ServerThread
from tests import messages
from tests.e2e.helpers import UI, Tracker, Watch

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
DESKTOP = {"width": 1280, "height": 800}

# CI machines are small and busy: give the page time before calling it wrong.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "the browser tests need Debian's chromium on PATH: apt-get install chromium (never `playwright install`)",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def open_ui(browser: Browser, catcher: ServerThread) -> Iterator[Callable[..., UI]]:
    """Open pages on the test's catcher: open_ui(color_scheme="dark", viewport=..., catcher=other)."""
    contexts: list[tuple[BrowserContext, Watch]] = []

    def open_page(
        *,
        color_scheme: str = "light",
        viewport: dict[str, int] | None = None,
        device_scale_factor: float = 1,
        on: ServerThread | None = None,
        goto: bool = True,
    ) -> UI:
        context = browser.new_context(
            viewport=viewport or DESKTOP,
            color_scheme=color_scheme,  # type: ignore[arg-type]
            device_scale_factor=device_scale_factor,
            reduced_motion="reduce",
        )
        context.set_default_timeout(10_000)
        watch = Watch()
        contexts.append((context, watch))
        page = context.new_page()
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on("dialog", watch.on_dialog)
        page.on("console", watch.on_console)
        page.on("request", lambda request: watch.requests.append(request.url))
        ui = UI(page, on or catcher, watch)
        return ui.goto() if goto else ui

    yield open_page
    for context, watch in contexts:
        context.close()
        assert watch.page_errors == [], f"the page threw: {watch.page_errors}"
        assert watch.dialogs == [], f"a dialog opened: {watch.dialogs}"


@pytest.fixture
def ui(open_ui: Callable[..., UI]) -> UI:
    """The UI on a fresh catcher, in light mode at 1280x800."""
    return open_ui()


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            hits.append(self.path)
            body = messages.png(2, 2) if not self.path.endswith(".css") else b"body{outline:0}"
            self.send_response(200)
            self.send_header("Content-Type", "text/css" if self.path.endswith(".css") else "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Tracker(f"http://127.0.0.1:{server.server_address[1]}/", hits)
    server.shutdown()
    server.server_close()
    thread.join()
