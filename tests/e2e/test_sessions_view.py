"""The Sessions view: the catcher's recent SMTP sessions, refused ones in red, live, each with its dialogue."""

from __future__ import annotations

import base64
import re
import smtplib
from collections.abc import Callable

from playwright.sync_api import expect

from mailcatch.server import ServerThread
from tests import messages
from tests.e2e.helpers import UI

PHONE = {"width": 390, "height": 844}


def refused_session(catcher: ServerThread, helo: str = "bad.client.test") -> None:
    """A session refused twice: a command the server doesn't know, and a recipient outside --smtp-allowed-recipients."""
    with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, local_hostname=helo) as client:
        client.login("alice", "hunter2-secret")
        assert client.docmd("BOGUS")[0] == 500
        assert client.mail("app@example.com")[0] == 250
        assert client.rcpt("eve@elsewhere.test")[0] == 550


def test_sessions_are_listed_live_and_open_with_their_dialogue(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    catcher = start_catcher(smtp_allowed_recipients=r"@example\.com$")
    ui = open_ui(on=catcher)
    messages.send(catcher, messages.build("Welcome aboard"), helo="app.local")
    expect(ui.rows).to_have_count(1)
    refused_session(catcher)
    button = ui.page.locator("#sessions-btn")
    expect(button).to_have_attribute("data-alert", "true")  # a refused session arrived while the view was closed
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(ui.page.locator("#layout")).to_be_hidden()
    rows = ui.page.locator("#sessions-list .session-row")
    expect(rows).to_have_count(2)
    expect(ui.page.locator("#sessions-count")).to_have_text("2 sessions · 1 refused")
    newest, older = rows.nth(0), rows.nth(1)
    expect(newest).to_have_class(re.compile(r"\bis-refused\b"))
    expect(older).not_to_have_class(re.compile(r"\bis-refused\b"))
    expect(newest).to_contain_text("bad.client.test")
    expect(newest).to_contain_text("2 refused")
    expect(newest.locator(".session-refusal")).to_contain_text('500 Error: command "BOGUS" not recognized')
    expect(older).to_contain_text("app.local")
    expect(older).to_contain_text("1 message")
    expect(older).to_contain_text("QUIT")
    red = newest.locator(".session-badge.refused").evaluate("el => getComputedStyle(el).color")
    assert red != older.locator(".session-badge").evaluate("el => getComputedStyle(el).color")

    # Live: a session that ends while the view is open comes in at the top.
    messages.send(catcher, messages.build("Second one"), messages.build("Third one"), helo="batch.local")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("batch.local")
    expect(rows.first).to_contain_text("2 messages")

    # The refused session's dialogue: refusals in red, the password never shown.
    rows.nth(1).click()
    pane = ui.page.locator("#session-pane")
    expect(pane.locator(".session-title")).to_contain_text("Session from 127.0.0.1:")
    refusals = pane.locator(".line.is-refused")
    expect(refusals).to_have_count(2)
    expect(refusals.nth(1)).to_contain_text("550 5.1.0 Requested action not taken")
    expect(pane.locator(".transcript")).to_contain_text('AUTH PLAIN <username "alice", password hidden>')
    expect(pane).not_to_contain_text("hunter2")
    expect(pane).not_to_contain_text(base64.b64encode(b"\x00alice\x00hunter2-secret").decode())
    expect(pane.locator(".session-stored")).to_contain_text("none stored")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    ui.shot("sessions-refused")

    # The batch session links to both of its messages; a link opens the message in the reader.
    rows.first.click()
    links = pane.locator(".session-stored .session-message")
    expect(links).to_have_count(2)
    expect(pane.locator(".transcript .session-message")).to_have_count(2)  # the "queued as" replies link too
    ui.shot("sessions")
    links.first.click()
    expect(ui.page.locator("#reader-subject")).to_have_text("Second one")
    expect(ui.page.locator("#sessions-layout")).to_be_hidden()
    expect(button).to_have_attribute("aria-pressed", "false")

    # Keys: back in the view, j opens the next session, Escape closes it, then the view.
    button.click()
    expect(rows).to_have_count(3)
    ui.page.keyboard.press("j")
    expect(rows.first).to_have_attribute("aria-current", "true")
    ui.page.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    expect(pane.locator(".line.is-refused")).to_have_count(2)
    ui.page.keyboard.press("Escape")
    expect(pane).to_contain_text("Select a session")
    ui.page.keyboard.press("Escape")
    expect(ui.page.locator("#sessions-layout")).to_be_hidden()
    expect(ui.page.locator("#layout")).to_be_visible()


def test_the_sessions_view_in_dark_mode(open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]) -> None:
    catcher = start_catcher(smtp_allowed_recipients=r"@example\.com$")
    messages.send(catcher, messages.build("Password reset"), helo="app.local")
    refused_session(catcher)
    ui = open_ui(on=catcher, color_scheme="dark", goto=False).goto("#sessions=")
    rows = ui.page.locator("#sessions-list .session-row")
    expect(rows).to_have_count(2)
    rows.nth(1).click()
    expect(ui.page.locator("#session-pane .session-stored .session-message")).to_have_count(1)
    ui.shot("sessions-dark")
    rows.first.click()
    expect(ui.page.locator("#session-pane .line.is-refused")).to_have_count(2)
    ui.shot("sessions-dark-refused")


def test_the_sessions_view_on_a_390_px_phone(
    open_ui: Callable[..., UI], start_catcher: Callable[..., ServerThread]
) -> None:
    catcher = start_catcher(smtp_allowed_recipients=r"@example\.com$")
    messages.send(catcher, messages.build("Order shipped"), helo="shop.app.local")
    refused_session(catcher)
    for scheme in ("light", "dark"):
        ui = open_ui(on=catcher, viewport=PHONE, color_scheme=scheme)
        button = ui.page.locator("#sessions-btn")
        box, brand = button.bounding_box(), ui.page.locator(".brand").bounding_box()
        assert box is not None and brand is not None and box["x"] + box["width"] <= PHONE["width"]
        assert abs(box["y"] + box["height"] / 2 - (brand["y"] + brand["height"] / 2)) < 4  # the top bar is one row
        button.click()
        rows = ui.page.locator("#sessions-list .session-row")
        expect(rows).to_have_count(2)
        assert ui.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        ui.shot(f"sessions-phone-{scheme}")
        rows.first.click()
        pane = ui.page.locator("#session-pane")
        expect(pane.locator(".line.is-refused")).to_have_count(2)
        expect(ui.page.locator("#sessions-list")).to_be_hidden()  # one pane at a time
        ui.shot(f"sessions-phone-session-{scheme}")
        pane.get_by_role("button", name="Back to the sessions").click()
        expect(rows).to_have_count(2)
        expect(ui.page.locator("#sessions-list")).to_be_visible()
