"""The inbox: the list, live arrival, search, deleting, read state and the keyboard."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI


def send_demo(ui: UI) -> None:
    messages.send(ui.catcher, *messages.demo_set())
    ui.send(messages.rich())


def test_list_shows_every_summary_field_and_the_unread_count(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(goto=False)
    send_demo(ui)
    ui.goto()
    expect(ui.rows).to_have_count(9)
    expect(ui.page).to_have_title("(9) mailcatch")
    first = ui.rows.first
    expect(first.locator(".row-from")).to_have_text("Acme Billing")
    expect(first.locator(".row-to")).to_contain_text("ivy@example.com")
    expect(first.locator(".row-subject")).to_have_text("Your Acme invoice #2024-0193 is ready")
    expect(first.locator(".row-snippet")).to_contain_text("Your invoice is ready Hi Ivy")  # HTML first, as Mailpit
    expect(first.locator(".row-time")).to_have_text("just now")
    expect(first.locator(".row-attach")).to_have_count(1)
    expect(first.locator(".tag")).to_have_text(["billing"])
    expect(first).to_have_class(re.compile(r"\bis-unread\b"))
    expect(ui.page.locator("#list-count")).to_have_text("9 messages · 9 unread")
    ui.shot("inbox-light")

    ui.open("Your Acme invoice")
    expect(first).not_to_have_class(re.compile(r"\bis-unread\b"))
    expect(ui.page).to_have_title("(8) mailcatch")

    dark = open_ui(color_scheme="dark")
    expect(dark.rows).to_have_count(9)
    dark.shot("inbox-dark")


def test_a_message_sent_over_smtp_appears_without_a_reload(ui: UI) -> None:
    expect(ui.page.locator("#list-empty")).to_contain_text("No mail yet")
    expect(ui.page.locator("#conn")).to_have_attribute("data-state", "live")
    ui.shot("empty-inbox")
    ui.page.evaluate("window.__sameDocument = true")

    ui.send(messages.build("Fresh off the wire", to="newbie@example.com"))
    expect(ui.rows).to_have_count(1)
    expect(ui.rows.first).to_contain_text("Fresh off the wire")
    expect(ui.rows.first).to_have_class(re.compile(r"\bis-fresh\b"))
    ui.send(messages.build("Second one"))
    expect(ui.rows.first).to_contain_text("Second one")
    expect(ui.page.locator("#list-count")).to_have_text("2 messages · 2 unread")
    expect(ui.page).to_have_title("(2) mailcatch")
    assert ui.page.evaluate("window.__sameDocument") is True


def test_search_runs_on_enter_and_clears(ui: UI) -> None:
    send_demo(ui)
    expect(ui.rows).to_have_count(9)
    ui.page.keyboard.press("/")
    expect(ui.page.locator("#search")).to_be_focused()
    ui.page.keyboard.type("subject:invoice")
    expect(ui.rows).to_have_count(9)  # nothing happens before Enter
    ui.page.keyboard.press("Enter")
    expect(ui.rows).to_have_count(1)
    expect(ui.rows.first).to_contain_text("Your Acme invoice")
    expect(ui.page.locator("#list-title")).to_have_text("Search")
    expect(ui.page.locator("#list-count")).to_have_text("1 result")
    assert "q=subject%3Ainvoice" in ui.page.url
    ui.shot("search")

    ui.page.locator("#search").fill("from:nobody@nowhere.test")
    ui.page.keyboard.press("Enter")
    expect(ui.page.locator("#list-empty")).to_contain_text("Nothing matches")

    ui.page.get_by_role("button", name="Clear search").click()
    expect(ui.rows).to_have_count(9)
    expect(ui.page.locator("#list-title")).to_have_text("Inbox")

    # A tag in the reading pane searches for its messages.
    ui.open("[staging] 3 failed jobs")
    ui.page.locator(".head-tags").get_by_role("button", name="staging", exact=True).click()
    expect(ui.page.locator("#search")).to_have_value("tag:staging")
    expect(ui.rows).to_have_count(1)
    ui.page.get_by_role("button", name="Clear search").click()
    expect(ui.rows).to_have_count(9)

    ui.page.locator("#search").fill("is:unread has:attachment")
    ui.page.keyboard.press("Enter")
    expect(ui.rows).to_have_count(1)
    ui.page.keyboard.press("Escape")
    expect(ui.rows).to_have_count(9)


def test_delete_one_with_the_button_and_the_key_then_all_after_confirming(ui: UI) -> None:
    send_demo(ui)
    expect(ui.rows).to_have_count(9)
    ui.open("Reset your password")
    ui.page.locator(".reader-actions").get_by_role("button", name="Delete").click()
    expect(ui.row("Reset your password")).to_have_count(0)
    expect(ui.rows).to_have_count(8)
    # The next message down opens in its place.
    expect(ui.page.locator("#reader-subject")).to_have_text("Your daily backup finished")

    ui.page.locator("#list").focus()
    ui.page.keyboard.press("Home")
    ui.page.keyboard.press("Delete")
    expect(ui.row("Your Acme invoice")).to_have_count(0)
    expect(ui.rows).to_have_count(7)
    # Both deletes reach the server once their undo runs out (test_keyboard_delete.py has the undo).
    with ui.api() as api:
        deadline = time.monotonic() + 20
        while api.get("/api/v1/messages").json()["total"] != 7:
            assert time.monotonic() < deadline, "the deletes never reached the server"
            time.sleep(0.1)

    ui.page.get_by_role("button", name="Delete all").click()
    dialog = ui.page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("All 7 messages")
    ui.shot("delete-all-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(ui.rows).to_have_count(7)

    ui.page.get_by_role("button", name="Delete all").click()
    dialog.get_by_role("button", name="Delete all").click()
    expect(ui.rows).to_have_count(0)
    expect(ui.page.locator("#list-empty")).to_be_visible()
    with ui.api() as api:
        assert api.get("/api/v1/messages").json()["total"] == 0


def test_mark_read_and_unread(ui: UI) -> None:
    ui.send(messages.build("Read me"))
    expect(ui.rows).to_have_count(1)
    ui.open("Read me")
    row = ui.row("Read me")
    expect(row).not_to_have_class(re.compile(r"\bis-unread\b"))
    ui.page.get_by_role("button", name="Mark unread").click()
    expect(row).to_have_class(re.compile(r"\bis-unread\b"))
    expect(ui.page).to_have_title("(1) mailcatch")
    with ui.api() as api:
        assert api.get("/api/v1/messages").json()["messages"][0]["Read"] is False
    ui.page.get_by_role("button", name="Mark read").click()
    expect(row).not_to_have_class(re.compile(r"\bis-unread\b"))
    ui.page.keyboard.press("u")
    expect(row).to_have_class(re.compile(r"\bis-unread\b"))


def test_keyboard_moves_opens_and_switches_views(ui: UI) -> None:
    for n in range(1, 5):
        ui.send(messages.build(f"Message {n}"))
    expect(ui.rows).to_have_count(4)
    keys = ui.page.keyboard
    selected = ui.page.locator("#list .row[aria-selected=true] .row-subject")

    keys.press("j")
    expect(ui.page.locator("#list")).to_be_focused()
    expect(selected).to_have_text("Message 4")
    keys.press("j")
    expect(selected).to_have_text("Message 3")
    keys.press("ArrowDown")
    expect(selected).to_have_text("Message 2")
    keys.press("k")
    keys.press("ArrowUp")
    expect(selected).to_have_text("Message 4")
    keys.press("End")
    expect(selected).to_have_text("Message 1")
    expect(ui.page.locator("#reader-subject")).to_have_count(0)  # moving doesn't open
    keys.press("Enter")
    expect(ui.page.locator("#reader-subject")).to_have_text("Message 1")
    expect(ui.page.locator("#list .row[aria-current=true] .row-subject")).to_have_text("Message 1")
    ui.shot("keyboard-cursor")

    keys.press("2")
    expect(ui.tab("Text")).to_have_attribute("aria-selected", "true")
    keys.press("3")
    expect(ui.tab("Headers")).to_have_attribute("aria-selected", "true")
    ui.tab("Headers").focus()
    keys.press("ArrowRight")
    expect(ui.tab("Raw")).to_be_focused()
    expect(ui.tab("Raw")).to_have_attribute("aria-selected", "true")

    ui.page.locator("#list").focus()
    keys.press("?")
    expect(ui.page.locator("dialog#help")).to_be_visible()
    ui.shot("help")
    keys.press("Escape")
    expect(ui.page.locator("dialog#help")).to_be_hidden()
    keys.press("/")
    expect(ui.page.locator("#search")).to_be_focused()
