"""The reader's Release button: shown only with a relay configured; its dialog sends the message to a second catcher."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import expect

from mailcatch.relay import RelayConfig
from mailcatch.server import ServerThread
from tests import messages
from tests.e2e.helpers import UI
from tests.helpers import wait_for_count


def test_release_through_the_dialog_to_a_second_catcher(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    target = start_catcher()
    relay = RelayConfig(
        host=target.smtp_host,
        port=target.smtp_port,
        allowed_recipients=r"@example\.(com|net)$",
        blocked_recipients="^ceo@",
    )
    source = start_catcher(relay=relay)
    messages.send(
        source, messages.build("Your order has shipped", to="Ivy Lee <ivy@example.com>", sender="shop@acme.test")
    )
    ui = open_ui(on=source)
    ui.open("Your order has shipped")
    page = ui.page

    button = page.get_by_role("button", name="Release")
    expect(button).to_be_visible()
    button.click()
    dialog = page.get_by_role("dialog", name="Release message")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"{target.smtp_host}:{target.smtp_port}")
    expect(dialog).to_contain_text(r"Allowed recipients@example\.(com|net)$")
    expect(dialog).to_contain_text("Blocked recipients^ceo@")
    to = dialog.get_by_label("To")
    expect(to).to_have_value("ivy@example.com")
    expect(to).to_be_focused()
    ui.shot("release-dialog")

    to.fill("ivy@example.com, someone@example.org")
    dialog.get_by_role("button", name="Release").click()
    error = dialog.get_by_role("alert")
    expect(error).to_have_text(
        r"Failed: 1 address does not match the allowlist (@example\.(com|net)$): someone@example.org"
    )
    ui.shot("release-refused")
    with httpx.Client(base_url=target.url, timeout=10) as api:
        assert api.get("/api/v1/messages").json()["total"] == 0  # nothing was sent

    to.fill("ivy@example.com; team@example.net")
    dialog.get_by_role("button", name="Release").click()
    expect(dialog.locator(".release-result")).to_have_text("Released to ivy@example.com, team@example.net.")
    expect(dialog.get_by_role("button", name="Close")).to_be_visible()
    ui.shot("release-done")
    with httpx.Client(base_url=target.url, timeout=10) as api:
        listing = wait_for_count(api, 1)
        assert [m["Subject"] for m in listing["messages"]] == ["Your order has shipped"]
        envelope = api.get("/api/v1/message/latest").json()["Envelope"]
    assert envelope["To"] == ["ivy@example.com", "team@example.net"]

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    dark = open_ui(on=source, color_scheme="dark")
    dark.open("Your order has shipped")
    dark.page.get_by_role("button", name="Release").click()
    dark_dialog = dark.page.get_by_role("dialog", name="Release message")
    dark_dialog.get_by_label("To").fill("ceo@example.com")
    dark_dialog.get_by_role("button", name="Release").click()
    expect(dark_dialog.get_by_role("alert")).to_have_text("Failed: 1 address found on the blocklist: ceo@example.com")
    dark.shot("release-refused-dark")


def test_no_release_button_without_a_relay(ui: UI) -> None:
    ui.send(messages.build("Nothing to relay"))
    ui.open("Nothing to relay")
    expect(ui.page.get_by_role("button", name="Delete", exact=True)).to_be_visible()
    button = ui.page.locator("[data-action=release]")
    expect(button).to_have_attribute("data-relay", "off")  # /api/v1/webui was read: relaying is off
    expect(button).to_be_hidden()
    expect(ui.page.get_by_role("button", name=re.compile("^Release"))).to_have_count(0)
