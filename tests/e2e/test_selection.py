"""Several messages at once: tick boxes (a shift-click ticks a range, x the cursor's row), then mark, tag or delete them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI


def _server(ui: UI) -> dict[str, dict[str, Any]]:
    with ui.api() as api:
        return {m["Subject"]: m for m in api.get("/api/v1/messages").json()["messages"]}


def _wait(ui: UI, check: Callable[[dict[str, dict[str, Any]]], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check(found := _server(ui)):
        assert time.monotonic() < deadline, f"the server never had {what}: {found}"
        time.sleep(0.1)


def test_select_several_then_mark_tag_and_delete_them(ui: UI) -> None:
    for n in range(1, 6):
        ui.send(messages.build(f"Batch {n}", **({"X-Tags": "old"} if n == 4 else {})))
    expect(ui.rows).to_have_count(5)
    page = ui.page
    bar = page.locator("#select-bar")
    expect(bar).to_be_hidden()

    # Rows are Batch 5 .. Batch 1. Tick Batch 5, shift-tick Batch 3: 5, 4 and 3.
    ui.row("Batch 5").locator(".row-check").click()
    expect(bar).to_be_visible()
    expect(page.locator("#select-count")).to_have_text("1 selected")
    ui.row("Batch 3").locator(".row-check").click(modifiers=["Shift"])
    expect(page.locator("#select-count")).to_have_text("3 selected")
    expect(page.locator("#reader-subject")).to_have_count(0)  # ticking opens nothing
    # x ticks the row under the cursor.
    page.locator("#list").focus()
    page.keyboard.press("End")
    page.keyboard.press("x")
    expect(page.locator("#select-count")).to_have_text("4 selected")
    expect(page.locator("#list .row.is-selected")).to_have_count(4)
    ui.shot("selection-light")

    bar.get_by_role("button", name="Mark read").click()
    _wait(ui, lambda s: [s[f"Batch {n}"]["Read"] for n in range(1, 6)] == [True, False, True, True, True], "4 read")
    expect(page.locator("#list-count")).to_have_text("5 messages · 1 unread")
    bar.get_by_role("button", name="Mark unread").click()
    _wait(ui, lambda s: not any(m["Read"] for m in s.values()), "all unread")
    expect(page.locator("#list-count")).to_have_text("5 messages · 5 unread")

    # Tag them: messages with other tags keep theirs.
    bar.get_by_role("button", name="Tags…").click()
    dialog = page.locator("dialog#tag-dialog")
    expect(dialog).to_contain_text("Tags of 4 selected messages")
    dialog.get_by_role("combobox", name="Tag").fill("release-3")
    ui.shot("selection-tag-dialog")
    dialog.get_by_role("button", name="Add").click()
    _wait(
        ui,
        lambda s: (
            [s[f"Batch {n}"]["Tags"] for n in range(1, 6)]
            == [["release-3"], [], ["release-3"], ["old", "release-3"], ["release-3"]]
        ),
        "the tags",
    )
    expect(ui.row("Batch 4").locator(".tag")).to_have_text(["old", "release-3"])
    bar.get_by_role("button", name="Tags…").click()
    dialog.get_by_role("combobox", name="Tag").fill("old")
    dialog.get_by_role("button", name="Remove").click()
    _wait(ui, lambda s: s["Batch 4"]["Tags"] == ["release-3"], "old removed")
    expect(ui.row("Batch 4").locator(".tag")).to_have_text(["release-3"])

    # Delete them (with undo), then the selection is gone.
    bar.get_by_role("button", name="Delete").click()
    expect(ui.rows).to_have_count(1)
    expect(ui.rows.first).to_contain_text("Batch 2")
    expect(page.locator(".toast", has_text="4 messages deleted")).to_be_visible()
    expect(bar).to_be_hidden()
    _wait(ui, lambda s: list(s) == ["Batch 2"], "only Batch 2")


def test_escape_clears_the_selection_and_undo_brings_a_deleted_selection_back(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(color_scheme="dark")
    for n in range(1, 4):
        ui.send(messages.build(f"Pick {n}"))
    expect(ui.rows).to_have_count(3)
    page = ui.page
    ui.row("Pick 3").locator(".row-check").click()
    ui.row("Pick 1").locator(".row-check").click()
    expect(page.locator("#select-count")).to_have_text("2 selected")
    ui.shot("selection-dark")
    page.keyboard.press("Escape")
    expect(page.locator("#select-bar")).to_be_hidden()
    expect(page.locator("#list .row.is-selected")).to_have_count(0)

    ui.row("Pick 3").locator(".row-check").click()
    ui.row("Pick 1").locator(".row-check").click()
    page.locator("#list").focus()
    page.keyboard.press("Delete")  # with a selection, Delete deletes it
    expect(ui.rows).to_have_count(1)
    page.locator(".toast", has_text="2 messages deleted").get_by_role("button", name="Undo").click()
    expect(ui.rows).to_have_count(3)
    expect(ui.rows.nth(0)).to_contain_text("Pick 3")
    expect(ui.rows.nth(2)).to_contain_text("Pick 1")
    expect(ui.rows.nth(0)).not_to_have_class(re.compile(r"\bis-selected\b"))
    phone = open_ui(viewport={"width": 390, "height": 844})
    phone.row("Pick 2").locator(".row-check").click()
    expect(phone.page.locator("#select-bar")).to_be_visible()
    phone.shot("selection-phone")
