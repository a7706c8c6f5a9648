"""Offline: a banner, changes refused or rolled back honestly, and a clean re-sync with a restarted catcher."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from mailcatch.config import HostPort
from mailcatch.server import ServerThread
from tests import messages
from tests.e2e.helpers import UI


def _addresses(catcher: ServerThread) -> dict[str, HostPort]:
    return {
        "smtp": HostPort(catcher.smtp_host, catcher.smtp_port),
        "listen": HostPort("127.0.0.1", int(catcher.url.rsplit(":", 1)[1])),
    }


def test_offline_shows_a_banner_refuses_changes_and_resyncs_with_a_restarted_catcher(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    first = start_catcher()
    where = _addresses(first)
    ui = open_ui(on=first)
    for n in range(1, 4):
        ui.send(messages.build(f"Before {n}"))
    expect(ui.rows).to_have_count(3)
    ui.open("Before 2")
    page = ui.page
    expect(page.locator("#list-count")).to_have_text("3 messages · 2 unread")
    banner = page.locator("#offline-banner")
    expect(banner).to_be_hidden()
    dark = open_ui(on=first, color_scheme="dark")
    expect(dark.rows).to_have_count(3)

    first.stop()
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("mailcatch can't be reached")
    expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
    expect(page.locator(".reader-actions").get_by_role("button", name="Delete")).to_be_disabled()
    expect(page.get_by_role("button", name="Delete all")).to_be_disabled()
    expect(page.get_by_role("button", name="Mark all read")).to_be_disabled()

    # Keys that would change something are refused, with one toast however often they're pressed.
    for key in ["Delete", "Delete", "#", "u", "Delete"]:
        page.keyboard.press(key)
    expect(page.locator(".toast")).to_have_count(1)
    expect(page.locator(".toast")).to_contain_text("Offline: nothing was deleted")
    # A message can't be opened, and isn't marked read.
    ui.row("Before 3").click()
    expect(page.locator("#reader")).to_contain_text("Couldn't open this message")
    expect(ui.row("Before 3")).to_have_class(re.compile(r"\bis-unread\b"))
    expect(ui.rows).to_have_count(3)
    expect(page.locator("#list-count")).to_have_text("3 messages · 2 unread")
    expect(page.locator(".toast.error")).to_have_count(1)
    ui.shot("offline-banner-light")
    expect(dark.page.locator("#offline-banner")).to_be_visible()
    dark.shot("offline-banner-dark")

    second = start_catcher(**where)  # in memory: it starts empty
    ui.catcher = second
    ui.send(messages.build("After the restart"))
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=15_000)
    expect(banner).to_be_hidden()
    expect(ui.rows).to_have_count(1)
    expect(ui.rows.first).to_contain_text("After the restart")
    expect(page.locator("#list-count")).to_have_text("1 message · 1 unread")
    expect(page.locator("#reader")).to_contain_text("This message is no longer in the mailbox")
    expect(page.locator("#reader")).to_contain_text("a catcher without --database starts empty")
    ui.shot("offline-after-restart")
    page.get_by_role("button", name="Back to the list").click()
    expect(page.locator("#reader-subject")).to_have_count(0)
    ui.open("After the restart")


def test_a_delete_that_cant_reach_the_server_comes_back(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    first = start_catcher()
    where = _addresses(first)
    ui = open_ui(on=first, color_scheme="dark")
    for n in range(1, 4):
        ui.send(messages.build(f"Kept {n}"))
    expect(ui.rows).to_have_count(3)
    ui.open("Kept 2")
    expect(ui.page.locator("#list-count")).to_have_text("3 messages · 2 unread")
    ui.page.keyboard.press("Escape")  # closed, so that the delete opens nothing else
    expect(ui.page.locator("#reader-subject")).to_have_count(0)
    ui.page.keyboard.press("Delete")  # the cursor stayed on it
    expect(ui.rows).to_have_count(2)
    expect(ui.row("Kept 2")).to_have_count(0)
    first.stop()  # within the undo's seconds: the delete, when it is sent, fails
    expect(ui.page.locator("#offline-banner")).to_be_visible()
    expect(ui.page.locator(".toast.error")).to_contain_text("Couldn't delete", timeout=15_000)
    expect(ui.page.locator(".toast.error")).to_contain_text("the message is back in the list")
    expect(ui.rows).to_have_count(3)
    expect(ui.rows.nth(1)).to_contain_text("Kept 2")
    expect(ui.page.locator("#list-count")).to_have_text("3 messages · 2 unread")
    ui.shot("offline-delete-rolled-back-dark")

    phone = open_ui(on=first, goto=False, viewport={"width": 390, "height": 800})
    second = start_catcher(**where)
    ui.catcher = second
    phone.catcher = second
    phone.goto()
    expect(ui.page.locator("#offline-banner")).to_be_hidden(timeout=15_000)
    expect(ui.rows).to_have_count(0)
    second.stop()
    expect(phone.page.locator("#offline-banner")).to_be_visible()
    # The empty list doesn't promise mail "the moment it arrives" while nothing can arrive.
    expect(phone.page.locator("#list-empty")).to_contain_text("mailcatch can't be reached")
    phone.shot("offline-banner-phone")
