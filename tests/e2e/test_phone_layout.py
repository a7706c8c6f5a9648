"""A 390 px phone: every view's tab fits; the top bar names what its buttons act on (the matches, during a search)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI

PHONE = {"width": 390, "height": 844}


def test_every_tab_fits_on_a_390_px_phone(open_ui: Callable[..., UI]) -> None:
    for scheme in ("light", "dark"):
        ui = open_ui(viewport=PHONE, color_scheme=scheme)
        if scheme == "light":
            ui.send(messages.rich())
        expect(ui.rows).to_have_count(1)
        ui.open("Your Acme invoice")
        tabs = ui.page.get_by_role("tab")
        names = ["HTML", "Text", "Headers", "Raw", "Transcript", "Attachments", "Checks"]
        assert [tabs.nth(i).get_attribute("aria-label") for i in range(tabs.count())] == names
        for i in range(len(names)):
            box = tabs.nth(i).bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (i, box)
        attachments = ui.tab("Attachments")
        expect(attachments).to_contain_text("3")  # its count is in view too
        # Nothing in the strip is clipped: its content is no wider than the strip.
        strip = ui.page.locator(".tabs")
        assert strip.evaluate("el => el.scrollWidth <= el.clientWidth"), "the tab strip scrolls"
        attachments.click()
        expect(ui.page.locator(".attachment")).to_have_count(3)
        ui.shot(f"phone-attachments-{scheme}")


def test_the_delete_button_says_matches_during_a_search(ui: UI) -> None:
    messages.send(ui.catcher, *[messages.build(f"Order {n}") for n in range(3)], messages.build("Weekly digest"))
    expect(ui.rows).to_have_count(4)
    delete = ui.page.locator("#delete-all")
    expect(delete).to_have_text("Delete all")
    ui.page.locator("#search").fill("subject:order")
    ui.page.keyboard.press("Enter")
    expect(ui.rows).to_have_count(3)
    expect(delete).to_have_text("Delete matches")
    delete.click()
    dialog = ui.page.locator("dialog#confirm")
    expect(dialog).to_contain_text("Delete 3 matching messages?")
    ui.shot("delete-matches-confirm")
    dialog.get_by_role("button", name="Delete matches").click()
    expect(ui.rows).to_have_count(0)
    ui.page.get_by_role("button", name="Clear search").click()
    expect(delete).to_have_text("Delete all")
    expect(ui.rows).to_have_count(1)
    expect(ui.rows.first).to_contain_text("Weekly digest")


def test_mark_read_during_a_search_marks_the_matches(open_ui: Callable[..., UI]) -> None:
    """Beside Delete matches, the other top-bar button acts on the matches too, and says so."""
    ui = open_ui()
    messages.send(ui.catcher, *[messages.build(f"Order {n}") for n in range(3)], messages.build("Weekly digest"))
    expect(ui.rows).to_have_count(4)
    mark = ui.page.locator("#mark-all-read")
    expect(mark).to_have_text("Mark all read")
    ui.page.locator("#search").fill("subject:order")
    ui.page.keyboard.press("Enter")
    expect(ui.rows).to_have_count(3)
    expect(mark).to_have_text("Mark matches read")
    mark.click()
    for n in range(3):
        expect(ui.row(f"Order {n}")).not_to_have_class(re.compile(r"\bis-unread\b"))
    with ui.api() as api:
        read = {m["Subject"]: m["Read"] for m in api.get("/api/v1/messages").json()["messages"]}
    assert read == {"Order 0": True, "Order 1": True, "Order 2": True, "Weekly digest": False}
    ui.page.get_by_role("button", name="Clear search").click()
    expect(mark).to_have_text("Mark all read")
    expect(ui.page.locator("#list-count")).to_have_text("4 messages · 1 unread")
    expect(ui.row("Weekly digest")).to_have_class(re.compile(r"\bis-unread\b"))

    phone = open_ui(viewport=PHONE, color_scheme="dark")
    phone.page.locator("#search").fill("subject:digest")
    phone.page.keyboard.press("Enter")
    expect(phone.rows).to_have_count(1)
    # The top bar still fits: the phone's label is the short one, its accessible name the whole.
    expect(phone.page.locator("#mark-all-read")).to_have_text("Mark read")
    expect(phone.page.get_by_role("button", name="Mark matches read")).to_be_visible()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # One row: the logo beside the buttons (the keyboard-shortcuts button, of no use without keys, gives way).
    brand = phone.page.locator(".topbar .brand").bounding_box()
    delete = phone.page.locator("#delete-all").bounding_box()
    assert brand is not None and delete is not None
    assert abs((brand["y"] + brand["height"] / 2) - (delete["y"] + delete["height"] / 2)) < 8, (brand, delete)
    expect(phone.page.locator("#help-btn")).to_be_hidden()
    phone.shot("search-top-bar-phone-dark")
