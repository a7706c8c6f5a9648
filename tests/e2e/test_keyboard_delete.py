"""Deleting: the keys act on the open message, the reader follows the cursor, and a delete can be undone."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI


def _server_subjects(ui: UI) -> list[str]:
    with ui.api() as api:
        return [m["Subject"] for m in api.get("/api/v1/messages").json()["messages"]]


def _wait_for_server(ui: UI, subjects: list[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while (found := _server_subjects(ui)) != subjects:
        assert time.monotonic() < deadline, f"the server has {found}, not {subjects}"
        time.sleep(0.1)


def test_j_moves_the_open_message_and_delete_removes_that_one_with_undo(ui: UI) -> None:
    for n in range(1, 5):
        ui.send(messages.build(f"Message {n}"))
    expect(ui.rows).to_have_count(4)
    page = ui.page
    subject = page.locator("#reader-subject")
    current = page.locator("#list .row[aria-current=true] .row-subject")
    cursor = page.locator("#list .row[aria-selected=true] .row-subject")

    ui.open("Message 3")  # the second row
    page.keyboard.press("j")
    # The reader follows the cursor: they never disagree.
    expect(subject).to_have_text("Message 2")
    expect(current).to_have_text("Message 2")
    expect(cursor).to_have_text("Message 2")

    page.keyboard.press("Delete")
    expect(ui.row("Message 2")).to_have_count(0)
    expect(ui.rows).to_have_count(3)
    expect(subject).to_have_text("Message 1")  # the next one down opens in its place
    expect(page.locator("#list-count")).to_have_text("3 messages · 1 unread")
    toast = page.locator(".toast", has_text="Message deleted")
    expect(toast.get_by_role("button", name="Undo")).to_be_visible()
    ui.shot("delete-undo-toast")

    toast.get_by_role("button", name="Undo").click()
    expect(ui.rows).to_have_count(4)
    expect(ui.rows.nth(2)).to_contain_text("Message 2")  # back where it was
    expect(subject).to_have_text("Message 2")
    expect(page.locator("#list-count")).to_have_text("4 messages · 1 unread")

    # The reader's Delete button acts on the same message; this time the undo runs out.
    page.locator(".reader-actions").get_by_role("button", name="Delete").click()
    expect(ui.row("Message 2")).to_have_count(0)
    expect(subject).to_have_text("Message 1")
    _wait_for_server(ui, ["Message 4", "Message 3", "Message 1"])
    expect(page.locator(".toast", has_text="Message deleted")).to_have_count(0)
    expect(ui.rows).to_have_count(3)
    expect(page.locator("#list-count")).to_have_text("3 messages · 1 unread")

    # u marks the open message, whichever way it was reached.
    page.keyboard.press("k")
    expect(subject).to_have_text("Message 3")
    page.keyboard.press("u")
    expect(ui.row("Message 3")).to_have_class(re.compile(r"\bis-unread\b.*\bis-open\b"))
    with ui.api() as api:
        assert [m["Read"] for m in api.get("/api/v1/messages").json()["messages"]] == [False, False, True]


def test_closing_the_page_sends_a_delete_still_waiting_for_its_undo(ui: UI) -> None:
    for n in range(1, 4):
        ui.send(messages.build(f"Note {n}"))
    expect(ui.rows).to_have_count(3)
    ui.page.locator("#list").focus()
    ui.page.keyboard.press("Home")
    ui.page.keyboard.press("Delete")
    expect(ui.row("Note 3")).to_have_count(0)
    expect(ui.page.locator(".toast", has_text="Message deleted")).to_be_visible()
    ui.page.reload()  # the page goes away within the undo's time: the delete is sent as it leaves
    ui.page.wait_for_selector("html[data-ready=true]")
    _wait_for_server(ui, ["Note 2", "Note 1"])
    ui.page.reload()
    ui.page.wait_for_selector("html[data-ready=true]")
    expect(ui.rows).to_have_count(2)
