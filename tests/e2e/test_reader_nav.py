"""Previous and next in the reader: the messages above and below the open one, disabled at the ends."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI


def test_previous_and_next_walk_the_list(open_ui: Callable[..., UI]) -> None:
    ui = open_ui(goto=False)
    for n in range(1, 4):
        ui.send(messages.build(f"Step {n}"))
    ui.goto()
    expect(ui.rows).to_have_count(3)
    page = ui.page
    subject = page.locator("#reader-subject")
    previous = page.get_by_role("button", name="Previous message")
    following = page.get_by_role("button", name="Next message")

    ui.open("Step 2")
    expect(previous).to_be_enabled()
    expect(following).to_be_enabled()
    ui.shot("reader-nav-light")
    following.click()
    expect(subject).to_have_text("Step 1")
    expect(page.locator("#list .row[aria-current=true] .row-subject")).to_have_text("Step 1")
    expect(following).to_be_disabled()  # the last message
    previous.click()
    expect(subject).to_have_text("Step 2")
    previous.click()
    expect(subject).to_have_text("Step 3")
    expect(previous).to_be_disabled()  # the first
    # Each message opened this way is read, on the server too.
    with ui.api() as api:
        assert all(m["Read"] for m in api.get("/api/v1/messages").json()["messages"])
    expect(page).to_have_title("mailcatch")

    phone = open_ui(viewport={"width": 390, "height": 844}, color_scheme="dark")
    phone.open("Step 2")
    phone.page.get_by_role("button", name="Next message").click()
    expect(phone.page.locator("#reader-subject")).to_have_text("Step 1")
    phone.shot("reader-nav-phone-dark")
