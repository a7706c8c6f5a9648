"""What the browser tests call (conftest.py keeps the fixtures): a page on a catcher, what it did, a tracker."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import ConsoleMessage, Page

from mailcatch.server import ServerThread
from tests import messages

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@dataclass
class Watch:
    """What a page did that a test may want to deny: errors, dialogs, requests, CSP reports."""

    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


class UI:
    """A page on a catcher, with helpers for what the tests do over and over."""

    def __init__(self, page: Page, catcher: ServerThread, watch: Watch) -> None:
        self.page = page
        self.catcher = catcher
        self.watch = watch

    @property
    def rows(self) -> Any:
        return self.page.locator("#list .row[data-id]")

    def goto(self, fragment: str = "") -> UI:
        self.page.goto(self.catcher.url + "/" + fragment)
        self.page.wait_for_selector("html[data-ready=true]")
        return self

    def send(self, message: EmailMessage, **kwargs: Any) -> None:
        messages.send(self.catcher, message, **kwargs)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.catcher.url, timeout=10)

    def row(self, subject: str) -> Any:
        return self.rows.filter(has=self.page.locator(".row-subject", has_text=subject))

    def open(self, subject: str) -> None:
        self.row(subject).click()
        self.page.locator("#reader-subject").filter(has_text=subject).wait_for()

    def tab(self, name: str) -> Any:
        return self.page.get_by_role("tab", name=name, exact=True)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(50)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@dataclass
class Tracker:
    """A stand-in for a third-party server: records every request it gets."""

    url: str
    hits: list[str]

    def wait_for(self, fragment: str, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while not any(fragment in hit for hit in self.hits):
            if time.monotonic() > deadline:
                raise AssertionError(f"the tracker never got {fragment!r}; it got {self.hits}")
            time.sleep(0.02)
