"""Editing the open message's tags: add (with the mailbox's tags suggested), remove, and changes made elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI


def _server_tags(ui: UI, subject: str) -> list[str]:
    with ui.api() as api:
        found = [m for m in api.get("/api/v1/messages").json()["messages"] if m["Subject"] == subject]
    assert len(found) == 1, found
    tags: list[str] = found[0]["Tags"]
    return tags


def _wait_for_tags(ui: UI, subject: str, tags: list[str], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (found := _server_tags(ui, subject)) != tags:
        assert time.monotonic() < deadline, f"the server has tags {found}, not {tags}"
        time.sleep(0.05)


def test_tags_are_added_and_removed_in_the_reader(ui: UI) -> None:
    ui.send(messages.build("Deploy report", **{"X-Tags": "staging"}))
    ui.send(messages.rich())
    expect(ui.rows).to_have_count(2)
    ui.open("Your Acme invoice")
    page = ui.page
    tags = page.locator(".head-tags")
    names = tags.locator(".tag-name")
    expect(names).to_have_text(["billing"])

    tags.get_by_role("button", name="+ Tag").click()
    field = tags.get_by_role("combobox", name="New tag")
    expect(field).to_be_focused()
    # The mailbox's other tags are suggested; the message's own are not.
    expect(tags.locator("datalist option")).to_have_count(1)
    assert tags.locator("datalist option").get_attribute("value") == "staging"
    field.fill("urgent")
    ui.shot("tags-editing-light")
    field.press("Enter")
    expect(names).to_have_text(["billing", "urgent"])
    _wait_for_tags(ui, "Your Acme invoice #2024-0193 is ready", ["billing", "urgent"])
    expect(ui.row("Your Acme invoice").locator(".tag")).to_have_text(["billing", "urgent"])

    tags.get_by_role("button", name="Remove tag billing").click()
    expect(names).to_have_text(["urgent"])
    _wait_for_tags(ui, "Your Acme invoice #2024-0193 is ready", ["urgent"])
    expect(ui.row("Your Acme invoice").locator(".tag")).to_have_text(["urgent"])

    # t opens the field; the tag is cleaned as the server cleans it; Escape leaves nothing.
    page.locator("#list").focus()
    page.keyboard.press("t")
    expect(field).to_be_focused()
    field.fill("Needs review!")
    field.press("Enter")
    expect(names).to_have_text(["Needs review", "urgent"])
    _wait_for_tags(ui, "Your Acme invoice #2024-0193 is ready", ["Needs review", "urgent"])
    page.keyboard.press("t")
    field.fill("never saved")
    field.press("Escape")
    expect(field).to_have_count(0)
    expect(names).to_have_text(["Needs review", "urgent"])
    expect(page.locator("#reader-subject")).to_be_visible()  # Escape closed the field, not the message

    # Changed by another client: the reader follows.
    with ui.api() as api:
        invoice = [m["ID"] for m in api.get("/api/v1/messages").json()["messages"] if m["Subject"].startswith("Your")]
        api.put("/api/v1/tags", json={"IDs": invoice, "Tags": ["paid"]})
    expect(names).to_have_text(["paid"])
    expect(ui.row("Your Acme invoice").locator(".tag")).to_have_text(["paid"])

    # A tag still searches for its messages.
    tags.get_by_role("button", name="paid", exact=True).click()
    expect(page.locator("#search")).to_have_value("tag:paid")
    expect(ui.rows).to_have_count(1)


def test_the_tag_editor_in_dark_mode_and_on_a_phone(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(color_scheme="dark")
    ui.send(messages.rich())
    ui.open("Your Acme invoice")
    ui.page.keyboard.press("t")
    ui.page.get_by_role("combobox", name="New tag").fill("customer-42")
    ui.page.keyboard.press("Enter")
    expect(ui.page.locator(".head-tags .tag-name")).to_have_text(["billing", "customer-42"])
    ui.shot("tags-dark")
    phone = open_ui(viewport={"width": 390, "height": 844})
    phone.open("Your Acme invoice")
    expect(phone.page.locator(".head-tags .tag-name")).to_have_text(["billing", "customer-42"])
    phone.shot("tags-phone")
