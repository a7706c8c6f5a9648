"""Previews of text attachments: shown as text (markup and scripts stay text), in their charset; other kinds aren't."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

from playwright.sync_api import expect

from tests import messages
from tests.e2e.helpers import UI

LOG = "2024-03-01 12:00:00 INFO started\n<script>window.__ran = true</script>\n<b>not bold</b>\n" + "".join(
    f"line {n}\n" for n in range(40)
)


def _with_attachments() -> EmailMessage:
    message = messages.build("Nightly export", text="See the attachments.")
    message.add_attachment(LOG.encode(), maintype="text", subtype="plain", filename="server.log")
    message.add_attachment(
        "name;city\nZoë;Köln\n".encode("iso-8859-1"),
        maintype="text",
        subtype="csv",
        filename="people.csv",
        params={"charset": "iso-8859-1"},
    )
    message.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment(messages.png(), maintype="image", subtype="png", filename="chart.png")
    return message


def test_text_attachments_are_previewed_as_text(open_ui: Callable[..., UI]) -> None:
    ui = open_ui()
    ui.send(_with_attachments())
    ui.open("Nightly export")
    ui.tab("Attachments").click()
    page = ui.page
    cards = page.locator(".attachment")
    expect(cards).to_have_count(4)
    log_card = cards.filter(has_text="server.log")
    expect(log_card.locator(".att-text-thumb")).to_contain_text("INFO started")
    # Text parts get a Preview button, and PDFs (test_pdf_preview.py); images show themselves.
    expect(page.get_by_role("button", name="Preview server.log")).to_be_visible()
    expect(page.get_by_role("button", name="Preview people.csv")).to_be_visible()
    expect(page.get_by_role("button", name="Preview report.pdf")).to_be_visible()
    expect(page.get_by_role("button", name="Preview chart.png")).to_have_count(0)
    ui.shot("attachments-text-light")

    page.get_by_role("button", name="Preview server.log").click()
    dialog = page.locator("dialog.att-dialog")
    expect(dialog).to_be_visible()
    body = dialog.locator(".att-text-full")
    expect(body).to_contain_text("line 39")
    assert body.text_content() == LOG  # every character as sent, markup included
    expect(body.locator("script, b")).to_have_count(0)
    assert page.evaluate("window.__ran") is None
    ui.shot("attachment-preview-dialog")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)

    page.get_by_role("button", name="Preview people.csv").click()
    expect(page.locator("dialog.att-dialog .att-text-full")).to_have_text("name;city\nZoë;Köln\n")
    page.keyboard.press("Escape")
    expect(page.locator("dialog.att-dialog")).to_have_count(0)

    dark = open_ui(color_scheme="dark", viewport={"width": 390, "height": 844})
    dark.open("Nightly export")
    dark.tab("Attachments").click()
    expect(dark.page.locator(".att-text-thumb").first).to_contain_text("INFO started")
    dark.shot("attachments-text-phone-dark")
